// Every wire error code of the text protocol, over real sockets. NO_SUCH_TALK and
// BUSY belong to the voice tests.
import test from 'ava';
import { definePlugin, ofVerb, PLUGIN_CONTEXT, WIRE_ERROR_CODES, type PluginContext, type PluginHooks, type PluginFailure } from '../index.js';
import { connect, connectInLobby, openClient, RawSocket, startServer, textPlugins } from './helpers.js';

/** The codes this file exercises; a new code in core/errors.ts fails the first test until it gets one. */
const COVERED = [
  'BAD_SYNTAX',
  'UNKNOWN_COMMAND',
  'NOT_CONNECTED',
  'ALREADY_CONNECTED',
  'VERSION_UNSUPPORTED',
  'AUTH_FAILED',
  'NICK_INVALID',
  'NICK_IN_USE',
  'CHANNEL_INVALID',
  'NOT_IN_CHANNEL',
  'NO_SUCH_USER',
  'LINE_TOO_LONG',
  'INTERNAL',
  'TOO_MANY_CHANNELS',
];
const VOICE_CODES = ['NO_SUCH_TALK', 'BUSY'];
/** Exercised by test/cluster.test.ts (Redis stopped under a node). */
const CLUSTER_CODES = ['UNAVAILABLE'];

test('ERROR - every wire code is covered here or by the voice or cluster tests', (t) => {
  t.deepEqual([...WIRE_ERROR_CODES].sort(), [...COVERED, ...VOICE_CODES, ...CLUSTER_CODES].sort());
});

test('BAD_SYNTAX - known verbs with missing or extra arguments, or a bad payload', async (t) => {
  const { port } = await startServer(t);
  const c = await connectInLobby(t, port, 'alice');
  const bad = ['MSG alice', 'MSG: hi', 'MSG a b: hi', 'JOIN', 'JOIN #a #b', 'JOIN #a: #b', 'LEAVE', 'PONG:', 'PONG', 'DISCONNECT now', ': no verb'];
  for (const line of bad) {
    c.sendRaw(`${line}\n`);
    const e = await c.waitForError();
    t.is(e.code, 'BAD_SYNTAX', line);
  }
  t.deepEqual(await c.join('#still-fine'), ['alice']);
});

test('BAD_SYNTAX - malformed CONNECT lines are refused and the connection stays open', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  const bad = [
    'CONNECT',
    'CONNECT: alice "A" 1.0.0',
    'CONNECT: "alice" 1.0.0',
    'CONNECT: "alice" "A"',
    'CONNECT: "alice" "A" 1.0',
    'CONNECT: "alice" "A" v1.0.0',
    'CONNECT: "alice" "A" 1.0.0 tok extra',
    'CONNECT: "alice""A" 1.0.0',
    'CONNECT x: "alice" "A" 1.0.0',
    `CONNECT: "alice" "${'r'.repeat(65)}" 1.0.0`,
    'CONNECT: "alice" "tab\there" 1.0.0',
  ];
  for (const line of bad) {
    c.sendRaw(`${line}\n`);
    t.is((await c.waitForError()).code, 'BAD_SYNTAX', line);
  }
  t.is(await c.hello('alice', 'r'.repeat(64)), 'test.parley');
});

test('BAD_SYNTAX - a line that is not valid UTF-8, before and after CONNECT', async (t) => {
  const { port } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  raw.write(Buffer.from([0x4d, 0x53, 0x47, 0x20, 0xff, 0xfe, 0x0a]));
  t.regex(await raw.waitLine((l) => l.startsWith('ERROR')), /^ERROR BAD_SYNTAX: /);
  raw.write('CONNECT: "alice" "" 1.0.0\n');
  await raw.waitLine((l) => l.startsWith('USERLIST'));
  // An overlong encoding and a lone surrogate are invalid too.
  raw.write(Buffer.concat([Buffer.from('MSG alice: '), Buffer.from([0xc0, 0x80]), Buffer.from('\n')]));
  raw.write(Buffer.concat([Buffer.from('MSG alice: '), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\nMSG alice: ok ü\n')]));
  t.is(await raw.waitLine((l) => l.startsWith('MSG')), 'MSG alice alice: ok ü');
  t.is(raw.lines.filter((l) => l.startsWith('ERROR BAD_SYNTAX')).length, 3);
});

test('UNKNOWN_COMMAND - names the verb, upper-cased, before and after CONNECT', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  c.sendRaw('frobnicate: x\n');
  t.deepEqual(await c.waitForError(), { type: 'ERROR', code: 'UNKNOWN_COMMAND', text: 'FROBNICATE' });
  await c.hello('alice');
  c.sendRaw('PRIVMSG #lobby :hi\n');
  t.deepEqual(await c.waitForError(), { type: 'ERROR', code: 'UNKNOWN_COMMAND', text: 'PRIVMSG' });
});

test('NOT_CONNECTED - owned verbs before CONNECT', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  c.sendRaw('MSG #lobby: hi\n');
  t.is((await c.waitForError()).code, 'NOT_CONNECTED');
});

test('ALREADY_CONNECTED - a second CONNECT', async (t) => {
  const { port } = await startServer(t);
  const c = await connect(t, port, 'alice');
  const again = c.hello('other');
  t.is((await t.throwsAsync(again))?.message, 'ALREADY_CONNECTED: already connected as alice');
  c.say('alice', 'still me');
  t.is((await c.waitFor('MSG')).sender, 'alice');
});

test('VERSION_UNSUPPORTED - another MAJOR version', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  for (const v of ['2.0.0', '0.9.9', '10.0.0']) {
    t.is((await t.throwsAsync(c.hello('alice', '', v)))?.message, `VERSION_UNSUPPORTED: protocol version ${v} is not supported (server speaks 1.1.0)`);
  }
});

