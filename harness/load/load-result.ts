/** Builds a run's `LoadResult` from its counters once it has drained. */
import { DEFAULT_LIMITS } from '../../core/index.js';
import type { LoadScenario } from './defaults.js';
import type { RelayFrameCounts } from './embedded-server.js';
import type { LoadClient } from './load-client.js';
import type { LoadVoice } from './load-voice.js';
import { rateStats, round3, type LoadMetrics } from './metrics.js';
import { limitHints, type LoadResult, type LoadTarget } from './report.js';
import type { Scenario } from './scenarios/index.js';
import type { ServerStats } from './server-stats.js';

/** What the result reports besides the counters. */
export interface RunFacts {
  scenarioName: LoadScenario;
  transport: 'tcp' | 'ws';
  target: LoadTarget;
  clients: number;
  ready: number;
  measuredS: number;
  warmupS: number;
  payloadBytes: number;
  rate: number;
  startedAt: string;
  scenario: Scenario;
  /** `opus` with a voice WAV, else `filler`. */
  codec: 'opus' | 'filler';
  relay: RelayFrameCounts | undefined;
  /** Once-a-second counts taken during the measured window. */
  perSecond: { sent: number[]; delivered: number[]; frames: number[] };
  server: ServerStats | undefined;
}

/**
 * The result of a run, with its hints.
 * @param clients the scenario's long-lived clients (undefined: not set up); voice comes from theirs
 */
export function loadResult(m: LoadMetrics, clients: readonly (LoadClient | undefined)[], r: RunFacts): LoadResult {
  const relay = r.relay;
  const per = (n: number): number => (r.measuredS > 0 ? Math.round((n / r.measuredS) * 10) / 10 : 0);
  const voiceClients = clients.filter((c): c is LoadClient & { voice: LoadVoice } => c?.voice !== undefined);
  const result: LoadResult = {
    scenario: r.scenarioName,
    transport: r.transport,
    target: r.target,
    clients: r.clients,
    clientsReady: r.ready,
    senders: r.scenario.senders,
    talkers: r.scenario.talkers,
    rate: r.rate,
    durationS: round3(r.measuredS),
    warmupS: r.warmupS,
    payloadBytes: r.payloadBytes,
    sent: m.sent,
    sendRate: per(m.sent),
    expected: m.expected,
    received: m.received,
    lost: Math.max(0, m.expected - m.received),
    duplicates: m.duplicates,
    outOfOrder: m.outOfOrder,
    deliveriesPerSec: per(m.received),
    latencyMs: m.latency.summary(),
    connectMs: m.connect.summary(),
    errors: { ...m.errors },
    errorsTotal: m.errorsTotal,
    disconnects: { ...m.disconnects },
    windowStalls: m.windowStalls,
    hints: [],
    startedAt: r.startedAt,
  };
  const perSecond: NonNullable<LoadResult['perSecond']> = { sent: rateStats(r.perSecond.sent), delivered: rateStats(r.perSecond.delivered) };
  result.perSecond = perSecond;
  if (voiceClients.length > 0) {
    const v = m.voice;
    const jitters = voiceClients.flatMap((c) => c.voice.jitters());
    result.voice = {
      codec: r.codec,
      framesSent: v.framesSent,
      framesExpected: v.framesExpected,
      framesReceived: v.framesReceived,
      framesLost: Math.max(0, v.framesExpected - v.framesReceived),
      duplicates: v.duplicates,
      outOfOrder: v.outOfOrder,
      undecodable: v.undecodable,
      latencyMs: v.latency.summary(),
      jitterMs: jitters.length > 0 ? round3(jitters.reduce((a, b) => a + b, 0) / jitters.length) : 0,
      jitterMaxMs: jitters.length > 0 ? round3(Math.max(...jitters)) : 0,
    };
    result.voice.bindingSent = v.bindingSent;
    result.voice.framesSentAll = v.framesSentAll;
    if (relay) result.voice.relay = relay;
    perSecond.frames = rateStats(r.perSecond.frames);
  }
  if (r.scenarioName === 'churn') {
    result.churn = { cycles: m.churn.cycles, failed: m.churn.failed, cyclesPerSec: per(m.churn.cycles), cycleMs: m.churn.cycle.summary() };
  }
  if (r.server) result.server = r.server;
  result.hints = limitHints(result, DEFAULT_LIMITS.rateLimit);
  return result;
}
