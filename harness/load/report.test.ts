// formatReport is pure: a fixed result gives a fixed text. Thresholds and hints.
import test from 'ava';
import { checkThresholds, formatReport, limitHints, thresholdChecks, totalLoss, type LoadResult } from './report.js';
import { formatTick, type LoadTick } from './progress.js';
import { LoadMetrics, rateStats } from './metrics.js';
import { ProgressMeter } from './progress.js';

const lat = (p50: number, max: number, count: number) => ({ p50, p90: p50 * 2, p97_5: p50 * 3, p99: p50 * 4, p999: p50 * 5, max, mean: p50 * 1.1, count });

function fixed(): LoadResult {
  return {
    scenario: 'mixed',
    transport: 'tcp',
    target: {
      kind: 'embedded',
      host: '127.0.0.1',
      port: 40000,
      udpPort: 40001,
      tuning: 'no rate limit, no per-IP limit, 64 MiB send queue',
      plugins: ['ping', 'channels', 'im', 'voip'],
    },
    clients: 100,
    clientsReady: 100,
    senders: 30,
    talkers: 10,
    rate: 1000,
    durationS: 10,
    warmupS: 2,
    payloadBytes: 100,
    sent: 10000,
    sendRate: 1000,
    expected: 500000,
    received: 499990,
    lost: 10,
    duplicates: 1,
    outOfOrder: 2,
    deliveriesPerSec: 49999,
    latencyMs: lat(0.5, 12.25, 499990),
    connectMs: lat(1.5, 9, 100),
    errors: { REFUSED: 3, BUSY: 1 },
    errorsTotal: 4,
    disconnects: { 'too many connections from your address': 3 },
    windowStalls: 0,
    voice: {
      codec: 'opus',
      framesSent: 5000,
      framesExpected: 5000,
      framesReceived: 4995,
      framesLost: 5,
      duplicates: 0,
      outOfOrder: 0,
      undecodable: 0,
      latencyMs: lat(0.3, 4, 4995),
      jitterMs: 0.12,
      jitterMaxMs: 0.5,
      framesSentAll: 5900,
      bindingSent: 100,
      relay: { framesIn: 6000, framesForwarded: 5890, framesRelayed: 5890, framesBinding: 100, framesNoPeer: 8, dropped: 2 },
    },
    server: { cpuS: 4.5, rssPeakMB: 210.4, source: 'worker-thread', cpuIncludesHarness: false, rssIncludesHarness: true, pid: 1234 },
    hints: ['raise the thing'],
    startedAt: '2026-01-01T00:00:00.000Z',
    perSecond: {
      sent: { avg: 1000, stdev: 12.5, min: 980, max: 1020, samples: 10 },
      delivered: { avg: 49999, stdev: 250, min: 49500, max: 50400, samples: 10 },
      frames: { avg: 499.5, stdev: 1.5, min: 497, max: 501, samples: 10 },
    },
  };
}

const EXPECTED = `parley load: mixed, 100 clients (100 ready), 30 senders, 10 talkers, 1,000 msg/s target; 10 s measured after 2 s warm-up
target: embedded 127.0.0.1:40000 (udp 40001), tuned for load: no rate limit, no per-IP limit, 64 MiB send queue

┌──────────────┬─────┬─────┬───────┬─────┬───────┬──────┬──────┬─────────┐
│ Stat         │ p50 │ p90 │ p97.5 │ p99 │ p99.9 │  avg │  max │   count │
├──────────────┼─────┼─────┼───────┼─────┼───────┼──────┼──────┼─────────┤
│ Latency (ms) │ 0.5 │   1 │   1.5 │   2 │   2.5 │ 0.55 │ 12.3 │ 499,990 │
│ Voice (ms)   │ 0.3 │ 0.6 │   0.9 │ 1.2 │   1.5 │ 0.33 │    4 │   4,995 │
│ Connect (ms) │ 1.5 │   3 │   4.5 │   6 │   7.5 │ 1.65 │    9 │     100 │
└──────────────┴─────┴─────┴───────┴─────┴───────┴──────┴──────┴─────────┘

┌──────────────┬────────┬───────┬────────┬────────┬─────────┐
│ Per second   │    avg │ stdev │    min │    max │ samples │
├──────────────┼────────┼───────┼────────┼────────┼─────────┤
│ Sent         │  1,000 │  12.5 │    980 │  1,020 │      10 │
│ Delivered    │ 49,999 │   250 │ 49,500 │ 50,400 │      10 │
│ Voice frames │    500 │   1.5 │    497 │    501 │      10 │
└──────────────┴────────┴───────┴────────┴────────┴─────────┘

Deliveries: 499,990 of 500,000 expected, lost 10 (0.002%), 1 duplicates, 2 out of order
Throughput: 10,000 sent (1,000 msg/s of 1,000 target), 49,999 deliveries/s
Voice (opus): 5,000 frames sent, 4,995 of 5,000 expected received, lost 5 (0.100%), 0 duplicates, 0 out of order, jitter 0.12 ms (max 0.5 ms), 0 undecodable
Relay (whole run): 6,000 in, 5,890 relayed, 2 dropped, 100 binding (empty payload, not relayed), 8 with no other party bound yet; 5,890 datagrams out; clients sent 5,900 + 100 binding
Errors: REFUSED 3, BUSY 1
Disconnects: "too many connections from your address" ×3
Server: 4.5 CPU s, 45% of one core, peak RSS 210 MB (embedded in a worker thread: CPU of its thread, RSS of the whole process)
Hint: raise the thing
`;

