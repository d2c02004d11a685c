// Voice across cluster nodes: real UDP voice clients on different nodes, frames
// counted end to end and on the node link; a node killed mid-call; node-link
// datagrams from an address that is no node's.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { join } from 'node:path';
import { redisCluster } from '../../core/index.js';
import type { VoiceClient } from '../../harness/client/index.js';
import { RedisServer } from '../../test/redis-server.js';
import { WsLines } from '../../test/ws-helpers.js';
import { linkHeader, LINK_CALL } from './node-link.js';
import { decodeVoiceFrame, encodeVoiceFrame } from './voice-frame.js';
import { call, connect, startServer, startVoipCluster, until, voice, type TestServer } from './voip-fixture.js';

/** 50 frames/s for 2 s. */
const FRAMES = 100;

function asNode(s: { udpPorts: number[]; ports: number[]; servers: TestServer['server'][]; plugins: TestServer['voip'][] }, i: number): TestServer {
  return { server: s.servers[i]!, port: s.ports[i]!, udpPort: s.udpPorts[i]!, voip: s.plugins[i]! };
}

/** Two nodes, alice on one and bob on the other in an accepted call, each with a bound voice client. */
async function crossNodeCall(t: ExecutionContext) {
  const s = await startVoipCluster(t, {}, 2);
  const alice = await connect(t, s.ports[0]!, 'alice');
  const bob = await connect(t, s.ports[1]!, 'bob');
  const keys = await call(alice, bob);
  const va = await voice(t, asNode(s, 0), keys.caller, 'alice');
  const vb = await voice(t, asNode(s, 1), keys.callee, 'bob');
  va.bind();
  vb.bind();
  await until(() => s.voip.stats().boundEndpoints === 2);
  return { s, alice, bob, keys, va, vb };
}

test('cluster voice - a 1:1 call between two nodes: every frame arrives, and each crosses the node link once', async (t) => {
  const { s, alice, bob, keys, va, vb } = await crossNodeCall(t);
  await Promise.all([va.paced({ payloadBytes: 100, frames: FRAMES }), vb.paced({ payloadBytes: 100, frames: FRAMES })]);
  await until(() => va.stats().totals.received === FRAMES && vb.stats().totals.received === FRAMES, 5000, 'every frame');
  for (const [v, from] of [
    [va, 'bob'],
    [vb, 'alice'],
  ] as const)
    t.like(v.stats().senders[from], { received: FRAMES, lost: 0, duplicates: 0 });
  const [a, b] = s.plugins.map((p) => p.stats());
  t.like(a!.nodeLink, { framesOut: FRAMES, framesIn: FRAMES, dropped: { notNode: 0, malformed: 0, unknownTalk: 0 } });
  t.like(b!.nodeLink, { framesOut: FRAMES, framesIn: FRAMES });
  t.log(`p99 ${vb.stats().totals.latencyMs.p99.toFixed(2)} ms alice->bob across nodes`);
  // Hanging up crosses too.
  bob.talkEnd('alice', keys.callee);
  await alice.waitFor('TALK', (m) => m.event === 'ENDED' && m.key === keys.caller);
  t.like(s.voip.stats(), { activeTalks: 0, pendingTalks: 0, boundEndpoints: 0 });
});

