// The WebSocket transport end to end: a `ws` client against server.attachHttp,
// with the limits every transport enforces.
import test from 'ava';
import type * as http from 'node:http';
import { WebSocket } from 'ws';
import { WsConnection } from '../core/ws-connection.js';
import { connect, connectInLobby, until } from './helpers.js';
import { startWsServer, WsLines } from './ws-helpers.js';

test('websocket - a browser-style client chats with a TCP client in a channel and by direct message', async (t) => {
  const { port, url } = await startWsServer(t);
  const ws = await WsLines.connect(t, url, 'webby');
  const tcp = await connectInLobby(t, port, 'tcpy');
  await ws.waitLine((l) => l === 'USERJOIN #lobby: tcpy');
  // Two lines in one message; the second without `\n`: the end of a message ends a line.
  ws.send('MSG #lobby: hello from ws\nMSG tcpy: psst');
  t.is((await tcp.waitFor('MSG', (m) => m.recipient === '#lobby')).text, 'hello from ws');
  t.deepEqual(await tcp.waitFor('MSG', (m) => m.recipient === 'tcpy'), { type: 'MSG', sender: 'webby', recipient: 'tcpy', text: 'psst' });
  tcp.say('#lobby', 'hi ws');
  tcp.say('webby', 'direct');
  t.is(await ws.waitLine((l) => l.startsWith('MSG tcpy #lobby')), 'MSG tcpy #lobby: hi ws');
  t.is(await ws.waitLine((l) => l.startsWith('MSG tcpy webby')), 'MSG tcpy webby: direct');
});

test('websocket - an overlong line gets LINE_TOO_LONG and the next line of the same message is served', async (t) => {
  const { url } = await startWsServer(t, { limits: { rateLimit: 0 } });
  const ws = await WsLines.connect(t, url, 'alice');
  ws.send(`MSG alice: ${'x'.repeat(10_000)}\nMSG #lobby: after\nMSG nobody: x\n`);
  t.regex(await ws.waitLine((l) => l.startsWith('ERROR LINE_TOO_LONG')), /8192 bytes/);
  await ws.waitLine((l) => l.startsWith('ERROR NO_SUCH_USER'));
  t.is(ws.lines.filter((l) => l.startsWith('ERROR')).length, 2, 'one error per bad line, the channel message in between served');
});

test('websocket - a message larger than maxMessageLines lines closes with 1009; one just under is taken', async (t) => {
  const { url, server } = await startWsServer(t, { limits: { maxLineBytes: 100, rateLimit: 0 } }, { maxMessageLines: 3 });
  const ok = await WsLines.connect(t, url, 'ok');
  const fits = `${'MSG nobody: '.padEnd(99, 'y')}\n`.repeat(3);
  t.is(fits.length, 300);
  ok.send(fits);
  await until(() => ok.lines.length === 3);
  t.is(ok.lines.filter((l) => l.startsWith('ERROR NO_SUCH_USER')).length, 3);
  const big = await WsLines.connect(t, url, 'big');
  big.send('z'.repeat(301));
  const closed = await big.closed;
  t.is(closed.code, 1009);
  t.true(await until(() => server.sessions.byNick('big') === undefined), 'the session is gone');
});

test('websocket - over the rate limit, reading pauses and every line is still served in order', async (t) => {
  const { port, url, server } = await startWsServer(t, { limits: { rateLimit: 10, rateBurst: 2 } });
  const tcp = await connectInLobby(t, port, 'tcpy');
  const ws = await WsLines.connect(t, url, 'fast');
  const transport = server.sessions.byNick('fast')!.transport;
  t.true(transport instanceof WsConnection);
  const conn = transport as WsConnection;
  const got: string[] = [];
  tcp.messages$.subscribe((m) => m.type === 'MSG' && got.push(m.text));
  ws.send(Array.from({ length: 12 }, (_, i) => `MSG tcpy: ${i}`).join('\n'));
  t.true(await until(() => conn.ws.isPaused, 3000), 'the server paused reading');
  t.true(got.length < 12, `throttled: ${got.length} of 12 delivered while paused`);
  t.true(await until(() => got.length === 12, 5000), `got ${got.length}`);
  t.deepEqual(
    got,
    Array.from({ length: 12 }, (_, i) => String(i)),
  );
  t.true(await until(() => !conn.ws.isPaused, 1000), 'reading resumed');
});

