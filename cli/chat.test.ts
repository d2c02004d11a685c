/** `parley chat` driven through its stdin and stdout, as a child process, against a real server. */
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from '../index.js';
import { ParleyClient } from '../harness/client/index.js';
import { COLORS, NO_COLORS, parseInput, promptFor, renderMessage, useColor, visible } from './chat-view.js';
import { selfSigned } from '../test/helpers.js';

const MAIN = join(__dirname, 'main.js');

/** `parley chat` as a child process; `seen` waits (bounded) for text on its stdout. */
function spawnChat(
  t: ExecutionContext,
  args: string[],
): { child: ChildProcessWithoutNullStreams; out: () => string; err: () => string; seen: (text: string) => Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, 'chat', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill());
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const seen = async (text: string): Promise<void> => {
    for (let i = 0; i < 600 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    if (!out.includes(text)) throw new Error(`chat output never showed "${text}":\n${out}\n${err}`);
  };
  return { child, out: () => out, err: () => err, seen, exit };
}

test('chat input - plain text goes to the current channel and commands parse', (t) => {
  t.deepEqual(parseInput('hello there', '#lobby'), { kind: 'send', command: { verb: 'MSG', target: '#lobby', text: 'hello there' } });
  t.is(parseInput('hello', undefined).kind, 'error');
  t.deepEqual(parseInput('/msg bob hi: there', '#x'), { kind: 'send', command: { verb: 'MSG', target: 'bob', text: 'hi: there' } });
  t.deepEqual(parseInput('/join #dev', '#x'), { kind: 'send', command: { verb: 'JOIN', channel: '#dev' }, current: '#dev' });
  t.deepEqual(parseInput('/talk bob', undefined), { kind: 'send', command: { verb: 'TALK', target: 'bob', keyword: 'REQUEST' } });
  t.deepEqual(parseInput('/accept', undefined), { kind: 'answer', keyword: 'ACCEPT' });
  t.deepEqual(parseInput('/QUIT', undefined), { kind: 'quit' });
  t.is(parseInput('/frobnicate', undefined).kind, 'error');
});

test('chat view - channel messages, DMs and errors render for people', (t) => {
  t.is(renderMessage({ type: 'MSG', sender: 'bob', recipient: '#dev', text: 'hi' }, 'me'), '[#dev] <bob> hi');
  t.is(renderMessage({ type: 'MSG', sender: 'bob', recipient: 'me', text: 'psst' }, 'me'), '*bob* psst');
  t.is(renderMessage({ type: 'ERROR', code: 'NO_SUCH_USER', text: 'no such user: x' }, 'me'), '!! NO_SUCH_USER: no such user: x');
  t.is(renderMessage({ type: 'PING', value: '1' }, 'me'), undefined);
});

