import test from 'ava';
import { interarrivalJitter, JitterEstimator } from './jitter.js';

test('jitter - constant transit time gives zero jitter', (t) => {
  const samples = Array.from({ length: 50 }, (_, i) => ({ sent: i * 20, arrival: i * 20 + 7 }));
  t.is(interarrivalJitter(samples), 0);
});

test('jitter - a single packet gives zero jitter', (t) => {
  t.is(interarrivalJitter([{ sent: 0, arrival: 100 }]), 0);
});

test('jitter - a known sequence gives the RFC 3550 value', (t) => {
  // Transit times 10, 12, 10, 15 ms: |D| = 2, 2, 5.
  const samples = [
    { sent: 0, arrival: 10 },
    { sent: 20, arrival: 32 },
    { sent: 40, arrival: 50 },
    { sent: 60, arrival: 75 },
  ];
  const j1 = 2 / 16;
  const j2 = j1 + (2 - j1) / 16;
  const j3 = j2 + (5 - j2) / 16;
  t.is(interarrivalJitter(samples), j3);
  t.is(j3, 0.53955078125);
});

test('jitter - the estimator reports the value after each packet', (t) => {
  const est = new JitterEstimator();
  t.is(est.update(10, 0), 0);
  t.is(est.update(38, 20), 8 / 16);
  t.is(est.value, 0.5);
});

test('jitter - alternating transit times converge to their difference', (t) => {
  const samples = Array.from({ length: 400 }, (_, i) => ({ sent: i * 20, arrival: i * 20 + (i % 2 === 0 ? 5 : 15) }));
  t.true(Math.abs(interarrivalJitter(samples) - 10) < 1e-6);
});

test('jitter - only the difference of transit times counts, not clock offset', (t) => {
  const a = [0, 3, 1, 8, 2].map((d, i) => ({ sent: i * 20, arrival: i * 20 + d }));
  const b = a.map((s) => ({ sent: s.sent + 1e12, arrival: s.arrival - 5000 }));
  t.true(Math.abs(interarrivalJitter(a) - interarrivalJitter(b)) < 1e-9);
});
