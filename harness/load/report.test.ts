// formatReport is pure: a fixed result gives a fixed text. Thresholds and hints.
import test from 'ava';
import { checkThresholds, formatReport, limitHints, totalLoss, type LoadResult } from './report.js';

const lat = (p50: number, max: number, count: number) => ({ p50, p90: p50 * 2, p97_5: p50 * 3, p99: p50 * 4, p999: p50 * 5, max, mean: p50 * 1.1, count });

function fixed(): LoadResult {
  return {
    scenario: 'mixed',
    target: { kind: 'embedded', host: '127.0.0.1', port: 40000, udpPort: 40001, tuning: 'no rate limit, no per-IP limit, 64 MiB send queue', plugins: ['ping', 'channels', 'im', 'voip'] },
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
      relay: { framesIn: 6000, framesRelayed: 5990, dropped: 2 },
    },
    server: { cpuS: 4.5, rssPeakMB: 210.4, source: 'worker-thread', cpuIncludesHarness: false, rssIncludesHarness: true, pid: 1234 },
    hints: ['raise the thing'],
    startedAt: '2026-01-01T00:00:00.000Z',
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

Deliveries: 499,990 of 500,000 expected, lost 10 (0.002%), 1 duplicates, 2 out of order
Throughput: 10,000 sent (1,000 msg/s of 1,000 target), 49,999 deliveries/s
Voice (opus): 5,000 frames sent, 4,995 of 5,000 expected received, lost 5 (0.100%), 0 duplicates, 0 out of order, jitter 0.12 ms (max 0.5 ms), 0 undecodable
Relay: 6,000 frames in, 5,990 relayed, 2 dropped (whole run)
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
  const r: LoadResult = { ...fixed(), scenario: 'churn', senders: 0, talkers: 0, voice: undefined, churn: { cycles: 321, failed: 0, cyclesPerSec: 32.1, cycleMs: lat(2, 8, 321) } };
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
  t.deepEqual(failed, [
    'p99 latency 2 ms > --max-p99 0.001 ms',
    'lost 15 > --max-loss 14',
    'lost 0.003% > --max-loss 0.001%',
    'errors 4 > --max-errors 0',
  ]);
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