test('chat view - every control character is shown visibly, never passed through', (t) => {
  t.is(visible('a\x1b[2Jb'), 'a^[[2Jb');
  t.is(visible('\x00\x07\t\r\n\x7f'), '^@^G^I^M^J^?');
  t.is(visible('x\u009b31my'), 'x\\x9b31my');
  t.is(visible('ünïcode ✓'), 'ünïcode ✓');
  const line = renderMessage({ type: 'MSG', sender: 'bob', recipient: '#dev', text: '\x1b]0;pwned\x07\u0085' }, 'me', COLORS)!;
  // The only ESCs are the view's own colour codes around the sender and channel.
  t.is(line.replace(/\x1b\[\d+m/g, ''), '[#dev] <bob> ^[]0;pwned^G\\x85');
  t.is(renderMessage({ type: 'DISCONNECT', reason: 'bye\x1bc' }, 'me'), '-- disconnected by the server: bye^[c');
});

test('chat view - colours only on a terminal and never with NO_COLOR; the prompt shows the channel', (t) => {
  t.true(useColor(true, {}));
  t.true(useColor(true, { NO_COLOR: '' }));
  t.false(useColor(true, { NO_COLOR: '1' }));
  t.false(useColor(false, {}));
  t.false(useColor(undefined, {}));
  t.is(renderMessage({ type: 'ERROR', code: 'X', text: 'y' }, 'me', COLORS), '\x1b[31m!! X: y\x1b[39m');
  t.is(renderMessage({ type: 'ERROR', code: 'X', text: 'y' }, 'me', NO_COLORS), '!! X: y');
  t.is(promptFor('carol', '#dev'), '#dev carol> ');
  t.is(promptFor('carol', undefined), 'carol> ');
});

test('parley chat - joins, talks, receives, answers a call and quits through stdin', async (t) => {
  const server = createServer({ logger: 'silent', hostname: 'chat.test' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const bob = await ParleyClient.connect({ port, nick: 'bob', timeoutMs: 30_000 });
  t.teardown(() => bob.destroy());
  await bob.join('#dev');

  const child = spawn(process.execPath, [MAIN, 'chat', '--nick', 'carol', '--target', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill());
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const seen = async (text: string): Promise<void> => {
    for (let i = 0; i < 600 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    if (!out.includes(text)) throw new Error(`chat output never showed "${text}":\n${out}`);
  };

  await seen('-- in #lobby: bob, carol');
  child.stdin.write('/join #dev\n');
  await seen('-- in #dev: bob, carol');
  child.stdin.write('hello from the terminal\n');
  const msg = await bob.waitFor('MSG', (m) => m.sender === 'carol');
  t.is(msg.recipient, '#dev');
  t.is(msg.text, 'hello from the terminal');

  bob.say('carol', 'a direct word');
  await seen('*bob* a direct word');
  bob.say('#dev', 'to everyone');
  await seen('[#dev] <bob> to everyone');

  const key = await bob.talkRequest('carol');
  await seen('-- call with bob requested (key '); // carol's own key, not bob's (protocol 1.1.0)
  t.false(out.includes(key));
  child.stdin.write('/accept\n');
  const accepted = await bob.waitFor('TALK', (m) => m.event === 'ACCEPTED');
  t.is(accepted.key, key);

  child.stdin.write('/nonsense\n');
  await seen('!! unknown command /nonsense');
  child.stdin.write('/quit\n');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.is(code, 0);
  t.false(out.includes('\x1b'), 'no colours when stdout is not a terminal');
  const left = await bob.waitFor('USERLEAVE', (m) => m.nick === 'carol');
  t.truthy(left);
});

test('parley chat - a refused nickname exits 1 with the reason', async (t) => {
  const server = createServer({ logger: 'silent' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const child = spawn(process.execPath, [MAIN, 'chat', '--nick', '9bad', '--target', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill());
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.is(code, 1);
  t.regex(out, /!! NICK_INVALID/);
});

test('parley chat - a message carrying escape sequences arrives rendered visibly, with no raw ESC on stdout', async (t) => {
  const server = createServer({ logger: 'silent' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const mallory = await ParleyClient.connect({ port, nick: 'mallory', timeoutMs: 30_000 });
  t.teardown(() => mallory.destroy());
  const chat = spawnChat(t, ['--nick', 'carol', '--target', `127.0.0.1:${port}`]);
  await chat.seen('-- in #lobby: mallory, carol');
  mallory.say('#lobby', 'clear \x1b[2J\x1b[H title \x1b]0;owned\x07 csi \u009b2J del \x7f end');
  mallory.say('carol', 'dm \x1b[31mred');
  await chat.seen('[#lobby] <mallory> clear ^[[2J^[[H title ^[]0;owned^G csi \\x9b2J del ^? end');
  await chat.seen('*mallory* dm ^[[31mred');
  chat.child.stdin.end();
  t.is(await chat.exit, 0);
  t.false(chat.out().includes('\x1b'), 'no ESC byte on stdout');
  t.false(chat.out().includes('\x07'), 'no BEL byte on stdout');
  t.false(/[\x80-\x9f]/.test(Buffer.from(chat.out(), 'latin1').toString('utf8')), 'no C1 character on stdout');
});

test('parley chat - a nickname in use asks for another one, and the next line is tried', async (t) => {
  const server = createServer({ logger: 'silent', hostname: 'clash.test' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const bob = await ParleyClient.connect({ port, nick: 'bob', timeoutMs: 30_000 });
  t.teardown(() => bob.destroy());
  const chat = spawnChat(t, ['--nick', 'BOB', '--target', `127.0.0.1:${port}`]);
  await chat.seen('!! NICK_IN_USE');
  await chat.seen('-- type another nickname');
  chat.child.stdin.write('bob2\n');
  await chat.seen('-- connected to clash.test as bob2');
  await chat.seen('-- in #lobby: bob, bob2');
  chat.child.stdin.write('hello as bob2\n');
  const msg = await bob.waitFor('MSG', (m) => m.sender === 'bob2');
  t.is(msg.text, 'hello as bob2');
  chat.child.stdin.write('/quit\n');
  t.is(await chat.exit, 0);
});

test('parley chat - a nickname in use and then the end of input exits 1', async (t) => {
  const server = createServer({ logger: 'silent' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const bob = await ParleyClient.connect({ port, nick: 'bob', timeoutMs: 30_000 });
  t.teardown(() => bob.destroy());
  const chat = spawnChat(t, ['--nick', 'bob', '--target', `127.0.0.1:${port}`]);
  await chat.seen('-- type another nickname');
  chat.child.stdin.end();
  t.is(await chat.exit, 1);
});

test('parley chat --tls verifies the certificate: a self-signed one fails clearly, --insecure connects', async (t) => {
  const creds = selfSigned(t);
  if (!creds) return t.pass();
  const server = createServer({ logger: 'silent', hostname: 'tls.test', tls: creds });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());

  const strict = spawnChat(t, ['--nick', 'carol', '--tls', '--target', `127.0.0.1:${port}`]);
  t.is(await strict.exit, 1);
  t.regex(strict.err(), /^parley: chat: cannot connect to 127\.0\.0\.1:\d+: .*self-signed certificate/);
  t.regex(strict.err(), /certificate is not trusted.*add --insecure/);
  t.notRegex(strict.out(), /-- connected/);

  const insecure = spawnChat(t, ['--nick', 'carol', '--tls', '--insecure', '--target', `127.0.0.1:${port}`]);
  await insecure.seen('-- connected to tls.test as carol');
  insecure.child.stdin.write('/quit\n');
  t.is(await insecure.exit, 0);
});