test('AUTH_FAILED - the authentication hook refuses', async (t) => {
  const { port } = await startServer(t, { authenticate: (req) => req.token === 'letmein' });
  const c = await openClient(t, port);
  t.is((await t.throwsAsync(c.hello('alice', '', '1.0.0', 'wrong')))?.message, 'AUTH_FAILED: authentication failed');
  t.is(await c.hello('alice', '', '1.0.0', 'letmein'), 'test.parley');
});

test('NICK_INVALID - nicknames outside the grammar', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  for (const nick of ['1abc', '_x', 'a'.repeat(33), 'has space', 'dot.ted', '', 'ünï', '#chan']) {
    const err = await t.throwsAsync(c.hello(nick));
    t.is((err as { code?: string } | undefined)?.code, 'NICK_INVALID', nick);
  }
  t.is(await c.hello(`a${'b'.repeat(31)}`), 'test.parley'); // 32 characters is the maximum
});

test('NICK_IN_USE - nicknames compare case-insensitively', async (t) => {
  const { port } = await startServer(t);
  await connect(t, port, 'Alice');
  const c = await openClient(t, port);
  for (const nick of ['Alice', 'alice', 'ALICE']) {
    t.is((await t.throwsAsync(c.hello(nick)))?.message, `NICK_IN_USE: nickname is already in use: ${nick}`);
  }
  t.is(await c.hello('Alice2'), 'test.parley');
});

test('CHANNEL_INVALID - bad channel names in JOIN, LEAVE and MSG', async (t) => {
  const { port } = await startServer(t);
  const c = await connectInLobby(t, port, 'alice');
  for (const line of ['JOIN: lobby', 'JOIN: #', 'JOIN: #bad!', `JOIN: #${'x'.repeat(65)}`, 'LEAVE: #a.b', 'MSG #no*pe: hi']) {
    c.sendRaw(`${line}\n`);
    t.is((await c.waitForError()).code, 'CHANNEL_INVALID', line);
  }
  t.deepEqual(await c.join(`#${'x'.repeat(64)}`), ['alice']);
});

test('NOT_IN_CHANNEL - LEAVE or MSG of a channel the client is not in', async (t) => {
  const { port } = await startServer(t);
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connectInLobby(t, port, 'bob');
  await bob.join('#bobs');
  await t.throwsAsync(alice.leave('#bobs'), { message: 'NOT_IN_CHANNEL: you are not in #bobs' });
  await t.throwsAsync(alice.leave('#nowhere'), { message: 'NOT_IN_CHANNEL: you are not in #nowhere' });
  alice.say('#bobs', 'let me in');
  t.is((await alice.waitForError()).code, 'NOT_IN_CHANNEL');
  alice.say('#nowhere', 'hello?');
  t.is((await alice.waitForError()).code, 'NOT_IN_CHANNEL');
  // Bob got nothing from alice.
  bob.say('bob', 'barrier');
  await bob.waitFor('MSG', (m) => m.text === 'barrier');
  t.false(bob.inbox().some((m) => m.type === 'MSG'));
});

test('NO_SUCH_USER - a message to a nickname nobody has', async (t) => {
  const { port } = await startServer(t);
  const c = await connectInLobby(t, port, 'alice');
  c.say('ghost', 'boo');
  t.deepEqual(await c.waitForError(), { type: 'ERROR', code: 'NO_SUCH_USER', text: 'no such user: ghost' });
});

