// One timer for many deadlines of the same length: every entry expires once, in order, no sooner than its time.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineQueue } from './deadline-queue.js';

test('deadline queue - entries expire in the order added, each at least ms after it was added', async (t) => {
  const expired: { item: number; after: number }[] = [];
  const added = new Map<number, number>();
  const q = new DeadlineQueue<number>(40, (item) => expired.push({ item, after: performance.now() - added.get(item)! }));
  for (let i = 0; i < 3; i++) {
    added.set(i, performance.now());
    q.add(i);
    await sleep(10);
  }
  await sleep(120);
  t.deepEqual(
    expired.map((e) => e.item),
    [0, 1, 2],
  );
  // Timers run on the loop's cached clock, so allow a millisecond or two early.
  for (const e of expired) t.true(e.after >= 38, `item ${e.item} after ${e.after.toFixed(1)} ms`);
  t.is(q.size, 0);
});

test('deadline queue - an entry added while others expire waits its full time; clear drops everything; ms 0 adds nothing', async (t) => {
  const seen: string[] = [];
  const q: DeadlineQueue<string> = new DeadlineQueue<string>(30, (item) => {
    seen.push(item);
    if (item === 'a') q.add('again');
  });
  q.add('a');
  await sleep(45);
  t.deepEqual(seen, ['a']);
  t.is(q.size, 1);
  await sleep(60);
  t.deepEqual(seen, ['a', 'again']);
  q.add('never');
  q.clear();
  await sleep(60);
  t.deepEqual(seen, ['a', 'again']);
  const off = new DeadlineQueue<string>(0, () => t.fail('expired with ms 0'));
  off.add('x');
  t.is(off.size, 0);
});

test('deadline queue - a cancelled entry never expires and no longer holds its item', async (t) => {
  const seen: string[] = [];
  const q = new DeadlineQueue<{ name: string }>(20, (item) => seen.push(item.name));
  const a = q.add({ name: 'a' });
  q.add({ name: 'b' });
  q.cancel(a);
  t.is(a.item, undefined);
  q.cancel(undefined);
  await sleep(60);
  t.deepEqual(seen, ['b']);
});