test('formatReport - renders a fixed result as the fixed table and totals', (t) => {
  t.is(formatReport(fixed()), EXPECTED);
});

test('formatReport - is pure: same input, same text, input untouched', (t) => {
  const r = fixed();
  const before = JSON.stringify(r);
  t.is(formatReport(r), formatReport(r));
  t.is(JSON.stringify(r), before);
});

test('formatReport - churn shows notices, cycles and no send throughput', (t) => {
  const r: LoadResult = {
    ...fixed(),
    scenario: 'churn',
    senders: 0,
    talkers: 0,
    voice: undefined,
    churn: { cycles: 321, failed: 0, cyclesPerSec: 32.1, cycleMs: lat(2, 8, 321) },
  };
  const text = formatReport(r);
  t.regex(text, /^parley load: churn, 100 connect\/leave loops, 1,000 cycles\/s target;/);
  t.regex(text, /│ Notice \(ms\) +│/);
  t.regex(text, /│ Cycle \(ms\) +│/);
  t.regex(text, /USERJOIN\/USERLEAVE notices: 499,990 of 500,000 expected/);
  t.regex(text, /Churn: 321 cycles completed \(0 failed\), 32.1 cycles\/s/);
  t.notRegex(text, /Throughput/);
});

test('formatReport - a voice-only run has no text rows', (t) => {
  const r: LoadResult = { ...fixed(), scenario: 'voice', senders: 0, sent: 0, expected: 0, received: 0, lost: 0 };
  const text = formatReport(r);
  t.notRegex(text, /Latency \(ms\)|Deliveries|Throughput/);
  t.regex(text, /Voice \(ms\)/);
  t.regex(text, /^parley load: voice, 100 clients \(100 ready\), 10 talkers;/);
});

test('checkThresholds - passes within every limit', (t) => {
  t.deepEqual(checkThresholds(fixed(), { maxP99Ms: 2, maxLostCount: 15, maxLostPercent: 0.01, maxErrors: 4 }), []);
  t.deepEqual(checkThresholds(fixed(), {}), []);
});

test('checkThresholds - names each threshold that failed', (t) => {
  const failed = checkThresholds(fixed(), { maxP99Ms: 0.001, maxLostCount: 14, maxLostPercent: 0.001, maxErrors: 0 });
  t.deepEqual(failed, ['p99 latency 2 ms > --max-p99 0.001 ms', 'lost 15 > --max-loss 14', 'lost 0.003% > --max-loss 0.001%', 'errors 4 > --max-errors 0']);
});

test('checkThresholds - voice p99 counts too', (t) => {
  const r = fixed();
  r.voice!.latencyMs.p99 = 30;
  t.deepEqual(checkThresholds(r, { maxP99Ms: 20 }), ['p99 latency 30 ms > --max-p99 20 ms']);
});

test('totalLoss - adds lost voice frames to lost deliveries', (t) => {
  t.deepEqual(totalLoss(fixed()), { lost: 15, expected: 505000 });
});

test('limitHints - names the server flag for each refusal reason and for throttling', (t) => {
  const base = { scenario: 'chat' as const, errors: {}, senders: 10, rate: 100, sendRate: 100, windowStalls: 0 };
  const remote = { kind: 'remote' as const, host: 'h', port: 1 };
  t.deepEqual(limitHints({ ...base, target: remote, disconnects: {} }), []);
  const hints = limitHints({
    ...base,
    target: remote,
    rate: 2000,
    sendRate: 1000,
    errors: { REFUSED: 2, ECONNREFUSED: 1 },
    disconnects: { 'too many connections from your address': 2, 'send queue exceeded': 1 },
  });
  t.true(hints.some((h) => h.includes('--max-per-ip')));
  t.true(hints.some((h) => h.includes('--send-queue')));
  t.true(hints.some((h) => h.includes('is the server running')));
  t.true(hints.some((h) => h.includes('--rate-limit') && h.includes('200 msg/s')));
  t.true(hints.some((h) => h.includes('target rate was not reached')));
});

