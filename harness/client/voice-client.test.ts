// VoiceClient against a UDP echo socket standing in for the relay.
import test, { type ExecutionContext } from 'ava';
import * as dgram from 'node:dgram';
import { firstValueFrom, take, toArray } from 'rxjs';
import { VoiceClient, voiceClock } from './voice-client.js';
import { decodeVoiceFrame, encodeVoiceFrame } from '../../plugins/voip/voice-frame.js';

/** Echoes every datagram to its sender and records what it got. */
async function echo(t: ExecutionContext): Promise<{ port: number; got: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (buf, rinfo) => {
    got.push(buf);
    socket.send(buf, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => socket.close(() => r())));
  return { port: socket.address().port, got };
}

async function open(t: ExecutionContext, port: number, nick = 'alice'): Promise<VoiceClient> {
  const v = await VoiceClient.open({ port, key: 'k'.repeat(22), nick, bindAddress: '127.0.0.1' });
  t.teardown(() => v.close());
  return v;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

test('voice client - bind sends an empty frame without using up a sequence number', async (t) => {
  const relay = await echo(t);
  const v = await open(t, relay.port);
  const before = voiceClock();
  v.bind();
  v.send(Buffer.from('abc'));
  await until(() => relay.got.length === 2);
  const [bind, first] = relay.got.map((b) => decodeVoiceFrame(b)!);
  t.deepEqual({ ...bind!, ts: 0 }, { key: 'k'.repeat(22), nick: 'alice', seq: 0, ts: 0, payload: Buffer.alloc(0) });
  t.is(first!.seq, 0);
  t.deepEqual(first!.payload, Buffer.from('abc'));
  t.true(first!.ts >= before && first!.ts <= voiceClock());
  t.is(v.seq, 1);
});

test('voice client - paced sends every frame on schedule and the echo counts none lost', async (t) => {
  const relay = await echo(t);
  const v = await open(t, relay.port);
  const started = performance.now();
  await v.paced({ payloadBytes: 160, frameMs: 5, frames: 20 });
  const took = performance.now() - started;
  t.true(took >= 5 * 19 - 1, `took ${took} ms`);
  await until(() => v.stats().totals.received === 20);
  const s = v.stats();
  t.is(s.sent, 20);
  t.like(s.senders.alice, { received: 20, lost: 0, duplicates: 0, outOfOrder: 0 });
  t.is(s.totals.latencyMs.count, 20);
  t.true(s.totals.latencyMs.p50 >= 0 && s.totals.latencyMs.max < 1000);
});

test('voice client - stats count gaps, duplicates, reordering and undecodable datagrams', async (t) => {
  const relay = await echo(t);
  const v = await open(t, relay.port);
  const frame = (seq: number, ts: number): Buffer => encodeVoiceFrame({ key: 'k', nick: 'bob', seq, ts, payload: Buffer.from([seq]) });
  const now = voiceClock();
  for (const seq of [0, 1, 3, 2, 2, 5]) {
    v.sendRaw(frame(seq, now + seq));
    await new Promise((r) => setTimeout(r, 2)); // keep the arrival order
  }
  v.sendRaw(Buffer.from('not a frame'));
  await until(() => v.stats().undecodable === 1 && (v.stats().senders.bob?.received ?? 0) === 5);
  const s = v.stats();
  t.like(s.senders.bob, { received: 5, lost: 1, duplicates: 1, outOfOrder: 1 });
  t.is(s.undecodable, 1);
  t.like(s.totals, { received: 5, lost: 1, duplicates: 1, outOfOrder: 1 });
});

test('voice client - frames$ emits each received frame and completes on close', async (t) => {
  const relay = await echo(t);
  const v = await open(t, relay.port);
  const all = firstValueFrom(v.frames$.pipe(take(3), toArray()));
  for (let i = 0; i < 3; i++) v.send(Buffer.from([i]));
  const got = await all;
  t.deepEqual(
    got.map((f) => f.frame.seq),
    [0, 1, 2],
  );
  t.true(got.every((f) => f.receivedAt >= f.frame.ts));
  const completed = firstValueFrom(v.frames$, { defaultValue: 'completed' });
  await v.close();
  t.is(await completed, 'completed');
});
