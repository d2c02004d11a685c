// Voice over WebSocket (Mumble's TCP tunnel): a WebSocket client sends and
// receives VoiceFrames as binary messages, and the relay forwards between UDP and
// WebSocket parties alike, with the same bounds.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { WsLines } from '../../test/ws-helpers.js';
import { decodeVoiceFrame, encodeVoiceFrame, type VoiceFrame } from './voice-frame.js';
import { connect, rawUdp, startServer, until, voice, type TestServer } from './voip-fixture.js';

const frame = (key: string, nick: string, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer =>
  encodeVoiceFrame({ key, nick, seq, ts: 1_700_000_000_000 + seq * 20, payload });

/** A WebSocket client connected as `nick`, recording binary messages. */
async function wsParty(t: ExecutionContext, s: TestServer, nick: string): Promise<{ c: WsLines; frames: Buffer[] }> {
  const c = await WsLines.connect(t, `ws://127.0.0.1:${s.port}/parley`, nick);
  const frames: Buffer[] = [];
  c.ws.on('message', (data, isBinary) => isBinary && frames.push(data as Buffer));
  return { c, frames };
}

/** The key a `TALK <peer> <key> <event>` line carries. */
async function talkKey(c: WsLines, event: string, peer: string): Promise<string> {
  const line = await c.waitLine((l) => l.startsWith(`TALK ${peer} `) && l.endsWith(`: ${event}`));
  return line.split(' ')[2]!.replace(':', '');
}

test('ws voice - a WebSocket party and a UDP party talk both ways; the WebSocket side gets frames with the key emptied', async (t) => {
  const s = await startServer(t);
  const web = await wsParty(t, s, 'webby');
  const udpUser = await connect(t, s.port, 'udpy');
  web.c.send('TALK udpy: REQUEST');
  const webKey = await talkKey(web.c, 'REQUEST', 'udpy');
  const req = await udpUser.waitFor('TALK', (m) => m.event === 'REQUEST');
  udpUser.talkAccept('webby', req.key);
  await talkKey(web.c, 'ACCEPTED', 'udpy');
  const v = await voice(t, s, req.key, 'udpy');
  const atUdp: VoiceFrame[] = [];
  v.frames$.subscribe((f) => atUdp.push(f.frame));
  v.bind();
  web.c.send(frame(webKey, 'webby', 0), true); // binds the WebSocket party
  await until(() => s.voip.stats().boundEndpoints === 1 && s.voip.stats().framesBinding === 2);
  const sent = [10, 200, 1200].map((n, i) => frame(webKey, 'webby', i, randomBytes(n)));
  for (const f of sent) web.c.send(f, true);
  for (let i = 0; i < 3; i++) v.send(Buffer.from(`from udp ${i}`));
  await until(() => atUdp.length === 3 && web.frames.length === 3);
  t.deepEqual(
    atUdp.map((f) => f.payload),
    sent.map((f) => decodeVoiceFrame(f)!.payload),
  );
  t.deepEqual(
    web.frames.map((b) => ({ ...decodeVoiceFrame(b)! })),
    [0, 1, 2].map((i) => ({ key: '', nick: 'udpy', seq: i, ts: decodeVoiceFrame(web.frames[i]!)!.ts, payload: Buffer.from(`from udp ${i}`) })),
  );
  for (const b of web.frames) t.false(b.includes(Buffer.from(req.key)));
  t.like(s.voip.stats(), { framesIn: 8, framesInWs: 4, framesRelayed: 6, framesForwarded: 6, droppedTotal: 0, framesDroppedSlowWs: 0 });
});

test('ws voice - group voice reaches every party, browser to browser and browser to UDP', async (t) => {
  const s = await startServer(t);
  const a = await wsParty(t, s, 'ann');
  const b = await wsParty(t, s, 'ben');
  const udpUser = await connect(t, s.port, 'cat');
  a.c.send('TALK #lobby: JOIN');
  const ka = await talkKey(a.c, 'JOINED', '#lobby');
  b.c.send('TALK #lobby: JOIN');
  const kb = await talkKey(b.c, 'JOINED', '#lobby');
  const { key: kc } = await udpUser.talkJoin('#lobby');
  const v = await voice(t, s, kc, 'cat');
  const atCat: VoiceFrame[] = [];
  v.frames$.subscribe((f) => atCat.push(f.frame));
  v.bind();
  b.c.send(frame(kb, 'ben', 0), true);
  await until(() => s.voip.stats().framesBinding === 2);
  a.c.send(frame(ka, 'ann', 0, Buffer.from('hello group')), true);
  await until(() => atCat.length === 1 && b.frames.length === 1);
  t.is(atCat[0]!.payload.toString(), 'hello group');
  t.like({ ...decodeVoiceFrame(b.frames[0]!)! }, { key: '', nick: 'ann', payload: Buffer.from('hello group') });
  v.send(Buffer.from('from cat'));
  await until(() => a.frames.length === 1 && b.frames.length === 2);
  t.is(decodeVoiceFrame(a.frames[0]!)!.payload.toString(), 'from cat');
  t.is(s.voip.stats().boundEndpoints, 1, 'only the UDP party binds an address');
});

test('ws voice - frames naming another party, an unknown key, too large or over the rate are dropped and counted', async (t) => {
  const s = await startServer(t, { frameRate: 0.001, frameBurst: 2 });
  const a = await wsParty(t, s, 'ann');
  const b = await wsParty(t, s, 'ben');
  a.c.send('TALK #lobby: JOIN');
  const ka = await talkKey(a.c, 'JOINED', '#lobby');
  b.c.send('TALK #lobby: JOIN');
  const kb = await talkKey(b.c, 'JOINED', '#lobby');
  a.c.send(frame(kb, 'ben', 0, Buffer.from('not mine')), true); // ben's key, from ann's session
  a.c.send(frame(ka, 'ben', 0, Buffer.from('not my nick')), true);
  a.c.send(frame('A'.repeat(22), 'ann', 0, Buffer.from('no such key')), true);
  a.c.send(frame(ka, 'ann', 0, Buffer.alloc(1400)), true);
  a.c.send(Buffer.from('garbage'), true);
  await until(() => s.voip.stats().droppedTotal === 5);
  t.like(s.voip.stats().dropped, { notParty: 2, unknownKey: 1, tooLarge: 1, undecodable: 1 });
  b.c.send(frame(kb, 'ben', 0), true);
  await until(() => s.voip.stats().framesBinding === 1);
  for (let i = 0; i < 5; i++) a.c.send(frame(ka, 'ann', i, Buffer.from(`f${i}`)), true);
  await until(() => s.voip.stats().framesIn === 11);
  const st = s.voip.stats();
  // The refused frames cost no token; a burst of 2 (refilled once in 1000 s) lets two of five through.
  t.is(st.dropped.rateLimited, 3);
  await until(() => b.frames.length === 2);
  t.deepEqual(
    b.frames.map((f) => decodeVoiceFrame(f)!.payload.toString()),
    ['f0', 'f1'],
  );
  t.is(a.frames.length, 0);
});

test('ws voice - frames to a WebSocket party that stops reading are dropped and counted, never queued without bound', async (t) => {
  const s = await startServer(t, { frameRate: 0, wsVoiceHighWaterBytes: 16 * 1024 });
  const slow = await wsParty(t, s, 'slow');
  const udpUser = await connect(t, s.port, 'fast');
  slow.c.send('TALK #lobby: JOIN');
  const ks = await talkKey(slow.c, 'JOINED', '#lobby');
  const { key: kf } = await udpUser.talkJoin('#lobby');
  slow.c.send(frame(ks, 'slow', 0), true);
  await until(() => s.voip.stats().framesBinding === 1);
  (slow.c.ws as WebSocket).pause();
  const u = await rawUdp(t, s);
  const payload = randomBytes(1200);
  // Bounded: at most 40,000 frames (48 MB), in batches that let the server read.
  for (let i = 0; i < 40_000 && s.voip.stats().framesDroppedSlowWs === 0; i++) {
    u.send(frame(kf, 'fast', i, payload));
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5));
  }
  await until(() => s.voip.stats().framesDroppedSlowWs > 0, 5000);
  t.true(s.voip.stats().framesDroppedSlowWs > 0);
  t.is(s.server.connectionCount, 2, 'the slow party is not disconnected for voice');
});
