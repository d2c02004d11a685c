// The PROXY protocol over real sockets: a trusted proxy on 127.0.0.1 names the client.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { firstValueFrom, filter } from 'rxjs';
import { encodeProxyV2 } from '../core/proxy-protocol.js';
import type { ServerOptions } from '../index.js';
import { RawSocket, startServer, until } from './helpers.js';

const v2From = (address: string, port = 40000): Buffer =>
  encodeProxyV2({ command: 'PROXY', source: { address, port }, destination: { address: '192.0.2.1', port: 7420 } });
const trustLoopback: ServerOptions = { proxyProtocol: { trusted: ['127.0.0.1'] } };

test('PROXY - a client behind a trusted proxy (v2 header) appears with the header source address', async (t) => {
  const { server, port } = await startServer(t, trustLoopback);
  const connected = firstValueFrom(server.events$.pipe(filter((e) => e.type === 'connected')));
  const raw = await RawSocket.open(t, port);
  raw.write(Buffer.concat([v2From('203.0.113.7', 40001), Buffer.from('CONNECT: "alice" "A" 1.1.0\n')]));
  await raw.waitLine((l) => l.startsWith('ACCEPT'));
  t.is(server.sessions.byNick('alice')?.remoteAddress, '203.0.113.7');
  t.like(await connected, { type: 'connected', session: { remoteAddress: '203.0.113.7', remotePort: 40001 } });
});

test('PROXY - a v1 header split over several writes works the same', async (t) => {
  const { server, port } = await startServer(t, trustLoopback);
  const raw = await RawSocket.open(t, port);
  const bytes = Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 5000 7420\r\nCONNECT: "bob" "B" 1.1.0\n');
  for (const part of [bytes.subarray(0, 3), bytes.subarray(3, 20), bytes.subarray(20)]) {
    raw.write(part);
    await new Promise((r) => setTimeout(r, 20));
  }
  await raw.waitLine((l) => l.startsWith('ACCEPT'));
  t.is(server.sessions.byNick('bob')?.remoteAddress, '2001:db8::7');
});

test('PROXY - a LOCAL header keeps the connection address', async (t) => {
  const { server, port } = await startServer(t, trustLoopback);
  const raw = await RawSocket.open(t, port);
  raw.write(Buffer.concat([encodeProxyV2({ command: 'LOCAL' }), Buffer.from('CONNECT: "carol" "C" 1.1.0\n')]));
  await raw.waitLine((l) => l.startsWith('ACCEPT'));
  t.is(server.sessions.byNick('carol')?.remoteAddress, '127.0.0.1');
});

test('PROXY - the per-IP limit counts the header source address, not the proxy', async (t) => {
  const { port } = await startServer(t, { ...trustLoopback, limits: { maxConnectionsPerIp: 1 } });
  const a = await RawSocket.open(t, port);
  a.write(Buffer.concat([v2From('203.0.113.7'), Buffer.from('CONNECT: "a1" "A" 1.1.0\n')]));
  await a.waitLine((l) => l.startsWith('ACCEPT'));
  const again = await RawSocket.open(t, port);
  again.write(v2From('203.0.113.7', 40002));
  await again.waitLine((l) => l === 'DISCONNECT: too many connections from your address');
  await again.waitClosed();
  const other = await RawSocket.open(t, port);
  other.write(Buffer.concat([v2From('203.0.113.8'), Buffer.from('CONNECT: "b1" "B" 1.1.0\n')]));
  await other.waitLine((l) => l.startsWith('ACCEPT'));
  t.pass();
});

test('PROXY - a header from an untrusted address is refused and the connection closed', async (t) => {
  const { server, port } = await startServer(t, { proxyProtocol: { trusted: ['10.0.0.0/8'] } });
  const spoof = await RawSocket.open(t, port);
  spoof.write('PROXY TCP4 203.0.113.7 192.0.2.1 1 2\r\nCONNECT: "mallory" "M" 1.1.0\n');
  await spoof.waitLine((l) => l === 'DISCONNECT: PROXY header from an untrusted address');
  await spoof.waitClosed();
  t.is(server.sessions.byNick('mallory'), undefined);
  // A plain client from the same address is served as usual.
  const plain = await RawSocket.open(t, port);
  plain.write('CONNECT: "dave" "D" 1.1.0\n');
  await plain.waitLine((l) => l.startsWith('ACCEPT'));
  t.is(server.sessions.byNick('dave')?.remoteAddress, '127.0.0.1');
});

test('PROXY - a trusted connection without a valid header is closed with the reason', async (t) => {
  const { server, port } = await startServer(t, trustLoopback);
  const plain = await RawSocket.open(t, port);
  plain.write('CONNECT: "erin" "E" 1.1.0\n');
  await plain.waitLine((l) => l === 'DISCONNECT: bad PROXY header: not a PROXY protocol header');
  await plain.waitClosed();
  const bad = await RawSocket.open(t, port);
  bad.write('PROXY TCP4 203.0.113.7 192.0.2.1 99999 2\r\n');
  await bad.waitLine((l) => l === 'DISCONNECT: bad PROXY header: v1 bad port');
  await bad.waitClosed();
  t.is(server.connectionCount, 0);
});

test('PROXY - a trusted connection that sends no header is closed after the header timeout', async (t) => {
  const { server, port } = await startServer(t, { proxyProtocol: { trusted: ['127.0.0.1'], headerTimeoutMs: 200 } });
  const silent = await RawSocket.open(t, port);
  t.true(await until(() => server.socketCount === 1));
  await silent.waitLine((l) => l === 'DISCONNECT: bad PROXY header: timed out');
  await silent.waitClosed();
  t.true(await until(() => server.socketCount === 0));
});

test('PROXY - an oversized header is refused before it ends', async (t) => {
  const { port } = await startServer(t, { proxyProtocol: { trusted: ['127.0.0.1'], maxHeaderBytes: 256 } });
  const raw = await RawSocket.open(t, port);
  const big = encodeProxyV2({
    command: 'PROXY',
    source: { address: '203.0.113.7', port: 1 },
    destination: { address: '192.0.2.1', port: 2 },
    tlv: Buffer.alloc(1000),
  });
  raw.write(big.subarray(0, 16));
  await raw.waitLine((l) => l.startsWith('DISCONNECT: bad PROXY header: header of 1028 bytes exceeds 256'));
  await raw.waitClosed();
  t.pass();
});

test('PROXY - the header comes before the TLS handshake, and the client then speaks TLS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-proxy-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        join(dir, 'k'),
        '-out',
        join(dir, 'c'),
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
  } catch (err) {
    t.log(`openssl unavailable, TLS not tested: ${(err as Error).message}`);
    return t.pass();
  }
  const { server, port } = await startServer(t, { ...trustLoopback, tls: { key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')) } });
  const raw = await RawSocket.open(t, port);
  raw.write(v2From('198.51.100.9'));
  const secure = tls.connect({ socket: raw.socket, rejectUnauthorized: false });
  t.teardown(() => secure.destroy());
  let got = '';
  secure.on('data', (d: Buffer) => (got += d.toString()));
  secure.write('CONNECT: "tina" "T" 1.1.0\n');
  t.true(await until(() => got.includes('ACCEPT')));
  t.is(server.sessions.byNick('tina')?.remoteAddress, '198.51.100.9');
});
