// The write batcher's two kinds of output: direct output is flushed whole each turn, a wide fan-out's bulk in slices after it.
import test from 'ava';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WriteBatcher, type Batched } from './write-batcher.js';

/** A connection that records when it was flushed, and queues output as a SendQueue does. */
class Conn implements Batched {
  flushedAt: number[] = [];
  batchState = 0;
  constructor(
    readonly name: string,
    private readonly b: WriteBatcher,
    private readonly turn: { n: number },
  ) {}
  write(): void {
    this.b.schedule(this, this.b.meter.count(this, 10));
  }
  flush(): void {
    this.flushedAt.push(this.turn.n);
  }
}

function setup(opts: { bulkAbove: number; bulkSlice: number; coalesceAbove?: number }) {
  const b = new WriteBatcher({ coalesceAbove: opts.coalesceAbove ?? 0, maxDelayMs: 50, ...opts });
  const turn = { n: 0 };
  const conns = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => new Conn(`${prefix}${i}`, b, turn));
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) {
      turn.n++;
      await nextTurn();
    }
  };
  return { b, conns, turns, turn };
}

test('write batcher - a wide fan-out writes its first bulkAbove recipients at once, the rest bulkSlice sockets a turn', async (t) => {
  const { b, conns, turns } = setup({ bulkAbove: 3, bulkSlice: 4 });
  const sender = conns('s', 1)[0]!;
  const members = conns('m', 15);
  b.meter.begin(sender);
  sender.write(); // its own reply: direct, not counted
  for (const m of members) m.write();
  b.meter.end();
  t.is(b.meter.recipients, 15);
  t.is(b.meter.bytes, 150);
  await turns(6);
  t.deepEqual(sender.flushedAt, [1]);
  // 3 direct in the first turn; 12 bulk: 4 in each of the three turns after their pass starts.
  const byTurn = new Map<number, number>();
  for (const m of members) for (const at of m.flushedAt) byTurn.set(at, (byTurn.get(at) ?? 0) + 1);
  t.deepEqual(
    [...byTurn.entries()].sort((x, y) => x[0] - y[0]),
    [
      [1, 3 + 4],
      [2, 4],
      [3, 4],
    ],
  );
  t.true(
    members.every((m) => m.flushedAt.length === 1),
    'each member flushed once',
  );
});

test("write batcher - while a wide fan-out is written in slices, another client's reply goes out at the end of its own turn", async (t) => {
  const { b, conns, turns, turn } = setup({ bulkAbove: 2, bulkSlice: 10 });
  const attacker = conns('a', 1)[0]!;
  const probe = conns('p', 1)[0]!;
  const members = conns('m', 100);
  b.meter.begin(attacker);
  for (const m of members) m.write();
  b.meter.end();
  await turns(2);
  // Mid-pass: the probe's command replies to itself (and to one friend, a member not yet flushed).
  const friend = members[99]!;
  t.deepEqual(friend.flushedAt, []);
  const at = turn.n;
  b.meter.begin(probe);
  probe.write();
  friend.write();
  b.meter.end();
  await turns(1);
  t.deepEqual(probe.flushedAt, [at + 1]);
  t.deepEqual(friend.flushedAt, [at + 1], 'a connection with direct output is flushed whole, bulk included');
  await turns(12);
  t.true(
    members.every((m) => m.flushedAt.length >= 1),
    'every member flushed',
  );
  t.is(Math.max(...members.map((m) => m.flushedAt[0]!)), 10, 'bulk pass of 98 sockets in slices of 10');
});

test('write batcher - output made outside a command is direct up to bulkAbove writes between flushes; bulkAbove 0 makes all of it direct', async (t) => {
  {
    const { conns, turns } = setup({ bulkAbove: 5, bulkSlice: 2 });
    const cs = conns('c', 9);
    for (const c of cs) c.write();
    await turns(1);
    t.is(cs.filter((c) => c.flushedAt[0] === 1).length, 5 + 2);
    // A new turn starts a new count.
    const more = conns('d', 3);
    for (const c of more) c.write();
    await turns(3);
    t.true(more.every((c) => c.flushedAt[0] === 2));
  }
  {
    const { b, conns, turns } = setup({ bulkAbove: 0, bulkSlice: 1 });
    const sender = conns('s', 1)[0]!;
    const cs = conns('c', 50);
    b.meter.begin(sender);
    for (const c of cs) c.write();
    b.meter.end();
    await turns(1);
    t.true(cs.every((c) => c.flushedAt[0] === 1));
  }
});

test('write batcher - a bulk pass of coalesceAbove sockets or more delays the next pass by sockets/100 ms, at most maxDelayMs', async (t) => {
  const { b, conns } = setup({ bulkAbove: 1, bulkSlice: 10_000, coalesceAbove: 200 });
  const sender = conns('s', 1)[0]!;
  const wave = (n: number, p: string) => {
    const cs = conns(p, n);
    b.meter.begin(sender);
    for (const c of cs) c.write();
    b.meter.end();
    return cs;
  };
  const first = wave(8001, 'a');
  await nextTurn();
  t.true(
    first.every((c) => c.flushedAt.length === 1),
    'the first pass at once',
  );
  const t0 = performance.now();
  const second = wave(301, 'b');
  await nextTurn();
  await nextTurn();
  t.is(second[300]!.flushedAt.length, 0, 'the next pass waits');
  t.is(second[0]!.flushedAt.length, 1, 'direct output does not');
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (second[300]!.flushedAt.length > 0) resolve();
      else if (performance.now() - t0 > 5000) reject(new Error('the second pass never ran'));
      else setTimeout(check, 1);
    };
    check();
  });
  // 8,000 sockets: 80 ms, capped at maxDelayMs 50 (timers may fire a millisecond or two early).
  const waited = performance.now() - t0;
  t.true(waited >= 45, `second pass after ${waited.toFixed(1)} ms`);
});
