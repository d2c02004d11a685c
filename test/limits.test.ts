// The limits of PROTOCOL.md section 6, end to end.
import test from 'ava';
import { connect, connectInLobby, RawSocket, sleep, startServer, until, within } from './helpers.js';
import type { ParleyClient } from '../harness/client/index.js';

test('limits - a client that stops reading is disconnected at its send queue limit; others keep receiving', async (t) => {
  const { server, port } = await startServer(t, { limits: { sendQueueBytes: 64 * 1024, rateLimit: 0, closeGraceMs: 3000 } });
  const closed = new Map<string, string>();
  server.events$.subscribe((e) => e.type === 'closed' && closed.set(e.nick, e.reason));
  const sink = await RawSocket.open(t, port);
  sink.write('CONNECT: "sink" "" 1.0.0\nJOIN: #flood\n');
  await sink.waitLine((l) => l.startsWith('USERLIST #flood'));
  sink.socket.pause(); // never reads again: the kernel buffers fill, then the server's queue
  const flooder = await connectInLobby(t, port, 'flooder');
  const member = await connectInLobby(t, port, 'member');
  await flooder.join('#flood');
  await member.join('#flood');
  let received = 0;
  member.messages$.subscribe((m) => m.type === 'MSG' && received++);
  const text = 'f'.repeat(8000);
  const batch = Array.from({ length: 50 }, () => `MSG #flood: ${text}\n`).join('');
  let sent = 0;
  const deadline = Date.now() + 20_000;
  // Bounded: at most 100 batches of 400 KB, or 20 s.
  for (let round = 0; round < 100 && !closed.has('sink') && Date.now() < deadline; round++) {
    flooder.sendRaw(batch);
    sent += 50;
    t.true(await until(() => received === sent, 5000), `member got ${received} of ${sent}`);
  }
  t.is(closed.get('sink'), 'send queue exceeded');
  t.deepEqual(await member.waitFor('USERLEAVE', (m) => m.channel === '#flood'), { type: 'USERLEAVE', channel: '#flood', nick: 'sink' });
  // Reading again, the sink finds the notice after what the server had already written.
  sink.socket.resume();
  t.is(await sink.waitLine((l) => l.startsWith('DISCONNECT'), 5000), 'DISCONNECT: send queue exceeded');
  await sink.waitClosed(5000);
  // The flood goes on reaching the member.
  flooder.say('#flood', 'after');
  t.is((await member.waitFor('MSG', (m) => m.text === 'after')).sender, 'flooder');
  t.is(received, sent + 1);
  t.log(`sink disconnected after ${sent} messages of 8 KB`);
});

test('limits - an overlong line is refused, and the same connection resyncs on the next line', async (t) => {
  const { port } = await startServer(t, { limits: { rateLimit: 0 } });
  const c = await connectInLobby(t, port, 'alice');
  // In one write.
  c.sendRaw(`MSG alice: ${'x'.repeat(10_000)}\nMSG alice: after one\n`);
  t.is((await c.waitForError()).code, 'LINE_TOO_LONG');
  t.is((await c.waitFor('MSG')).text, 'after one');
  // Spread over several writes, with no newline for 100 KB.
  for (let i = 0; i < 10; i++) {
    c.sendRaw('y'.repeat(10_000));
    await sleep(5);
  }
  c.sendRaw('\nMSG alice: after two\n');
  t.is((await c.waitForError()).code, 'LINE_TOO_LONG');
  t.is((await c.waitFor('MSG')).text, 'after two');
  t.false(
    c.inbox().some((m) => m.type === 'ERROR'),
    'one error per overlong line',
  );
});

test('limits - a line of exactly maxLineBytes is accepted, one byte more is not', async (t) => {
  const { port } = await startServer(t);
  const c = await connectInLobby(t, port, 'alice');
  const exact = `FOO: ${'z'.repeat(8192 - 'FOO: '.length - 1)}\n`;
  t.is(Buffer.byteLength(exact), 8192);
  c.sendRaw(exact);
  t.is((await c.waitForError()).code, 'UNKNOWN_COMMAND');
  c.sendRaw(`FOO: z${exact.slice(5)}`);
  t.is((await c.waitForError()).code, 'LINE_TOO_LONG');
  // With CR LF the CR counts too.
  c.sendRaw(`${exact.slice(0, -2)}\r\n`);
  t.is((await c.waitForError()).code, 'UNKNOWN_COMMAND');
});

test('limits - the rate limit throttles without dropping anything', async (t) => {
  const { port } = await startServer(t, { limits: { rateLimit: 20, rateBurst: 5 } });
  const c = await connect(t, port, 'alice');
  await c.waitFor('USERLIST');
  const started = Date.now();
  c.sendRaw(Array.from({ length: 40 }, (_, i) => `MSG alice: ${i}\n`).join(''));
  const got: string[] = [];
  for (let i = 0; i < 40; i++) got.push((await c.waitFor('MSG', undefined, 5000)).text);
  const took = Date.now() - started;
  t.deepEqual(
    got,
    Array.from({ length: 40 }, (_, i) => String(i)),
  );
  // 35 lines beyond the burst at 20 per second.
  t.true(took >= 1450, `took ${took} ms`);
  t.true(took < 5000, `took ${took} ms`);
  t.false(c.closed);
});

test('limits - connections per IP: the one beyond the limit is told and closed', async (t) => {
  const { port } = await startServer(t, { limits: { maxConnectionsPerIp: 2 } });
  const first = await connect(t, port, 'one');
  await connect(t, port, 'two');
  const third = await RawSocket.open(t, port);
  t.is(await third.waitLine(() => true), 'DISCONNECT: too many connections from your address');
  await third.waitClosed();
  // A freed slot can be used again.
  await first.close();
  let again: ParleyClient | undefined;
  for (let i = 0; i < 20 && !again; i++) {
    again = await connect(t, port, 'three').catch(async () => {
      await sleep(25);
      return undefined;
    });
  }
  t.truthy(again, 'a connection was accepted once one closed');
});

test('limits - a connection that does not CONNECT in time is closed with `handshake timeout`', async (t) => {
  const { server, port } = await startServer(t, { limits: { handshakeTimeoutMs: 200 } });
  const silent = await RawSocket.open(t, port);
  const refused = await RawSocket.open(t, port);
  refused.write('CONNECT: "9bad" "" 1.0.0\n');
  const quick = await connect(t, port, 'quick');
  const started = Date.now();
  await within(Promise.all([silent.waitClosed(2000), refused.waitClosed(2000)]), 3000, 'handshake timeouts');
  t.true(Date.now() - started < 1500);
  t.deepEqual(silent.lines, ['DISCONNECT: handshake timeout']);
  t.deepEqual(refused.lines, ['ERROR NICK_INVALID: invalid nickname: 9bad', 'DISCONNECT: handshake timeout']);
  await sleep(250);
  t.false(quick.closed);
  t.is(server.connectionCount, 1);
});
