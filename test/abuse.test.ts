// Hostile input: seeded random bytes and malformed lines on several raw sockets while
// normal clients keep chatting. The server must stay up and serve them.
import test from 'ava';
import { parseServerLine } from '../core/codec.js';
import { connectInLobby, RawSocket, sleep, startServer, until } from './helpers.js';

/** mulberry32: a small seeded PRNG, so that a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VERBS = ['CONNECT', 'JOIN', 'LEAVE', 'MSG', 'PONG', 'TALK', 'connect', 'msg', 'FOO', ':', ''];
const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]];

/** One hostile chunk: random bytes, a random command, a huge line, NULs, or invalid UTF-8. */
function chunk(rand: () => number): Buffer {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  switch (int(6)) {
    case 0:
      return Buffer.from(Array.from({ length: 1 + int(2000) }, () => int(256)));
    case 1: {
      const args = Array.from({ length: int(4) }, () => pick(['#lobby', '#calm', 'steady', 'peer', '#x', '"q"', 'a:b', '1.0.0', '\t']));
      return Buffer.from(`${pick(VERBS)} ${args.join(' ')}${rand() < 0.7 ? `: ${'p'.repeat(int(50))}` : ''}\n`);
    }
    case 2:
      return Buffer.from('h'.repeat(8000 + int(40_000)) + (rand() < 0.5 ? '\n' : ''));
    case 3:
      return Buffer.from(`MSG #calm: a\0b\0\0${'\0'.repeat(int(20))}\nJOIN: #\0\n\0\n`);
    case 4:
      return Buffer.concat([Buffer.from('MSG steady: '), Buffer.from(pick(INVALID_UTF8)), Buffer.from('tail\n')]);
    default:
      return Buffer.from(`CONNECT: "u${int(1e6)}" "" 1.0.0\nMSG #calm: hi\nMSG steady: spam ${int(100)}\nJOIN: #x${int(10)}\n`);
  }
}

test('abuse - random bytes on several sockets leave the server up and a normal chat intact', async (t) => {
  const { server, port } = await startServer(t, { limits: { maxConnectionsPerIp: 0 } });
  const steady = await connectInLobby(t, port, 'steady');
  const peer = await connectInLobby(t, port, 'peer');
  await steady.join('#calm');
  await peer.join('#calm');
  const rand = prng(20240611);
  const sockets = await Promise.all(Array.from({ length: 5 }, () => RawSocket.open(t, port)));
  const N = 100;
  let sent = 0;
  for (let i = 0; i < 200; i++) {
    let s = sockets[i % sockets.length]!;
    if (s.socket.destroyed) s = sockets[i % sockets.length] = await RawSocket.open(t, port);
    s.write(chunk(rand));
    if (i % 2 === 0 && sent < N) steady.say('#calm', `calm ${sent++}`);
    if (i % 20 === 0) await sleep(1);
  }
  while (sent < N) steady.say('#calm', `calm ${sent++}`);
  const got: string[] = [];
  for (let i = 0; i < N; i++) got.push((await peer.waitFor('MSG', (m) => m.sender === 'steady', 10_000)).text);
  t.deepEqual(
    got,
    Array.from({ length: N }, (_, i) => `calm ${i}`),
  );
  // Every line the server wrote, to anyone, is a well-formed message within the line limit.
  for (const s of sockets) {
    for (const line of s.lines) {
      t.true(Buffer.byteLength(line) < 8192, `${Buffer.byteLength(line)} bytes`);
      if (parseServerLine(line) === undefined) t.fail(`malformed server line: ${JSON.stringify(line.slice(0, 100))}`);
    }
  }
  t.true(sockets.some((s) => s.lines.some((l) => l.startsWith('ERROR BAD_SYNTAX'))));
  t.true(sockets.some((s) => s.lines.some((l) => l.startsWith('ERROR LINE_TOO_LONG'))));
  // Still accepting and serving newcomers.
  const late = await connectInLobby(t, port, 'late');
  t.deepEqual(await late.join('#calm'), ['steady', 'peer', 'late']);
  t.true(server.connectionCount >= 3);
});

test('abuse - invalid UTF-8 is BAD_SYNTAX and the connection goes on', async (t) => {
  const { port } = await startServer(t);
  const c = await connectInLobby(t, port, 'alice');
  for (const bytes of INVALID_UTF8) {
    c.sendRaw(Buffer.concat([Buffer.from('MSG alice: '), Buffer.from(bytes), Buffer.from('\n')]));
    t.is((await c.waitForError()).code, 'BAD_SYNTAX', JSON.stringify(bytes));
  }
  c.sendRaw(Buffer.from('MSG alice: valid \u{1F600}\n'));
  t.is((await c.waitFor('MSG')).text, 'valid \u{1F600}');
});

test('abuse - sockets that vanish mid-line or mid-handshake are cleaned up', async (t) => {
  const { server, port } = await startServer(t);
  const watcher = await connectInLobby(t, port, 'watcher');
  for (let i = 0; i < 10; i++) {
    const s = await RawSocket.open(t, port);
    if (i % 2 === 0) s.write(`CONNECT: "ghost${i}" "" 1.0.0\nMSG #lobby: half a li`);
    else s.write('CONNECT: "never');
    await sleep(5);
    s.socket.destroy();
  }
  t.true(await until(() => server.connectionCount === 1, 3000), `${server.connectionCount} connections left`);
  const ghosts = new Set<string>();
  for (let i = 0; i < 5; i++) ghosts.add((await watcher.waitFor('USERLEAVE')).nick);
  t.is(ghosts.size, 5);
  t.false(
    watcher.inbox().some((m) => m.type === 'MSG'),
    'no half line was taken as a message',
  );
});
