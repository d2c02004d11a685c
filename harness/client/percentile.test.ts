import test from 'ava';
import { LatencySampler, percentile } from './percentile.js';

const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

test('percentile - nearest rank over 1..100', (t) => {
  t.is(percentile(oneToHundred, 50), 50);
  t.is(percentile(oneToHundred, 99), 99);
  t.is(percentile(oneToHundred, 100), 100);
  t.is(percentile(oneToHundred, 0), 1);
  t.is(percentile(oneToHundred, 97.5), 98);
});

test('percentile - small sets and no values', (t) => {
  t.is(percentile([7], 50), 7);
  t.is(percentile([1, 2, 3, 4], 50), 2);
  t.is(percentile([1, 2, 3, 4], 51), 3);
  t.true(Number.isNaN(percentile([], 50)));
  t.throws(() => percentile([1], 101), { instanceOf: RangeError });
});

test('percentile - the sampler summarises what it recorded', (t) => {
  const s = new LatencySampler();
  t.deepEqual(s.summary(), { p50: 0, p99: 0, max: 0, count: 0 });
  for (const v of [...oneToHundred].reverse()) s.record(v);
  t.deepEqual(s.summary(), { p50: 50, p99: 99, max: 100, count: 100 });
});

test('percentile - past its capacity the sampler keeps count and max exact', (t) => {
  const s = new LatencySampler(100);
  for (let i = 1; i <= 10_000; i++) s.record(i);
  const sum = s.summary();
  t.is(sum.count, 10_000);
  t.is(sum.max, 10_000);
  // A uniform subset of 100: the median lands well inside the middle.
  t.true(sum.p50 > 3000 && sum.p50 < 7000, `p50 ${sum.p50}`);
});

test('percentile - merging samplers adds their samples', (t) => {
  const a = new LatencySampler();
  const b = new LatencySampler();
  for (let i = 1; i <= 50; i++) a.record(i);
  for (let i = 51; i <= 100; i++) b.record(i);
  a.merge(b);
  t.deepEqual(a.summary(), { p50: 50, p99: 99, max: 100, count: 100 });
});
