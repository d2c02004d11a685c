// Per-participant bounds of the voice relay (PROTOCOL.md section 5): size, rate with burst, structure.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ParleyError } from '../../index.js';
import { encodeVoiceFrame } from './voice-frame.js';
import { DEFAULT_VOIP_OPTIONS, resolveVoipOptions } from './options.js';
import { bindAll, call, connect, rawUdp, startServer, until, voice } from './voip-fixture.js';

const frame = (key: string, nick: string, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer =>
  encodeVoiceFrame({ key, nick, seq, ts: 1_700_000_000_000 + seq * 20, payload });

test('bounds - defaults are 1400 bytes, 100 frames/s and bursts of 50; bad values are PARLEY_ERR_INVALID_OPTION', (t) => {
  t.like(DEFAULT_VOIP_OPTIONS, { maxFrameBytes: 1400, frameRate: 100, frameBurst: 50, peerSockets: 256 });
  t.is(resolveVoipOptions({ frameRate: 0 }).frameRate, 0);
  for (const bad of [
    { maxFrameBytes: 39 },
    { maxFrameBytes: 70_000 },
    { maxFrameBytes: 1.5 },
    { frameRate: -1 },
    { frameRate: Number.NaN },
    { frameBurst: 0 },
    { frameBurst: 2.5 },
    { peerSockets: -1 },
    { peerSockets: 1.5 },
  ]) {
    const err = t.throws(() => resolveVoipOptions(bad), { instanceOf: ParleyError }, JSON.stringify(bad));
    t.is(err?.code, 'PARLEY_ERR_INVALID_OPTION');
  }
});

test('bounds - oversized (65 KB) and malformed frames are dropped and counted, never relayed, and bind nothing', async (t) => {
  const s = await startServer(t);
  const alice = await connect(t, s.port, 'alice');
  const bob = await connect(t, s.port, 'bob');
  const keys = await call(alice, bob);
  const ra = await rawUdp(t, s);
  const rb = await rawUdp(t, s);
  // Unbound: an oversized frame with alice's own key binds nothing.
  ra.send(frame(keys.caller, 'alice', 0, Buffer.alloc(65_000, 1)));
  await until(() => s.voip.stats().dropped.tooLarge === 1);
  t.is(s.voip.stats().boundEndpoints, 0);
  ra.send(frame(keys.caller, 'alice', 0));
  rb.send(frame(keys.callee, 'bob', 0));
  await until(() => s.voip.stats().boundEndpoints === 2);

  const good = frame(keys.caller, 'alice', 1, Buffer.from('payload'));
  const seqAt = 1 + keys.caller.length + 1 + 'alice'.length;
  const badSeq = Buffer.concat([good.subarray(0, seqAt), Buffer.alloc(11, 0xff), good.subarray(seqAt + 1)]); // an 11-byte varint
  const lengthAt = seqAt + 1 + 8;
  const negative = Buffer.from(good);
  negative[lengthAt] = 0x0f; // odd zig-zag: length -8
  const overlong = Buffer.from(good);
  overlong[lengthAt] = 0x7e; // 63 bytes claimed, 7 present
  const sent = [
    frame(keys.caller, 'alice', 1, Buffer.alloc(65_000, 2)), // bound, 65 KB: tooLarge
    frame(keys.caller, 'alice', 1, Buffer.alloc(1400, 2)), // over 1400 with its header: tooLarge
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // key length: runaway varint
    badSeq,
    negative,
    overlong,
    Buffer.concat([good, Buffer.from([0])]), // a byte past the payload
  ];
  for (const b of sent) ra.send(b);
  await until(() => s.voip.stats().droppedTotal === 1 + sent.length);
  t.like(s.voip.stats().dropped, { tooLarge: 3, undecodable: 5 });
  ra.send(good);
  await rb.receivedCount(1);
  t.is(rb.received.length, 1, 'only the good frame was relayed');
  t.is(rb.received[0]!.length, good.length - keys.caller.length);
  t.like(s.voip.stats(), { framesRelayed: 1, boundEndpoints: 2 });
});

test('bounds - every datagram from a bound address takes a token; past the burst they are dropped and counted, binding frames included', async (t) => {
  // A refill of one token in 1000 s: nothing refills during the test, so the counts are exact.
  const s = await startServer(t, { frameRate: 0.001, frameBurst: 10 });
  const alice = await connect(t, s.port, 'alice');
  const bob = await connect(t, s.port, 'bob');
  const keys = await call(alice, bob);
  const ra = await rawUdp(t, s);
  const rb = await rawUdp(t, s);
  ra.send(frame(keys.caller, 'alice', 0)); // token 1
  rb.send(frame(keys.callee, 'bob', 0));
  await until(() => s.voip.stats().boundEndpoints === 2);
  ra.send(frame(keys.caller, 'alice', 0)); // keepalive: token 2
  ra.send(Buffer.from('garbage')); // token 3, then undecodable
  for (let i = 1; i <= 20; i++) ra.send(frame(keys.caller, 'alice', i, Buffer.from([i]))); // 7 relayed, 13 dropped
  await until(() => s.voip.stats().framesIn === 24);
  await rb.receivedCount(7);
  t.like(s.voip.stats(), { framesRelayed: 7 });
  t.like(s.voip.stats().dropped, { rateLimited: 13, undecodable: 1 });
  // Bob's bucket is his own.
  rb.send(frame(keys.callee, 'bob', 1, Buffer.from('hi')));
  await ra.receivedCount(1);
});

/** Alice and Bob in a calm call (their voice clients open, not bound yet), Fay and Gus in the call Fay will flood. */
async function twoCalls(t: ExecutionContext) {
  const s = await startServer(t);
  const [alice, bob, fay, gus] = await Promise.all(['alice', 'bob', 'fay', 'gus'].map((n) => connect(t, s.port, n)));
  const calm = await call(alice!, bob!);
  const flood = await call(fay!, gus!);
  const va = await voice(t, s, calm.caller, 'alice');
  const vb = await voice(t, s, calm.callee, 'bob');
  return { s, flood, va, vb, fay: fay! };
}

test('bounds - a flooding participant is held to its rate while an unrelated call paced at 50 frames/s loses nothing', async (t) => {
  const { s, flood, va, vb } = await twoCalls(t);
  const fayUdp = await rawUdp(t, s);
  const gusUdp = await rawUdp(t, s);
  fayUdp.send(frame(flood.caller, 'fay', 0));
  gusUdp.send(frame(flood.callee, 'gus', 0));
  await bindAll(s, [va, vb], 4);
  const before = s.voip.stats();

  // Fay sends as fast as the shared event loop lets her for 2 s (bounded in count too),
  // yielding after every batch so that the relay in this process reads as it would
  // with a core of its own; Alice and Bob talk at 50 frames/s meanwhile.
  const floodFrame = frame(flood.caller, 'fay', 1, Buffer.alloc(160, 7));
  const FLOOD_MS = 2000;
  let floodSent = 0;
  const flooding = (async () => {
    const start = performance.now();
    while (performance.now() - start < FLOOD_MS && floodSent < 2_000_000) {
      for (let i = 0; i < 16; i++) fayUdp.socket.send(floodFrame, s.udpPort, '127.0.0.1');
      floodSent += 16;
      await yieldToLoop();
    }
    return performance.now() - start;
  })();
  const CALM_FRAMES = 100;
  const [floodMs] = await Promise.all([flooding, va.paced({ payloadBytes: 160, frames: CALM_FRAMES }), vb.paced({ payloadBytes: 160, frames: CALM_FRAMES })]);
  await until(() => s.voip.stats().framesIn - before.framesIn === floodSent + 2 * CALM_FRAMES, 5000, 'the relay to read every datagram');
  await until(() => vb.stats().totals.received === CALM_FRAMES && va.stats().totals.received === CALM_FRAMES, 3000, 'the calm call').catch(() => {});

  // Fay's relayed frames may still be on their way to Gus.
  const relayedFromFay = (): number => s.voip.stats().framesRelayed - before.framesRelayed - vb.stats().totals.received - va.stats().totals.received;
  await until(() => gusUdp.received.length >= relayedFromFay(), 3000, 'gus to receive what was relayed').catch(() => {});
  const after = s.voip.stats();
  const calmLost = 2 * CALM_FRAMES - vb.stats().totals.received - va.stats().totals.received;
  const fayRelayed = gusUdp.received.length;
  const rateLimited = after.dropped.rateLimited - before.dropped.rateLimited;
  t.log(
    `flood: ${floodSent} frames in ${Math.round(floodMs)} ms (${Math.round((floodSent * 1000) / floodMs)}/s), ${fayRelayed} relayed, ${rateLimited} dropped as rateLimited; ` +
      `calm call: ${calmLost} of ${2 * CALM_FRAMES} lost (${((100 * calmLost) / (2 * CALM_FRAMES)).toFixed(2)} %); ` +
      `relay sent ${after.framesRelayed - before.framesRelayed} datagrams, ${after.bytesRelayed - before.bytesRelayed} bytes`,
  );
  t.true(calmLost / (2 * CALM_FRAMES) < 0.001, `calm call lost ${calmLost} frames`);
  // Fay never got more than her burst plus her rate over the flood (one token of slack for timer rounding).
  t.true(fayRelayed <= 50 + Math.ceil((100 * floodMs) / 1000) + 1, `${fayRelayed} of fay's frames relayed in ${floodMs} ms`);
  t.true(floodSent > fayRelayed * 2, 'the flood was over the rate');
  t.is(rateLimited, floodSent - fayRelayed, 'every flood frame was either relayed or dropped as rateLimited');
  t.is(after.framesRelayed - before.framesRelayed, fayRelayed + 2 * CALM_FRAMES);
});

/**
 * Another process floods from fay's bound address as fast as it can (the issue's
 * attack, 150-220k datagrams/s here): more than one UDP socket can be read in a
 * second, so the kernel drops. Once over her rate, fay gets a socket of her own
 * (voip.peerSockets), which takes the loss; the unrelated call loses nothing.
 */
const FLOODER = `
const dgram = require('node:dgram');
const [port, b64, ms] = process.argv.slice(1);
const bindFrame = Buffer.from(b64.split('.')[0], 'base64');
const floodFrame = Buffer.from(b64.split('.')[1], 'base64');
const s = dgram.createSocket('udp4');
s.on('error', () => {});
s.connect(Number(port), '127.0.0.1', () => {
  s.send(bindFrame);
  process.stdin.once('data', () => {
    const start = performance.now();
    let sent = 0;
    const tick = () => {
      const el = performance.now() - start;
      if (el >= Number(ms) || sent >= 5e6) {
        process.stdout.write(JSON.stringify({ sent, ms: el }) + '\\n', () => s.close(() => process.exit(0)));
        return;
      }
      for (let i = 0; i < 256; i++) s.send(floodFrame);
      sent += 256;
      setImmediate(tick);
    };
    tick();
  });
});`;

test('bounds - a participant flooding from another process faster than a socket can be read costs an unrelated call nothing', async (t) => {
  const { s, flood, va, vb, fay } = await twoCalls(t);
  const gusUdp = await rawUdp(t, s);
  gusUdp.send(frame(flood.callee, 'gus', 0));
  const FLOOD_MS = 2500;
  const frames = `${frame(flood.caller, 'fay', 0).toString('base64')}.${frame(flood.caller, 'fay', 1, Buffer.alloc(160, 7)).toString('base64')}`;
  const child = spawn(process.execPath, ['-e', FLOODER, String(s.udpPort), frames, String(FLOOD_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await bindAll(s, [va, vb], 4);
  t.is(s.voip.stats().peerSockets, 0, 'parties within their rate share the relay socket');
  const before = s.voip.stats();
  child.stdin.write('go\n');
  const CALM_FRAMES = 100;
  // Paced over 2 s, inside the 2.5 s flood.
  await until(() => s.voip.stats().framesIn - before.framesIn > 1000, 3000, 'the flood to start');
  await Promise.all([va.paced({ payloadBytes: 160, frames: CALM_FRAMES }), vb.paced({ payloadBytes: 160, frames: CALM_FRAMES })]);
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 0);
  const { sent, ms } = JSON.parse(out) as { sent: number; ms: number };
  await until(() => vb.stats().totals.received === CALM_FRAMES && va.stats().totals.received === CALM_FRAMES, 5000, 'the calm call').catch(() => {});
  const after = s.voip.stats();
  const read = after.framesIn - before.framesIn;
  const calmLost = 2 * CALM_FRAMES - vb.stats().totals.received - va.stats().totals.received;
  t.log(
    `flood: ${sent} datagrams in ${Math.round(ms)} ms (${Math.round((sent * 1000) / ms)}/s), relay read ${read} in all; ` +
      `calm call: ${calmLost} of ${2 * CALM_FRAMES} lost`,
  );
  t.true(sent > 10 * CALM_FRAMES, 'the flood ran');
  t.is(after.peerSockets, 1, 'the flooder, and only she, has a socket of her own');
  t.is(calmLost, 0, 'the unrelated call lost frames');
  t.is(va.stats().totals.duplicates + vb.stats().totals.duplicates, 0);
  // The socket goes with the binding.
  fay.talkEnd('gus', flood.caller);
  await until(() => s.voip.stats().peerSockets === 0 && s.voip.stats().boundEndpoints === 2, 3000, 'the flooder socket to close');
});
