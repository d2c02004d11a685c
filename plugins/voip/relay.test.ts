import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { VoiceFrame } from './voice-frame.js';
import { decodeVoiceFrame, encodeVoiceFrame } from './voice-frame.js';
import { newSessionKey } from './session-key.js';
import { bindAll, call, connect, rawUdp, sleep, startServer, until, voice } from './voip-fixture.js';

const frame = (key: string, nick: string, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer =>
  encodeVoiceFrame({ key, nick, seq, ts: 1_700_000_000_000 + seq * 20.5, payload });

/** Every frame a voice client receives, decoded. */
function collect(v: { frames$: { subscribe(fn: (f: { frame: VoiceFrame }) => void): unknown } }): VoiceFrame[] {
  const got: VoiceFrame[] = [];
  v.frames$.subscribe((f) => got.push(f.frame));
  return got;
}

/** The datagram as relayed: the key replaced by the empty string, every other byte as sent. */
const emptied = (sent: Buffer, key: string): Buffer => Buffer.concat([Buffer.from([0]), sent.subarray(1 + Buffer.byteLength(key))]);

test('relay - frames pass in both directions once accepted, key emptied and every other byte as sent', async (t) => {
  const s = await startServer(t);
  const alice = await connect(t, s.port, 'alice');
  const bob = await connect(t, s.port, 'bob');
  const keys = await call(alice, bob);
  t.not(keys.caller, keys.callee);
  const ra = await rawUdp(t, s);
  const rb = await rawUdp(t, s);
  ra.send(frame(keys.caller, 'alice', 0));
  rb.send(frame(keys.callee, 'bob', 0));
  await until(() => s.voip.stats().boundEndpoints === 2);
  // Odd payload sizes and a seq past one varint byte, up to the 1400-byte bound.
  const fromAlice = [1, 160, 1200].map((n, i) => frame(keys.caller, 'alice', i * 100, randomBytes(n)));
  // The payload's length varint takes 2 bytes where the empty payload's took 1.
  fromAlice.push(frame(keys.caller, 'alice', 1_000_000, randomBytes(1400 - frame(keys.caller, 'alice', 1_000_000).length - 1)));
  t.is(fromAlice[3]!.length, 1400);
  const fromBob = [3, 320].map((n, i) => frame(keys.callee, 'bob', i, randomBytes(n)));
  for (const f of fromAlice) ra.send(f);
  for (const f of fromBob) rb.send(f);
  const atBob = await rb.receivedCount(fromAlice.length);
  const atAlice = await ra.receivedCount(fromBob.length);
  t.deepEqual(
    atBob,
    fromAlice.map((f) => emptied(f, keys.caller)),
  );
  t.deepEqual(
    atAlice,
    fromBob.map((f) => emptied(f, keys.callee)),
  );
  t.deepEqual({ ...decodeVoiceFrame(atBob[0]!)! }, { ...decodeVoiceFrame(fromAlice[0]!)!, key: '' });
  for (const got of [...atBob, ...atAlice]) t.false(got.includes(keys.caller) || got.includes(keys.callee));
  const relayedBytes = [...atBob, ...atAlice].reduce((n, b) => n + b.length, 0);
  t.like(s.voip.stats(), { framesIn: 8, framesRelayed: 6, bytesRelayed: relayedBytes, droppedTotal: 0, activeTalks: 1 });
});

test('relay - binding before ACCEPT is allowed, payload frames before it are dropped and never queued', async (t) => {
  const s = await startServer(t);
  const alice = await connect(t, s.port, 'alice');
  const bob = await connect(t, s.port, 'bob');
  const key = await alice.talkRequest('bob');
  const bobKey = (await bob.waitFor('TALK', (m) => m.event === 'REQUEST')).key;
  const va = await voice(t, s, key, 'alice');
  const vb = await voice(t, s, bobKey, 'bob');
  const atBob = collect(vb);
  await bindAll(s, [va, vb], 2);
  va.send(Buffer.from('too early'));
  vb.send(Buffer.from('also early'));
  await until(() => s.voip.stats().dropped.beforeAccept === 2);
  t.is(s.voip.stats().framesRelayed, 0);
  bob.talkAccept('alice', bobKey);
  await alice.waitFor('TALK', (m) => m.event === 'ACCEPTED');
  va.send(Buffer.from('hello bob'));
  await until(() => atBob.length === 1);
  t.is(atBob[0]!.seq, 1);
  t.deepEqual(atBob[0]!.payload, Buffer.from('hello bob'));
  t.like(s.voip.stats(), { framesRelayed: 1, droppedTotal: 2 });
});

test('relay - spoofed, unbound, wrong-IP, unknown and garbage datagrams are dropped and counted while the server keeps serving', async (t) => {
  const s = await startServer(t);
  const alice = await connect(t, s.port, 'alice');
  const bob = await connect(t, s.port, 'bob');
  const carol = await connect(t, s.port, 'carol');
  const { caller: key, callee: bobKey } = await call(alice, bob);
  const va = await voice(t, s, key, 'alice');
  const vb = await voice(t, s, bobKey, 'bob');
  const atBob = collect(vb);
  const atAlice = collect(va);
  await bindAll(s, [va, vb], 2);

  const stranger = await rawUdp(t, s);
  stranger.send(Buffer.from('not avro at all'));
  stranger.send(Buffer.alloc(0));
  stranger.send(frame(newSessionKey(), 'alice', 0, Buffer.from('x'))); // unknownKey
  stranger.send(frame(key, 'carol', 0, Buffer.from('x'))); // notParty: connected, not in the talk
  stranger.send(frame(key, 'bob', 0, Buffer.from('x'))); // notParty: alice's key, bob's nick
  stranger.send(frame(key, 'alice', 0, Buffer.from('x'))); // addressTaken: alice is bound elsewhere
  const elsewhere = await rawUdp(t, s, '127.0.0.2');
  elsewhere.send(frame(bobKey, 'bob', 0, Buffer.from('x'))); // wrongIp
  va.sendRaw(frame(bobKey, 'bob', 0, Buffer.from('I am bob'))); // spoofed: bound address, other key and nick
  va.sendRaw(frame(newSessionKey(), 'alice', 0, Buffer.from('x'))); // spoofed: other key
  va.sendRaw(Buffer.from([0xff, 0xff, 0xff])); // undecodable from a bound address
  const good = frame(key, 'alice', 9, Buffer.from('payload'));
  va.sendRaw(good.subarray(0, good.length - 1)); // truncated: undecodable
  va.sendRaw(Buffer.concat([good, Buffer.from([0])])); // trailing byte: undecodable

  const expected = { undecodable: 5, tooLarge: 0, rateLimited: 0, unknownKey: 1, notParty: 2, wrongIp: 1, addressTaken: 1, spoofed: 2, beforeAccept: 0 };
  await until(() => s.voip.stats().droppedTotal === 12);
  t.deepEqual(s.voip.stats().dropped, expected);
  t.is(s.voip.stats().framesRelayed, 0);

  // Still relaying, still serving TCP.
  va.send(Buffer.from('real'));
  vb.send(Buffer.from('reply'));
  await until(() => atBob.length === 1 && atAlice.length === 1);
  t.deepEqual(
    atBob.map((f) => [f.nick, f.payload.toString()]),
    [['alice', 'real']],
  );
  t.deepEqual(
    atAlice.map((f) => [f.nick, f.payload.toString()]),
    [['bob', 'reply']],
  );
  t.deepEqual(await carol.join('#after'), ['carol']);
  t.like(s.voip.stats(), { droppedTotal: 12, boundEndpoints: 2 });
});

test('relay - an accepted call with only bind frames ends after the talk timeout, one carrying payloads stays up', async (t) => {
  const s = await startServer(t, { talkTimeoutMs: 300 });
  const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => connect(t, s.port, n)));
  const beforeAccept = Date.now(); // the server accepts after this
  const silent = await call(alice!, bob!);
  const talking = await call(carol!, dave!);
  const va = await voice(t, s, silent.caller, 'alice');
  const vb = await voice(t, s, silent.callee, 'bob');
  const vc = await voice(t, s, talking.caller, 'carol');
  const vd = await voice(t, s, talking.callee, 'dave');
  await bindAll(s, [va, vb, vc, vd], 4);
  let speaking = true;
  const loop = setInterval(() => {
    va.bind();
    vb.bind();
    vd.bind();
    if (speaking) vc.send(Buffer.from('la la la'));
  }, 40);
  t.teardown(() => clearInterval(loop));

  await alice!.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === silent.caller, 3000);
  await bob!.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === silent.callee, 3000);
  t.true(Date.now() - beforeAccept >= 290, `ended after ${Date.now() - beforeAccept} ms`);
  await sleep(700); // more than twice the timeout, with payloads flowing
  t.false(carol!.inbox().some((m) => m.type === 'TALK' && m.event === 'ENDED'));
  t.like(s.voip.stats(), { activeTalks: 1, boundEndpoints: 2 });

  speaking = false;
  await carol!.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === talking.caller, 3000);
  await dave!.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === talking.callee, 3000);
  clearInterval(loop);
  t.like(s.voip.stats(), { activeTalks: 0, boundEndpoints: 0 });
});

test('relay - bindings are released when a call ends; the old key is unknown afterwards', async (t) => {
  const s = await startServer(t);
  const alice = await connect(t, s.port, 'alice');
  const bob = await connect(t, s.port, 'bob');
  const keys = await call(alice, bob);
  const va = await voice(t, s, keys.caller, 'alice');
  const vb = await voice(t, s, keys.callee, 'bob');
  await bindAll(s, [va, vb], 2);
  alice.talkEnd('bob', keys.caller);
  await alice.waitFor('TALK', (m) => m.event === 'ENDED');
  t.is(s.voip.stats().boundEndpoints, 0);
  va.send(Buffer.from('hello?'));
  await until(() => s.voip.stats().dropped.unknownKey === 1);
  t.is(s.voip.stats().framesRelayed, 0);
});
