import test from 'ava';
import * as dgram from 'node:dgram';
import { builtinPlugins, createServer, isValidKey, ParleyError } from '../../index.js';
import { ClientError, ParleyClient } from '../../harness/client/index.js';
import { voipPlugin, VoipPlugin } from './index.js';
import { newSessionKey } from './session-key.js';
import { call, connect, startServer, voipTopologies } from './voip-fixture.js';

for (const topo of voipTopologies()) {
  test(topo.title('TALK REQUEST - each party gets REQUEST with a fresh key of its own, naming the other'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const key = await alice.talkRequest('BOB');
    const seen = await bob.waitFor('TALK', (m) => m.event === 'REQUEST');
    t.like(seen, { type: 'TALK', peer: 'alice', event: 'REQUEST' });
    for (const k of [key, seen.key]) {
      t.true(isValidKey(k));
      t.is(k.length, 22);
    }
    t.not(seen.key, key);
    // Neither party's lines ever carry the other's key.
    t.false(alice.inbox().some((m) => m.type === 'TALK' && m.key === seen.key));
    t.is(s.voip.stats().pendingTalks, 1);
  });

  test(topo.title('TALK ACCEPT - the requester gets ACCEPTED and the callee nothing more'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const keys = await call(alice, bob);
    t.like(s.voip.stats(), { activeTalks: 1, pendingTalks: 0 });
    // END from the callee: both get ENDED, each naming the other, each with its own key.
    bob.talkEnd('alice', keys.callee);
    t.deepEqual(await bob.waitFor('TALK', (m) => m.event === 'ENDED'), { type: 'TALK', peer: 'alice', key: keys.callee, event: 'ENDED' });
    // Anything sent to bob after ACCEPT would have arrived before its ENDED.
    t.deepEqual(
      bob.inbox().filter((m) => m.type === 'TALK' || m.type === 'ERROR'),
      [],
    );
    t.deepEqual(await alice.waitFor('TALK', (m) => m.event === 'ENDED'), { type: 'TALK', peer: 'bob', key: keys.caller, event: 'ENDED' });
    t.like(s.voip.stats(), { activeTalks: 0, pendingTalks: 0 });
  });

  test(topo.title('TALK END - the requester can hang up an accepted call, and the key is gone afterwards'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const { caller: key } = await call(alice, bob);
    alice.talkEnd('bob', key);
    await alice.waitFor('TALK', (m) => m.event === 'ENDED' && m.peer === 'bob');
    await bob.waitFor('TALK', (m) => m.event === 'ENDED' && m.peer === 'alice');
    alice.talkEnd('bob', key);
    await alice.waitForError('NO_SUCH_TALK');
    // Both are free again.
    const again = await bob.talkRequest('alice');
    t.not(again, key);
  });

  test(topo.title('TALK END - a pending request can be cancelled by the requester'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const key = await alice.talkRequest('bob');
    const bobKey = (await bob.waitFor('TALK', (m) => m.event === 'REQUEST')).key;
    alice.talkEnd('bob', key);
    await bob.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === bobKey);
    await alice.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === key);
    t.is(s.voip.stats().pendingTalks, 0);
  });

  test(topo.title('TALK DENY - the requester gets DENIED and both are free again'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const key = await alice.talkRequest('bob');
    const bobKey = (await bob.waitFor('TALK', (m) => m.event === 'REQUEST')).key;
    bob.talkDeny('alice', bobKey);
    t.deepEqual(await alice.waitFor('TALK', (m) => m.event === 'DENIED'), { type: 'TALK', peer: 'bob', key, event: 'DENIED' });
    t.is(s.voip.stats().pendingTalks, 0);
    bob.talkAccept('alice', bobKey);
    await bob.waitForError('NO_SUCH_TALK');
    t.truthy(await bob.talkRequest('alice'));
  });

  test(topo.title('TALK REQUEST - unanswered within the talk timeout ends with ENDED to both'), async (t) => {
    const s = await topo.start(t, { talkTimeoutMs: 300 });
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const started = Date.now();
    const key = await alice.talkRequest('bob');
    const bobKey = (await bob.waitFor('TALK', (m) => m.event === 'REQUEST')).key;
    await alice.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === key && m.peer === 'bob', 3000);
    await bob.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === bobKey && m.peer === 'alice', 3000);
    t.true(Date.now() - started >= 280);
    t.is(s.voip.stats().pendingTalks, 0);
    bob.talkAccept('alice', bobKey);
    await bob.waitForError('NO_SUCH_TALK');
  });

  test(topo.title('disconnect - a party leaving ends its talk with ENDED to the peer'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const carol = await connect(t, s.port, 'carol');
    const dave = await connect(t, s.port, 'dave');
    const accepted = await call(alice, bob);
    const pending = await carol.talkRequest('dave');
    await bob.close();
    t.deepEqual(await alice.waitFor('TALK', (m) => m.event === 'ENDED'), { type: 'TALK', peer: 'bob', key: accepted.caller, event: 'ENDED' });
    dave.destroy();
    t.deepEqual(await carol.waitFor('TALK', (m) => m.event === 'ENDED'), { type: 'TALK', peer: 'dave', key: pending, event: 'ENDED' });
    t.like(s.voip.stats(), { activeTalks: 0, pendingTalks: 0 });
  });

  test(topo.title('BUSY - a callee already in a pending or accepted call, or a requester in one, gets BUSY'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    const bob = await connect(t, s.port, 'bob');
    const carol = await connect(t, s.port, 'carol');
    const dave = await connect(t, s.port, 'dave');
    await alice.talkRequest('bob'); // pending
    await t.throwsAsync(carol.talkRequest('bob'), { instanceOf: ClientError, code: 'BUSY' });
    await t.throwsAsync(carol.talkRequest('alice'), { instanceOf: ClientError, code: 'BUSY' });
    await t.throwsAsync(alice.talkRequest('carol'), { instanceOf: ClientError, code: 'BUSY' });
    await t.throwsAsync(bob.talkRequest('carol'), { instanceOf: ClientError, code: 'BUSY' });
    await call(carol, dave); // accepted
    const eve = await connect(t, s.port, 'eve');
    await t.throwsAsync(eve.talkRequest('dave'), { instanceOf: ClientError, code: 'BUSY' });
    await t.throwsAsync(dave.talkRequest('eve'), { instanceOf: ClientError, code: 'BUSY' });
    // The same pair again is busy too: one call per user.
    await t.throwsAsync(bob.talkRequest('alice'), { instanceOf: ClientError, code: 'BUSY' });
    t.like(s.voip.stats(), { activeTalks: 1, pendingTalks: 1 });
  });

  test(topo.title('BAD_SYNTAX - requesting a talk with yourself, in any case and even while busy'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    await connect(t, s.port, 'bob'); // bob exists to be called
    await t.throwsAsync(alice.talkRequest('alice'), { code: 'BAD_SYNTAX' });
    await t.throwsAsync(alice.talkRequest('ALICE'), { code: 'BAD_SYNTAX' });
    await alice.talkRequest('bob');
    await t.throwsAsync(alice.talkRequest('Alice'), { code: 'BAD_SYNTAX' });
  });

  test(topo.title('NO_SUCH_USER - requesting a talk with an unknown nick'), async (t) => {
    const s = await topo.start(t);
    const alice = await connect(t, s.port, 'alice');
    await t.throwsAsync(alice.talkRequest('nobody'), { code: 'NO_SUCH_USER' });
    await t.throwsAsync(alice.talkRequest('not/a/nick'), { code: 'NO_SUCH_USER' });
    t.is(s.voip.stats().pendingTalks, 0);
  });

  test(
    topo.title("NO_SUCH_TALK - wrong, malformed or another party's key, wrong peer, a stranger, the requester answering, and a second ACCEPT"),
    async (t) => {
      const s = await topo.start(t);
      const alice = await connect(t, s.port, 'alice');
      const bob = await connect(t, s.port, 'bob');
      const carol = await connect(t, s.port, 'carol');
      const aliceKey = await alice.talkRequest('bob');
      const key = (await bob.waitFor('TALK', (m) => m.event === 'REQUEST')).key;
      const attempts: [ParleyClient, string, string, 'ACCEPT' | 'DENY' | 'END'][] = [
        [bob, 'alice', newSessionKey(), 'ACCEPT'], // well-formed but unknown key
        [bob, 'alice', 'short', 'ACCEPT'], // malformed key
        [bob, 'alice', `${key}!`, 'DENY'],
        [bob, 'alice', aliceKey, 'ACCEPT'], // the other party's key: not bob's own
        [bob, 'alice', aliceKey, 'END'],
        [alice, 'bob', key, 'END'], // bob's key used by alice
        [bob, 'carol', key, 'ACCEPT'], // wrong peer
        [carol, 'alice', key, 'ACCEPT'], // not a party
        [carol, 'bob', aliceKey, 'END'],
        [alice, 'bob', aliceKey, 'ACCEPT'], // the requester answering its own request
        [alice, 'bob', aliceKey, 'DENY'],
      ];
      for (const [who, peer, k, keyword] of attempts) {
        who.send({ verb: 'TALK', target: peer, key: k, keyword });
        const err = await who.waitForError();
        t.is(err.code, 'NO_SUCH_TALK', `${who.nick} ${keyword} ${peer} ${k}`);
      }
      t.is(s.voip.stats().pendingTalks, 1);
      bob.talkAccept('alice', key);
      await alice.waitFor('TALK', (m) => m.event === 'ACCEPTED');
      bob.talkAccept('alice', key);
      t.is((await bob.waitForError()).code, 'NO_SUCH_TALK');
      bob.talkDeny('alice', key);
      t.is((await bob.waitForError()).code, 'NO_SUCH_TALK');
      t.like(s.voip.stats(), { activeTalks: 1 });
    },
  );
}