test('LINE_TOO_LONG - an overlong line is refused and the connection is kept', async (t) => {
  const { port } = await startServer(t, { limits: { maxLineBytes: 256 } });
  const c = await connectInLobby(t, port, 'alice');
  c.sendRaw(`MSG alice: ${'x'.repeat(300)}\nMSG alice: short\n`);
  t.deepEqual(await c.waitForError(), { type: 'ERROR', code: 'LINE_TOO_LONG', text: 'line exceeds 256 bytes' });
  t.is((await c.waitFor('MSG')).text, 'short');
});

test('LINE_TOO_LONG - a message whose relayed line exceeds the limit by its prefix is still delivered (PROTOCOL 1.1.0)', async (t) => {
  const { port } = await startServer(t, { limits: { maxLineBytes: 128 } });
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connectInLobby(t, port, 'bob');
  // 128 bytes with the \n: fits as a command; `MSG alice bob: ...` is longer by its prefix.
  const text = 'y'.repeat(128 - 'MSG bob: '.length - 1);
  alice.say('bob', text);
  t.is((await bob.waitFor('MSG')).text, text);
  t.false(alice.inbox().some((m) => m.type === 'ERROR'));
});

class FaultyPlugin implements PluginHooks {
  constructor(private readonly ctx: PluginContext) {}
  start(): void {
    this.ctx.handle(ofVerb('BOOM'), (a) => {
      if (a.payload === 'async') return Promise.reject(new Error('async kaboom'));
      throw new Error('kaboom');
    });
  }
}

test('INTERNAL - a throwing plugin answers that client only, and every session is still served', async (t) => {
  const faulty = definePlugin({ name: 'faulty', verbs: ['BOOM'], inject: [PLUGIN_CONTEXT], useClass: FaultyPlugin });
  const { server, port } = await startServer(t, { plugins: [...textPlugins(), faulty] });
  const failures: PluginFailure[] = [];
  server.errors$.subscribe((f) => failures.push(f));
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connectInLobby(t, port, 'bob');
  alice.sendRaw('BOOM\nBOOM: async\n');
  t.deepEqual(await alice.waitForError(), { type: 'ERROR', code: 'INTERNAL', text: 'internal error in faulty; nothing changed' });
  t.is((await alice.waitForError()).code, 'INTERNAL');
  t.deepEqual(
    failures.map((f) => [f.plugin, f.during, f.nick, (f.error as Error).message]),
    [
      ['faulty', 'BOOM', 'alice', 'kaboom'],
      ['faulty', 'BOOM', 'alice', 'async kaboom'],
    ],
  );
  // Both sessions, the failing one included, are still served.
  alice.say('#lobby', 'after the failure');
  t.is((await bob.waitFor('MSG')).text, 'after the failure');
  bob.say('alice', 'me too');
  t.is((await alice.waitFor('MSG')).text, 'me too');
  const carol = await connectInLobby(t, port, 'carol');
  t.deepEqual(await carol.join('#new'), ['carol']);
  t.false(bob.inbox().some((m) => m.type === 'ERROR'));
});

test('TOO_MANY_CHANNELS - a JOIN beyond maxChannelsPerUser', async (t) => {
  const { port } = await startServer(t, { plugins: textPlugins({ channels: { maxChannelsPerUser: 2 } }) });
  const c = await connectInLobby(t, port, 'alice');
  await c.join('#one');
  await t.throwsAsync(c.join('#two'), { message: 'TOO_MANY_CHANNELS: you are already in 2 channels' });
  // Joining a channel it is already in is no new membership.
  t.deepEqual(await c.join('#ONE'), ['alice']);
  await c.leave('#one');
  t.deepEqual(await c.join('#two'), ['alice']);
});

test('ERROR - an error quoting an overlong argument is cut to fit the line limit', async (t) => {
  const { port } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  raw.write(`${'X'.repeat(8190)}\n`);
  raw.write(`CONNECT: "${'é'.repeat(4080)}" "" 1.0.0\n`);
  raw.write('CONNECT: "alice" "" 1.0.0\n');
  await raw.waitLine((l) => l.startsWith('ACCEPT'));
  const [unknown, invalid] = raw.lines;
  for (const line of [unknown!, invalid!]) t.true(Buffer.byteLength(line) + 1 <= 8192, `${Buffer.byteLength(line) + 1} bytes`);
  t.regex(unknown!, /^ERROR UNKNOWN_COMMAND: X+\.\.\.$/);
  t.regex(invalid!, /^ERROR NICK_INVALID: invalid nickname: é+\.\.\.$/);
});
