/** `parley chat` driven through its stdin and stdout, as a child process, against a real server. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from '../index.js';
import { ParleyClient } from '../harness/client/index.js';
import { parseInput, renderMessage } from './chat-view.js';

const MAIN = join(__dirname, 'main.js');

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

test('parley chat - joins, talks, receives, answers a call and quits through stdin', async (t) => {
  const server = createServer({ logger: 'silent', hostname: 'chat.test' });
  const { port } = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  const bob = await ParleyClient.connect({ port, nick: 'bob' });
  t.teardown(() => bob.destroy());
  await bob.join('#dev');

  const child = spawn(process.execPath, [MAIN, 'chat', '--nick', 'carol', '--target', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill());
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const seen = async (text: string): Promise<void> => {
    for (let i = 0; i < 100 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
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