test('cluster voice - group voice over three nodes: each talker hears every other, once; a frame crosses to each other node once', async (t) => {
  const s = await startVoipCluster(t, {}, 3);
  const where = { ann: 0, ben: 1, cat: 2, dan: 1 } as const;
  const clients = [];
  for (const [nick, i] of Object.entries(where)) {
    const c = await connect(t, s.ports[i]!, nick);
    await c.join('#room');
    clients.push(c);
  }
  const keys: string[] = [];
  let last: string[] = [];
  for (const c of clients) {
    const r = await c.talkJoin('#room');
    keys.push(r.key);
    last = r.nicks;
  }
  t.deepEqual(last, ['ann', 'ben', 'cat', 'dan']);
  // TALKJOIN reached every member on every node.
  for (const c of clients) for (const n of Object.keys(where)) await c.waitFor('TALKJOIN', (m) => m.nick === n);
  const voices: VoiceClient[] = [];
  for (const [i, c] of clients.entries()) voices.push(await voice(t, asNode(s, where[c.nick as keyof typeof where]), keys[i]!, c.nick));
  for (const v of voices) v.bind();
  await until(() => s.voip.stats().boundEndpoints === 4);
  await Promise.all(voices.map((v) => v.paced({ payloadBytes: 100, frames: FRAMES })));
  await until(() => voices.every((v) => v.stats().totals.received === 3 * FRAMES), 5000, 'every frame');
  for (const v of voices) {
    for (const other of voices) {
      if (other === v) continue;
      t.like(v.stats().senders[other.nick], { received: FRAMES, lost: 0, duplicates: 0 }, `${other.nick} -> ${v.nick}`);
    }
    t.false(v.nick in v.stats().senders, 'nobody hears itself');
  }
  // Every talker's frame goes once to each of the two other nodes, whatever their number of talkers.
  t.is(s.voip.stats().nodeLink.framesOut, 4 * 2 * FRAMES);
  t.is(s.voip.stats().nodeLink.framesIn, 4 * 2 * FRAMES);
  // Leaving crosses too: TALKLEAVE everywhere, and frames stop going to a node without talkers.
  clients[2]!.talkEnd('#room', keys[2]!);
  for (const c of clients) await c.waitFor('TALKLEAVE', (m) => m.nick === 'cat');
  const before = s.plugins[2]!.stats().nodeLink.framesIn;
  voices[0]!.send(Buffer.from('after cat left'));
  await until(() => voices[1]!.stats().totals.received === 3 * FRAMES + 1);
  t.is(s.plugins[2]!.stats().nodeLink.framesIn, before);
});

test('cluster voice - a node killed mid-call: its peers get ENDED and TALKLEAVE within the lease', async (t) => {
  const redis = await RedisServer.shared();
  const leaseMs = 1500;
  const prefix = `kill${process.pid}`;
  const live = await startServer(t, {}, { cluster: redisCluster({ url: redis.url, prefix, nodeId: 'live', leaseMs }) });
  const main = join(__dirname, '..', '..', 'cli', 'main.js');
  const args = [
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--plugins',
    'ping,channels,im,voip',
    '--redis',
    redis.url,
    '--redis-prefix',
    prefix,
    '--redis-lease',
    `${leaseMs}ms`,
    '--node-id',
    'doomed',
    '--log-level',
    'silent',
  ];
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.resume();
  await until(() => /listening on [\d.]+:\d+/.test(out), 10_000, `the child node: ${out}`);
  const childPort = Number(/listening on [\d.]+:(\d+)/.exec(out)![1]);
  const alice = await connect(t, live.port, 'alice');
  const bob = await connect(t, childPort, 'bob');
  const keys = await call(alice, bob);
  const ann = await connect(t, live.port, 'ann');
  const ben = await connect(t, childPort, 'ben');
  await ann.join('#room');
  await ben.join('#room');
  await ann.talkJoin('#room');
  await ben.talkJoin('#room');
  await ann.waitFor('TALKJOIN', (m) => m.nick === 'ben');
  const started = Date.now();
  child.kill('SIGKILL');
  t.deepEqual(await alice.waitFor('TALK', (m) => m.event === 'ENDED', 3 * leaseMs + 2000), { type: 'TALK', peer: 'bob', key: keys.caller, event: 'ENDED' });
  t.deepEqual(await ann.waitFor('TALKLEAVE', undefined, 3 * leaseMs + 2000), { type: 'TALKLEAVE', channel: '#room', nick: 'ben' });
  const ms = Date.now() - started;
  t.log(`ENDED and TALKLEAVE after ${ms} ms (lease ${leaseMs} ms)`);
  t.true(ms <= 2 * leaseMs + 1000, `${ms} ms`);
  t.like(live.voip.stats(), { activeTalks: 0, pendingTalks: 0 });
  // alice is free again.
  const carol = await connect(t, live.port, 'carol');
  t.truthy(await alice.talkRequest(carol.nick));
});

