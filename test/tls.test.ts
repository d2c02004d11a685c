// TLS with a self-signed certificate generated for the test run.
import test, { type ExecutionContext } from 'ava';
import { ParleyClient } from '../harness/client/index.js';
import * as net from 'node:net';
import { connect, selfSigned, sleep, startServer, until, within } from './helpers.js';

test('TLS - clients chat over TLS with a self-signed certificate', async (t) => {
  const creds = selfSigned(t);
  if (!creds) return t.pass();
  const { port } = await startServer(t, { tls: creds });
  const tlsOpts = { tls: { rejectUnauthorized: false } };
  const alice = await connect(t, port, 'alice', tlsOpts);
  const bob = await connect(t, port, 'bob', tlsOpts);
  t.deepEqual(await bob.join('#secure'), ['bob']);
  t.deepEqual(await alice.join('#secure'), ['bob', 'alice']);
  alice.say('#secure', 'encrypted ünïcode: fine');
  t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'alice', recipient: '#secure', text: 'encrypted ünïcode: fine' });
  await alice.close();
  t.is((await bob.waitFor('USERLEAVE', (m) => m.channel === '#secure')).nick, 'alice');

  // A client that verifies certificates refuses the self-signed one; plain TCP gets no ACCEPT.
  await t.throwsAsync(ParleyClient.connect({ port, nick: 'strict', tls: true, timeoutMs: 2000 }), { message: /CLOSED/ });
  const plain = new ParleyClient({ port, timeoutMs: 500 });
  t.teardown(() => plain.destroy());
  await plain.open();
  await t.throwsAsync(plain.hello('plain'), { message: /^(CLOSED|TIMEOUT)/ });
});

/** Opens a raw TCP socket (no TLS) and resolves once connected. */
function rawConnect(t: ExecutionContext, port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  t.teardown(() => s.destroy());
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

test.serial('TLS - sockets that close at once or never finish the handshake are closed; the count returns to 0 and TLS clients still connect', async (t) => {
  const creds = selfSigned(t);
  if (!creds) return t.pass();
  const { server, port } = await startServer(t, { tls: creds, limits: { handshakeTimeoutMs: 600, maxConnectionsPerIp: 0, connectRatePerIp: 0 } });
  const tlsOpts = { tls: { rejectUnauthorized: false } };
  // 300 hostile sockets, in batches of 50: half connect and close at once, half connect and stay silent.
  const silent: net.Socket[] = [];
  for (let batch = 0; batch < 6; batch++) {
    const socks = await Promise.all(Array.from({ length: 50 }, () => rawConnect(t, port)));
    for (const [i, s] of socks.entries()) {
      if (i % 2 === 0) s.end();
      else silent.push(s);
    }
  }
  t.true(server.socketCount > 0, 'the silent sockets are counted while open');
  const silentClosed = Promise.all(silent.map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())))));
  await within(silentClosed, 10_000, 'closing the sockets that never started TLS');
  t.true(await until(() => server.socketCount === 0, 10_000), `${server.socketCount} sockets still open`);
  // A client that finishes TLS but never sends CONNECT is told and closed at the handshake timeout.
  const idle = new ParleyClient({ port, timeoutMs: 5000, ...tlsOpts });
  t.teardown(() => idle.destroy());
  await idle.open();
  t.is((await idle.waitFor('DISCONNECT', undefined, 5000)).reason, 'handshake timeout');
  const alice = await connect(t, port, 'alice', tlsOpts);
  t.deepEqual(await alice.join('#after'), ['alice']);
});

test('TLS - sockets still in the TLS handshake count against the per-IP limit', async (t) => {
  const creds = selfSigned(t);
  if (!creds) return t.pass();
  const { port } = await startServer(t, { tls: creds, limits: { maxConnectionsPerIp: 3, handshakeTimeoutMs: 20_000 } });
  const stuck = await Promise.all(Array.from({ length: 3 }, () => rawConnect(t, port)));
  await t.throwsAsync(ParleyClient.connect({ port, nick: 'fourth', timeoutMs: 3000, tls: { rejectUnauthorized: false } }), { message: /^(CLOSED|TIMEOUT)/ });
  for (const s of stuck) s.destroy();
  const ok = await within(
    (async () => {
      for (;;) {
        try {
          return await ParleyClient.connect({ port, nick: 'later', timeoutMs: 2000, tls: { rejectUnauthorized: false } });
        } catch {
          await sleep(50);
        }
      }
    })(),
    8000,
    'connecting once the stuck sockets closed',
  );
  t.teardown(() => ok.destroy());
  t.pass();
});