test('websocket - a client that stops reading is disconnected with "send queue exceeded"', async (t) => {
  const { url, server } = await startWsServer(t, { limits: { sendQueueBytes: 64 * 1024, rateLimit: 0, closeGraceMs: 10_000 } });
  const reasons = new Map<string, string>();
  server.events$.subscribe((e) => e.type === 'closed' && reasons.set(e.nick, e.reason));
  const slow = await WsLines.connect(t, url, 'slow');
  slow.ws.pause();
  const text = 's'.repeat(8000);
  // Bounded: at most 4000 messages of 8 KB (32 MB).
  for (let i = 0; i < 4000 && !reasons.has('slow'); i++) {
    server.send('slow', text);
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  t.is(reasons.get('slow'), 'send queue exceeded');
  slow.ws.resume();
  t.is(await slow.waitLine((l) => l.startsWith('DISCONNECT'), 10_000), 'DISCONNECT: send queue exceeded');
  t.deepEqual(await slow.closed, { code: 1008, reason: 'send queue exceeded' });
});

test('websocket - a client that never sends CONNECT is closed at the handshake timeout', async (t) => {
  const { url } = await startWsServer(t, { limits: { handshakeTimeoutMs: 200 } });
  const idle = await WsLines.open(t, url);
  t.deepEqual(await idle.closed, { code: 1008, reason: 'handshake timeout' });
  t.deepEqual(idle.lines, ['DISCONNECT: handshake timeout']);
});

test('websocket - the per-IP connection limit counts TCP and WebSocket connections together', async (t) => {
  const { port, url, server } = await startWsServer(t, { limits: { maxConnectionsPerIp: 2 } });
  await connect(t, port, 'tcpy');
  await WsLines.connect(t, url, 'wsy');
  const third = await WsLines.open(t, url);
  t.deepEqual(await third.closed, { code: 1008, reason: 'too many connections from your address' });
  t.deepEqual(third.lines, ['DISCONNECT: too many connections from your address']);
  t.is(server.connectionCount, 2);
});

test('websocket - a binary message gets BAD_SYNTAX and the connection stays', async (t) => {
  const { url } = await startWsServer(t);
  const ws = await WsLines.connect(t, url, 'bin');
  ws.send(Buffer.from([1, 2, 3]), true);
  t.regex(await ws.waitLine((l) => l.startsWith('ERROR')), /^ERROR BAD_SYNTAX: .*binary/);
  ws.send('JOIN: #after');
  await ws.waitLine((l) => l === 'JOINED: #after');
  t.pass();
});

test('websocket - the authentication hook sees the upgrade request and refuses with a reason', async (t) => {
  const seen: (string | undefined)[] = [];
  const { url, port } = await startWsServer(t, {
    authenticate: (req) => {
      const cookie = req.request?.headers.cookie;
      seen.push(typeof cookie === 'string' ? cookie : req.request === undefined ? 'tcp' : 'none');
      return cookie === 'sid=good' ? { ok: true, data: req.request?.url } : { ok: false, reason: 'no session cookie' };
    },
  });
  const good = await WsLines.connect(t, `${url}?room=1`, 'good', { Cookie: 'sid=good' });
  t.truthy(good);
  const bad = await WsLines.open(t, url);
  bad.send('CONNECT: "bad" "" 1.0.0');
  t.is(await bad.waitLine((l) => l.startsWith('ERROR')), 'ERROR AUTH_FAILED: authentication failed: no session cookie');
  await t.throwsAsync(connect(t, port, 'tcpy'), { message: /AUTH_FAILED/ });
  t.deepEqual(seen, ['sid=good', 'none', 'tcp']);
});

test('websocket - upgrades on another path are refused with 404 when nobody else handles them', async (t) => {
  const { httpPort } = await startWsServer(t);
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/other`);
  t.teardown(() => ws.terminate());
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res: http.IncomingMessage) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
  t.is(status, 404);
});

test('websocket - server.close tells WebSocket clients and waits for them to close', async (t) => {
  const { url, server } = await startWsServer(t);
  const ws = await WsLines.connect(t, url, 'bye');
  await server.close();
  t.deepEqual(await ws.closed, { code: 1001, reason: 'server shutting down' });
  t.deepEqual(ws.lines, ['DISCONNECT: server shutting down']);
});

test('websocket - fan-out cost is charged to a WebSocket sender as to a TCP one: a channel message to many pauses its reading', async (t) => {
  // Each recipient costs 10 tokens (0.1 recipients a command): a message to 6 members is 60 tokens at 100/s.
  const { port, url, server } = await startWsServer(t, { limits: { rateLimit: 100, rateBurst: 5, fanoutRecipientsPerCommand: 0.1, fanoutBytesPerCommand: 0 } });
  const members = await Promise.all(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((n) => connectInLobby(t, port, n)));
  const ws = await WsLines.connect(t, url, 'loud');
  const conn = server.sessions.byNick('loud')!.transport as WsConnection;
  const got: string[] = [];
  members[0]!.messages$.subscribe((m) => m.type === 'MSG' && got.push(m.text));
  // Three lines, well within the burst of 5 if only commands counted.
  ws.send('MSG #lobby: one\nMSG #lobby: two\nMSG #lobby: three\n');
  t.true(await until(() => conn.ws.isPaused, 3000), 'reading paused for the fan-out debt');
  t.true(got.length < 3, `${got.length} of 3 delivered while paused`);
  t.true(await until(() => got.length === 3, 10_000));
  t.deepEqual(got, ['one', 'two', 'three']);
});