test('cluster voice - node-link datagrams from an address that is no live node are dropped and counted', async (t) => {
  const { s, va, vb } = await crossNodeCall(t);
  // A well-formed datagram for the live call (its id is the requester node's first), from a stranger.
  const forged = Buffer.concat([
    linkHeader(LINK_CALL, 'node0.1'),
    encodeVoiceFrame({ key: '', nick: 'alice', seq: 999, ts: 0, payload: Buffer.from('forged') }),
  ]);
  const stranger = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((r) => stranger.close(() => r())));
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
  const link = s.plugins[1]!.linkAddress()!;
  for (let i = 0; i < 3; i++) stranger.send(forged, link.port, link.host);
  await until(() => s.plugins[1]!.stats().nodeLink.dropped.notNode === 3);
  va.send(Buffer.from('real'));
  await until(() => vb.stats().totals.received === 1);
  t.like(s.plugins[1]!.stats().nodeLink, { framesIn: 1, dropped: { notNode: 3, malformed: 0, unknownTalk: 0 } });
  t.is(vb.stats().senders.alice!.received, 1);
});

test('cluster voice - a WebSocket party on one node and a UDP party on another hear each other; the browser gets frames with the key emptied', async (t) => {
  const s = await startVoipCluster(t, {}, 2);
  const web = await WsLines.connect(t, `ws://127.0.0.1:${s.ports[0]}/parley`, 'webby');
  const atWeb: Buffer[] = [];
  web.ws.on('message', (data, isBinary) => isBinary && atWeb.push(data as Buffer));
  const udpy = await connect(t, s.ports[1]!, 'udpy');
  web.send('TALK udpy: REQUEST');
  const requested = await web.waitLine((l) => l.startsWith('TALK udpy ') && l.endsWith(': REQUEST'));
  const webKey = requested.split(' ')[2]!.replace(':', '');
  const req = await udpy.waitFor('TALK', (m) => m.event === 'REQUEST');
  udpy.talkAccept('webby', req.key);
  await web.waitLine((l) => l.startsWith('TALK udpy ') && l.endsWith(': ACCEPTED'));
  const v = await voice(t, asNode(s, 1), req.key, 'udpy');
  const atUdp: Buffer[] = [];
  v.frames$.subscribe((f) => atUdp.push(f.frame.payload));
  v.bind();
  web.send(encodeVoiceFrame({ key: webKey, nick: 'webby', seq: 0, ts: 1, payload: Buffer.alloc(0) }), true);
  // A WebSocket party binds by its first frame and has no UDP address: boundEndpoints counts the UDP one.
  await until(() => s.voip.stats().boundEndpoints === 1 && s.voip.stats().framesBinding === 2, 3000, 'both parties bound');
  const N = 20;
  for (let i = 1; i <= N; i++) {
    web.send(encodeVoiceFrame({ key: webKey, nick: 'webby', seq: i, ts: i, payload: Buffer.from(`web ${i}`) }), true);
    v.send(Buffer.from(`udp ${i}`));
  }
  await until(() => atUdp.length === N && atWeb.length === N, 5000, 'every frame both ways');
  t.deepEqual(
    atUdp.map((p) => p.toString()),
    Array.from({ length: N }, (_, i) => `web ${i + 1}`),
  );
  const decoded = atWeb.map((b) => decodeVoiceFrame(b)!);
  t.deepEqual(
    decoded.map((f) => f.payload.toString()),
    Array.from({ length: N }, (_, i) => `udp ${i + 1}`),
  );
  t.true(
    decoded.every((f) => f.key === '' && f.nick === 'udpy'),
    'key emptied, nick kept',
  );
  const [a, b] = s.plugins.map((p) => p.stats());
  t.like(a!.nodeLink, { framesOut: N, framesIn: N });
  t.like(b!.nodeLink, { framesOut: N, framesIn: N });
});
