// The handshake (PROTOCOL.md section 3): CONNECT, ACCEPT, auto-join, refusals, DISCONNECT.
import test from 'ava';
import { connect, connectInLobby, openClient, RawSocket, startServer } from './helpers.js';

test('CONNECT - ACCEPT carries the hostname, then JOINED #lobby and its USERLIST', async (t) => {
  const { port } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  raw.write('CONNECT: "alice" "Alice Liddell" 1.0.0\n');
  await raw.waitLine((l) => l.startsWith('USERLIST'));
  t.deepEqual(raw.lines, ['ACCEPT: test.parley', 'JOINED: #lobby', 'USERLIST #lobby: alice']);

  const bob = await connect(t, port, 'bob');
  t.deepEqual(await bob.waitFor('USERLIST'), { type: 'USERLIST', channel: '#lobby', nicks: ['alice', 'bob'] });
  t.is(await raw.waitLine((l) => l.startsWith('USERJOIN')), 'USERJOIN #lobby: bob');
});

test('CONNECT - hello resolves with the hostname and the nick is kept as spelled', async (t) => {
  const { port } = await startServer(t, { hostname: 'chat.example.org' });
  const c = await openClient(t, port);
  t.is(await c.hello('MiXeD', 'Real Name'), 'chat.example.org');
  t.is(c.nick, 'MiXeD');
  t.deepEqual((await c.waitFor('USERLIST')).nicks, ['MiXeD']);
});

test('CONNECT - a refused CONNECT leaves the connection open for another try', async (t) => {
  const { port } = await startServer(t);
  await connect(t, port, 'taken');
  const c = await openClient(t, port);
  const codes: string[] = [];
  for (const [nick, version] of [
    ['Taken', '1.0.0'],
    ['9lives', '1.0.0'],
    ['fresh', '2.0.0'],
  ] as const) {
    codes.push(
      await c.hello(nick, '', version).then(
        () => 'OK',
        (e: { code: string }) => e.code,
      ),
    );
  }
  c.sendRaw('CONNECT: "fresh" "bad"quote" 1.0.0\n');
  codes.push((await c.waitForError()).code);
  t.deepEqual(codes, ['NICK_IN_USE', 'NICK_INVALID', 'VERSION_UNSUPPORTED', 'BAD_SYNTAX']);
  t.is(await c.hello('fresh'), 'test.parley');
  t.false(c.closed);
});

test('CONNECT - another MINOR or PATCH version of the same MAJOR is accepted', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  t.is(await c.hello('alice', '', '1.42.7'), 'test.parley');
});

test('CONNECT - the verb and quotes may come in the forms the protocol allows', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  c.sendRaw('connect :  "alice"   "A"   1.0.0  \r\n');
  t.is((await c.waitFor('ACCEPT')).hostname, 'test.parley');
});

test('DISCONNECT - before CONNECT just closes the connection', async (t) => {
  const { port, server } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  raw.write('DISCONNECT\n');
  await raw.waitClosed();
  t.deepEqual(raw.lines, []);
  t.is(server.connectionCount, 0);
});

test('DISCONNECT - after CONNECT the server closes the socket and the others see USERLEAVE', async (t) => {
  const { port } = await startServer(t);
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connect(t, port, 'bob');
  await alice.waitFor('USERJOIN');
  bob.sendRaw('DISCONNECT: see you\n');
  t.is(await bob.done, undefined);
  t.deepEqual(await alice.waitFor('USERLEAVE'), { type: 'USERLEAVE', channel: '#lobby', nick: 'bob' });
});

test('CONNECT - verbs before CONNECT: NOT_CONNECTED for owned verbs, UNKNOWN_COMMAND for others', async (t) => {
  const { port } = await startServer(t);
  const c = await openClient(t, port);
  const lines = ['JOIN: #a', 'LEAVE: #a', 'MSG bob: hi', 'PONG: 1', 'TALK bob: REQUEST', 'FROB: x'];
  const codes: string[] = [];
  for (const line of lines) {
    c.sendRaw(`${line}\n`);
    const e = await c.waitForError();
    codes.push(`${e.code}: ${e.text}`);
  }
  t.deepEqual(codes, [
    'NOT_CONNECTED: send CONNECT first',
    'NOT_CONNECTED: send CONNECT first',
    'NOT_CONNECTED: send CONNECT first',
    'NOT_CONNECTED: send CONNECT first',
    // TALK belongs to voip, which this server does not run.
    'UNKNOWN_COMMAND: TALK',
    'UNKNOWN_COMMAND: FROB',
  ]);
  t.is(await c.hello('alice'), 'test.parley');
});

test('CONNECT - CR LF line ends and empty lines are accepted', async (t) => {
  const { port } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  raw.write('\r\n\n   \nCONNECT: "alice" "" 1.0.0\r\n\r\nMSG alice: back\r\n');
  t.is(await raw.waitLine((l) => l.startsWith('MSG')), 'MSG alice alice: back');
  t.false(raw.lines.some((l) => l.startsWith('ERROR')));
});
