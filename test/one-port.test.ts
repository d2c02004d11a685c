// One port for everything: the TCP (or TLS) port of `listen` answers the line
// protocol, HTTP (the web page) and WebSocket upgrades at /parley, told apart by
// a connection's first bytes.
import test from 'ava';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { sniffProtocol } from '../core/server.js';
import { ParleyClient } from '../harness/client/index.js';
import { connectInLobby, RawSocket, selfSigned, sleep, startServer, until } from './helpers.js';
import { WsLines } from './ws-helpers.js';

function get(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string; type: string }> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
  });
}

test('one port - sniffing waits for at most the bytes of GET or HEAD, then decides', (t) => {
  t.is(sniffProtocol(Buffer.from('GET / HTTP/1.1\r\n')), 'http');
  t.is(sniffProtocol(Buffer.from('HEAD ')), 'http');
  t.is(sniffProtocol(Buffer.from('G')), 'more');
  t.is(sniffProtocol(Buffer.from('HEA')), 'more');
  t.is(sniffProtocol(Buffer.from('GETX')), 'line');
  t.is(sniffProtocol(Buffer.from('CONNECT: "a" "" 1.1.0\n')), 'line');
  t.is(sniffProtocol(Buffer.from('H\n')), 'line');
});

test('one port - the TCP port serves the page, WebSocket clients at /parley and line-protocol clients together', async (t) => {
  const { port } = await startServer(t);
  const page = await get(`http://127.0.0.1:${port}/`);
  t.is(page.status, 200);
  t.regex(page.type, /^text\/html/);
  t.true(page.body.includes('<title>parley</title>'));
  t.is((await get(`http://127.0.0.1:${port}/client/index.js`)).status, 200);
  const ws = await WsLines.connect(t, `ws://127.0.0.1:${port}/parley`, 'webby');
  const tcp = await connectInLobby(t, port, 'tcpy');
  await ws.waitLine((l) => l === 'USERJOIN #lobby: tcpy');
  ws.send('MSG #lobby: hello over the same port');
  t.is((await tcp.waitFor('MSG', (m) => m.recipient === '#lobby')).text, 'hello over the same port');
  tcp.say('webby', 'back');
  t.is(await ws.waitLine((l) => l.startsWith('MSG tcpy webby')), 'MSG tcpy webby: back');
});

test('one port - with web: false the page is 404 and WebSocket clients are still served', async (t) => {
  const { port } = await startServer(t, { web: false });
  t.is((await get(`http://127.0.0.1:${port}/`)).status, 404);
  const ws = await WsLines.connect(t, `ws://127.0.0.1:${port}/parley`, 'webby');
  ws.send('MSG webby: to myself');
  t.is(await ws.waitLine((l) => l.startsWith('MSG webby webby')), 'MSG webby webby: to myself');
});

test('one port - a client that starts like HEAD but is not HTTP gets the line protocol', async (t) => {
  const { port } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  raw.socket.write('HE');
  await sleep(50);
  raw.socket.write('LLO\n');
  t.regex(await raw.waitLine((l) => l.startsWith('ERROR')), /^ERROR (NOT_CONNECTED|UNKNOWN_COMMAND)/);
  raw.socket.write('CONNECT: "nc" "" 1.1.0\n');
  t.is(await raw.waitLine((l) => l.startsWith('ACCEPT')), 'ACCEPT: test.parley');
});

test('one port - a client that sends nothing gets the line protocol: the handshake timeout notice', async (t) => {
  const { port } = await startServer(t, { limits: { handshakeTimeoutMs: 200 } });
  const raw = await RawSocket.open(t, port);
  t.is(await raw.waitLine((l) => l.startsWith('DISCONNECT')), 'DISCONNECT: handshake timeout');
  await raw.closed;
});

test('one port - a client that sends nothing is told when the server shuts down', async (t) => {
  const { server, port } = await startServer(t);
  const raw = await RawSocket.open(t, port);
  await sleep(20);
  await server.close();
  t.is(await raw.waitLine((l) => l.startsWith('DISCONNECT')), 'DISCONNECT: server shutting down');
});

test('one port - an HTTP connection that never upgrades is closed at the handshake timeout', async (t) => {
  const { server, port } = await startServer(t, { limits: { handshakeTimeoutMs: 300 } });
  const sock = net.connect(port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  sock.on('error', () => {});
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n'); // headers never finished
  await new Promise((r) => sock.once('close', r));
  t.true(await until(() => server.socketCount === 0));
});

test('one port - over TLS the same port serves https, wss and the line protocol', async (t) => {
  const creds = selfSigned(t);
  if (!creds) return t.pass();
  const { port } = await startServer(t, { tls: creds });
  const page = await get(`https://127.0.0.1:${port}/`, { rejectUnauthorized: false });
  t.is(page.status, 200);
  t.true(page.body.includes('<title>parley</title>'));
  const ws = await WsLines.open(t, `wss://127.0.0.1:${port}/parley`, {}, { rejectUnauthorized: false });
  ws.send('CONNECT: "secureweb" "" 1.1.0');
  await ws.waitLine((l) => l.startsWith('USERLIST #lobby'));
  const tls = await ParleyClient.connect({ port, nick: 'securetcp', tls: { rejectUnauthorized: false } });
  t.teardown(() => tls.destroy());
  tls.say('secureweb', 'over tls');
  t.is(await ws.waitLine((l) => l.startsWith('MSG securetcp')), 'MSG securetcp secureweb: over tls');
});