test('formatReport - the relay line adds up: in = relayed + dropped + binding + no peer', (t) => {
  const text = formatReport(fixed());
  const m = /Relay \(whole run\): ([\d,]+) in, ([\d,]+) relayed, ([\d,]+) dropped, ([\d,]+) binding \([^)]*\), ([\d,]+) with no other party/.exec(text);
  t.truthy(m);
  const [inN, relayed, dropped, binding, noPeer] = m!.slice(1).map((x) => Number(x.replace(/,/g, '')));
  t.is(inN, relayed! + dropped! + binding! + noPeer!);
});

test('formatReport - lists every threshold with ✓ or ✗, and none without thresholds', (t) => {
  const text = formatReport(fixed(), { maxP99Ms: 5, maxLostCount: 14, maxErrors: 4 });
  t.true(text.endsWith('Thresholds:\n  ✓ p99 latency 2 ms <= --max-p99 5 ms\n  ✗ lost 15 > --max-loss 14\n  ✓ errors 4 <= --max-errors 4\n'));
  t.notRegex(formatReport(fixed()), /Thresholds/);
  t.notRegex(formatReport(fixed(), {}), /Thresholds/);
});

test('thresholdChecks - failed checks are exactly what checkThresholds reports', (t) => {
  const th = { maxP99Ms: 0.001, maxLostCount: 100, maxLostPercent: 0.001, maxErrors: 10 };
  const checks = thresholdChecks(fixed(), th);
  t.deepEqual(
    checks.map((c) => c.ok),
    [false, true, false, true],
  );
  t.deepEqual(
    checks.filter((c) => !c.ok).map((c) => c.text),
    checkThresholds(fixed(), th),
  );
});

test('formatReport - a run without per-second samples shows dashes, not zeros', (t) => {
  const none = rateStats([]);
  const text = formatReport({ ...fixed(), voice: undefined, perSecond: { sent: none, delivered: none } });
  t.regex(text, /│ Sent +│ +- │ +- │ +- │ +- │ +0 │/);
});

test('rateStats - average, population stdev, min and max of per-second samples', (t) => {
  t.deepEqual(rateStats([2, 4, 4, 4, 5, 5, 7, 9]), { avg: 5, stdev: 2, min: 2, max: 9, samples: 8 });
  t.deepEqual(rateStats([]), { avg: 0, stdev: 0, min: 0, max: 0, samples: 0 });
});

const tick = (over: Partial<LoadTick>): LoadTick => ({
  phase: 'warmup',
  elapsedS: 1.5,
  connected: 10,
  sendRate: 100,
  deliveryRate: 900,
  frameRate: 0,
  p99Ms: null,
  voiceP99Ms: null,
  errors: 0,
  ...over,
});

test('formatTick - shows - for p99 before anything was measured, never 0.00 ms', (t) => {
  const line = formatTick(tick({}));
  t.is(line, '[warmup] 1.5s  10 connected  100 sent/s  900 deliveries/s  p99 - ms  0 errors');
  t.notRegex(line, /0\.00/);
  t.regex(formatTick(tick({ phase: 'measure', p99Ms: 0.004 })), /p99 0\.00 ms/);
  t.regex(formatTick(tick({ phase: 'measure', p99Ms: 12.4 })), /p99 12 ms/);
  t.is(formatTick(tick({ sendRate: 0, deliveryRate: 0, frameRate: 500 })), '[warmup] 1.5s  10 connected  500 frames/s  voice p99 - ms  0 errors');
});

test('formatTick - churn counts connects and disconnects per second', (t) => {
  const line = formatTick(tick({ phase: 'measure', sendRate: 40, deliveryRate: 40, p99Ms: 1.25, churn: { connectRate: 20, disconnectRate: 19 } }));
  t.is(line, '[measure] 1.5s  10 connected  20 connects/s  19 disconnects/s  40 notices/s  p99 1.25 ms  0 errors');
});

test('ProgressMeter - p99 is null until something is measured; churn ticks count connects and disconnects', (t) => {
  const m = new LoadMetrics();
  const meter = new ProgressMeter(m, { t0: performance.now(), churn: true, connected: () => 1 });
  m.churn.connectsAll = 5;
  m.churn.disconnectsAll = 4;
  const first = meter.tick('warmup');
  t.is(first.p99Ms, null);
  t.is(first.voiceP99Ms, null);
  t.true(first.churn!.connectRate > 0 && first.churn!.disconnectRate > 0);
  t.true(first.churn!.connectRate > first.churn!.disconnectRate, '5 connects against 4 disconnects in the same interval');
  m.latency.recordUs(1500);
  const second = meter.tick('measure');
  t.is(second.p99Ms, 1.5);
  t.is(second.churn!.connectRate, 0, 'no connect since the last tick');
  const text = new ProgressMeter(new LoadMetrics(), { t0: 0, churn: false, connected: () => 0 }).tick('ramp');
  t.is(text.churn, undefined);
});