test('session keys - 22 base62 characters, all different', (t) => {
  const keys = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const k = newSessionKey();
    t.regex(k, /^[A-Za-z0-9]{22}$/);
    keys.add(k);
  }
  t.is(keys.size, 2000);
});

test('UDP port - defaults to the TCP port number on the TCP host', async (t) => {
  const server = createServer({ logger: 'error', hostname: 'test' });
  t.teardown(() => server.close());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  t.deepEqual(server.resolve(VoipPlugin).udpAddress(), { host: '127.0.0.1', port });
});

test('plugin disabled - TALK is UNKNOWN_COMMAND and no UDP port is open', async (t) => {
  const server = createServer({ logger: 'error', hostname: 'test', plugins: builtinPlugins(['ping', 'channels', 'im']) });
  t.teardown(() => server.close());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const alice = await ParleyClient.connect({ port, nick: 'alice', timeoutMs: 3000 });
  t.teardown(() => alice.destroy());
  alice.sendRaw('TALK bob: REQUEST\n');
  const err = await alice.waitForError();
  t.is(err.code, 'UNKNOWN_COMMAND');
  const probe = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((r) => probe.close(() => r())));
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.bind(port, '127.0.0.1', () => resolve());
  });
  t.is(probe.address().port, port);
});

test('startup - voip without channels is an error naming both plugins', (t) => {
  const err = t.throws(() => createServer({ plugins: builtinPlugins(['ping', 'im', 'voip']) }), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_MISSING_DEPENDENCY');
  t.regex(err!.message, /"voip".*"channels"/);
});

test('options - invalid values are refused with PARLEY_ERR_INVALID_OPTION', (t) => {
  const bad = [
    { talkTimeoutMs: 0 },
    { talkTimeoutMs: Number.NaN },
    { udpPort: 70000 },
    { udpPort: 1.5 },
    { udpHost: '' },
    { recvBufferBytes: 0 },
    { sendBufferBytes: -1 },
    { nope: 1 },
  ];
  for (const o of bad) {
    const err = t.throws(() => voipPlugin(o as Parameters<typeof voipPlugin>[0]), { instanceOf: ParleyError }, JSON.stringify(o));
    t.is(err?.code, 'PARLEY_ERR_INVALID_OPTION');
  }
  t.notThrows(() => voipPlugin({ talkTimeoutMs: 1, udpPort: 0, udpHost: '::1', recvBufferBytes: 1024 }));
});

test('udpPort option - the relay binds the given port, readable from udpAddress()', async (t) => {
  const s = await startServer(t, { udpPort: 0 });
  const a = s.voip.udpAddress()!;
  t.is(a.host, '127.0.0.1');
  t.true(a.port > 0);
  await s.server.close();
  t.is(s.voip.udpAddress(), undefined);
});
