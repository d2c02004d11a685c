// TLS with a self-signed certificate generated for the test run.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyClient } from '../harness/client/index.js';
import { connect, startServer } from './helpers.js';

/** A key and self-signed certificate for localhost, or undefined when openssl is missing. */
function selfSigned(t: ExecutionContext): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile], {
      stdio: 'ignore',
      timeout: 20_000,
    });
  } catch (err) {
    t.log(`openssl unavailable, TLS not tested: ${(err as Error).message}`);
    return undefined;
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

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
