/**
 * The result of a load run (also the `--json` file) and its rendering:
 * `formatReport` (a pure function: same result, same text), the threshold
 * check behind `parley load`'s exit code, and the hints about server limits.
 */
import type { LoadScenario } from './defaults.js';
import type { LatencySummaryMs, RateStats } from './metrics.js';
import type { RelayFrameCounts } from './embedded-server.js';
import { formatTable } from './table.js';
import type { ServerStats } from './server-stats.js';

export type { LatencySummaryMs, RateStats } from './metrics.js';
export type { RelayFrameCounts } from './embedded-server.js';
export type { ServerStats } from './server-stats.js';

export interface LoadTarget {
  kind: 'embedded' | 'remote';
  host: string;
  port: number;
  /** The voice relay's UDP port, when a voice scenario used it. */
  udpPort?: number;
  /** Embedded only: how the server was tuned for load, e.g. 'no rate limit, no per-IP limit, 64 MiB send queue'. */
  tuning?: string;
  /** Embedded only: its plugins. */
  plugins?: string[];
  /** Remote with several nodes: every node, clients spread over them round robin (`host`/`port` is the first). */
  nodes?: { host: string; port: number; udpPort?: number }[];
}

export interface VoiceResult {
  /** `opus` with --voice-wav, else `filler` (payloadBytes of 0x55). */
  codec: 'opus' | 'filler';
  framesSent: number;
  /** Frames the relay should have delivered: each measured frame times the other bound participants. */
  framesExpected: number;
  framesReceived: number;
  framesLost: number;
  duplicates: number;
  outOfOrder: number;
  /** Opus frames that did not decode (0 without --voice-wav). */
  undecodable: number;
  latencyMs: LatencySummaryMs;
  /** RFC 3550 interarrival jitter, mean over (receiver, sender) streams. */
  jitterMs: number;
  /** The largest stream's jitter. */
  jitterMaxMs: number;
  /** Voice frames with a payload sent over the whole run (warm-up and drain included). */
  framesSentAll?: number;
  /** Empty-payload binding frames sent over the whole run: the relay consumes them. */
  bindingSent?: number;
  /** Embedded only: the relay's own counters for the whole run. */
  relay?: RelayFrameCounts;
}

export interface ChurnResult {
  /** Measured cycles that completed: connect, JOIN, LEAVE, DISCONNECT, close. */
  cycles: number;
  failed: number;
  cyclesPerSec: number;
  cycleMs: LatencySummaryMs;
}

/** One run's figures. Deliveries count only messages sent inside the measured window. */
export interface LoadResult {
  scenario: LoadScenario;
  /** How the clients' text reached the server: 'tcp' or 'ws' (WebSocket). */
  transport: 'tcp' | 'ws';
  target: LoadTarget;
  /** Clients asked for (churn: concurrent connect/leave loops). */
  clients: number;
  /** Long-lived clients connected and set up when the load started. */
  clientsReady: number;
  /** Text senders. */
  senders: number;
  /** Voice talkers. */
  talkers: number;
  /** Target messages/s (churn: cycles/s); 0 = open loop. */
  rate: number;
  /** Measured seconds (shorter when stopped early). */
  durationS: number;
  warmupS: number;
  payloadBytes: number;
  /** Text messages sent in the measured window (churn: JOIN and LEAVE commands). */
  sent: number;
  /** Messages sent per second. */
  sendRate: number;
  /** Deliveries the sent messages should cause (churn: USERJOIN/USERLEAVE notices). */
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  deliveriesPerSec: number;
  /** Delivery latency, send to receipt. */
  latencyMs: LatencySummaryMs;
  /** TCP connect to `ACCEPT`, every connection of the run. */
  connectMs: LatencySummaryMs;
  /** By code: `ERROR <CODE>` lines, `REFUSED` (closed before ACCEPT), `DISCONNECTED`, `TIMEOUT`, errno codes. */
  errors: Record<string, number>;
  errorsTotal: number;
  /** Connections the server closed, by reason (`DISCONNECT: <reason>` text). */
  disconnects: Record<string, number>;
  /** Times a paced sender was held back by its in-flight window (the target rate was not kept). */
  windowStalls: number;
  voice?: VoiceResult;
  churn?: ChurnResult;
  server?: ServerStats;
  /** What to change when the server refused or throttled the load. */
  hints: string[];
  /** ISO time the run started. */
  startedAt: string;
  /**
   * Per-second counts over the measured window (one sample per progress tick whose second ended in it):
   * messages (churn: commands) sent, deliveries (churn: notices), voice frames received.
   */
  perSecond?: { sent: RateStats; delivered: RateStats; frames?: RateStats };
}

/** Pass/fail limits of `parley load`. */
export interface LoadThresholds {
  /** Highest acceptable p99 delivery latency (voice latency too), ms. */
  maxP99Ms?: number;
  /** Lost deliveries plus lost voice frames: a count... */
  maxLostCount?: number;
  /** ...or a percentage of those expected. */
  maxLostPercent?: number;
  /** Highest acceptable `errorsTotal`. */
  maxErrors?: number;
}

/** Lost deliveries and voice frames, and what was expected of both. */
export function totalLoss(r: LoadResult): { lost: number; expected: number } {
  return { lost: r.lost + (r.voice?.framesLost ?? 0), expected: r.expected + (r.voice?.framesExpected ?? 0) };
}

/** One threshold's verdict; `text` reads as a comparison, `>` when it failed, `<=` when it passed. */
export interface ThresholdCheck {
  ok: boolean;
  text: string;
}

/** Every threshold that `t` sets, passed or failed, in a fixed order (k6's summary). */
export function thresholdChecks(r: LoadResult, t: LoadThresholds): ThresholdCheck[] {
  const out: ThresholdCheck[] = [];
  const cmp = (ok: boolean): string => (ok ? '<=' : '>');
  if (t.maxP99Ms !== undefined) {
    const p99 = Math.max(r.latencyMs.p99, r.voice?.latencyMs.p99 ?? 0);
    const ok = p99 <= t.maxP99Ms;
    out.push({ ok, text: `p99 latency ${fmtMs(p99)} ms ${cmp(ok)} --max-p99 ${fmtMs(t.maxP99Ms)} ms` });
  }
  const { lost, expected } = totalLoss(r);
  if (t.maxLostCount !== undefined) {
    const ok = lost <= t.maxLostCount;
    out.push({ ok, text: `lost ${lost} ${cmp(ok)} --max-loss ${t.maxLostCount}` });
  }
  if (t.maxLostPercent !== undefined) {
    const pct = expected > 0 ? (100 * lost) / expected : 0;
    const ok = pct <= t.maxLostPercent;
    out.push({ ok, text: `lost ${pct.toFixed(3)}% ${cmp(ok)} --max-loss ${t.maxLostPercent}%` });
  }
  if (t.maxErrors !== undefined) {
    const ok = r.errorsTotal <= t.maxErrors;
    out.push({ ok, text: `errors ${r.errorsTotal} ${cmp(ok)} --max-errors ${t.maxErrors}` });
  }
  return out;
}

/**
 * Checks a result against thresholds.
 * @returns one message per threshold that failed (empty: pass)
 */
export function checkThresholds(r: LoadResult, t: LoadThresholds): string[] {
  return thresholdChecks(r, t)
    .filter((c) => !c.ok)
    .map((c) => c.text);
}

/** Server flag to raise for each disconnect reason a parley server sends. */
const LIMIT_FOR_REASON: Record<string, string> = {
  'too many connections from your address': '--max-per-ip (0 = no limit)',
  'send queue exceeded': '--send-queue (bytes queued per client)',
  'handshake timeout': '--handshake-timeout, or lower --ramp',
  'ping timeout': '--ping-timeout, or lower the load',
};

/** Hints about server limits that the run ran into. */
export function limitHints(
  r: Pick<LoadResult, 'scenario' | 'target' | 'errors' | 'disconnects' | 'senders' | 'rate' | 'sendRate' | 'windowStalls'>,
  defaultRateLimit = 50,
): string[] {
  const hints: string[] = [];
  if (r.scenario !== 'churn' && r.senders > 0 && r.rate > 0 && r.sendRate < 0.9 * r.rate) {
    hints.push(
      `the target rate was not reached (${fmtRate(r.sendRate)} of ${fmtRate(r.rate)} msg/s): the server or this machine is saturated, ` +
        "and latency includes the wait behind each sender's window (--window)",
    );
  }
  for (const [reason, n] of Object.entries(r.disconnects)) {
    const flag = LIMIT_FOR_REASON[reason];
    if (flag) hints.push(`${n} connection(s) closed with "${reason}": raise the server's ${flag}`);
  }
  if (r.errors.ECONNREFUSED) hints.push(`${r.errors.ECONNREFUSED} connection(s) refused by ${r.target.host}:${r.target.port}: is the server running?`);
  if (r.errors.EMFILE || r.errors.ENFILE) hints.push('out of file descriptors: raise `ulimit -n`');
  if (r.errors.EADDRNOTAVAIL) hints.push('out of local ports: lower --clients or widen net.ipv4.ip_local_port_range');
  if (r.errors.NICK_IN_USE) hints.push("NICK_IN_USE: another run's clients may still be connected");
  if (r.target.kind === 'remote' && r.senders > 0 && r.rate / r.senders > defaultRateLimit) {
    hints.push(
      `each sender sends ${fmtRate(r.rate / r.senders)} msg/s; a server's default --rate-limit is ${defaultRateLimit} commands/s per client (excess is delayed, not dropped): raise it or use more --senders`,
    );
  } else if (r.target.kind === 'remote' && r.windowStalls > 0) {
    hints.push('senders were held back by their window: the server fell behind or throttles (--rate-limit)');
  }
  return hints;
}

// ---- rendering ------------------------------------------------------------------

/** Thousands separators, at most `digits` decimals. */
function fmt(v: number, digits = 1): string {
  const f = 10 ** digits;
  const r = Math.round(v * f) / f;
  const [i, d] = String(Math.abs(r)).split('.');
  const grouped = i!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${r < 0 ? '-' : ''}${grouped}${d ? `.${d}` : ''}`;
}

/** Rates: whole numbers from 100 up. */
function fmtRate(v: number): string {
  return fmt(v, v >= 100 ? 0 : 1);
}

function fmtMs(v: number): string {
  return v >= 100 ? fmt(v, 0) : v >= 10 ? fmt(v, 1) : v >= 1 ? fmt(v, 2) : fmt(v, 3);
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(3)}%` : '0%';
}

function latencyRow(name: string, s: LatencySummaryMs): string[] {
  return [name, ...[s.p50, s.p90, s.p97_5, s.p99, s.p999, s.mean, s.max].map(fmtMs), fmt(s.count, 0)];
}

function counts(c: Record<string, number>): string {
  const e = Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return e.length === 0 ? 'none' : e.map(([k, n]) => `${k} ${fmt(n, 0)}`).join(', ');
}

function rateRow(name: string, s: RateStats): string[] {
  return s.samples === 0 ? [name, '-', '-', '-', '-', '0'] : [name, fmtRate(s.avg), fmtRate(s.stdev), fmt(s.min, 0), fmt(s.max, 0), fmt(s.samples, 0)];
}

/** The relay's accounting: every frame in is forwarded, consumed as a binding, had no peer bound, or was dropped. */
function relayLine(v: VoiceResult): string {
  const rl = v.relay!;
  const others = [`${fmt(rl.framesBinding, 0)} binding (empty payload, not relayed)`];
  if (rl.framesNoPeer > 0) others.push(`${fmt(rl.framesNoPeer, 0)} with no other party bound yet`);
  const sent =
    v.bindingSent !== undefined && v.framesSentAll !== undefined ? `; clients sent ${fmt(v.framesSentAll, 0)} + ${fmt(v.bindingSent, 0)} binding` : '';
  return (
    `Relay (whole run): ${fmt(rl.framesIn, 0)} in, ${fmt(rl.framesForwarded, 0)} relayed, ${fmt(rl.dropped, 0)} dropped, ${others.join(', ')}; ` +
    `${fmt(rl.framesRelayed, 0)} datagrams out${sent}`
  );
}

/**
 * The summary table and totals of a run, as printed by `parley load`. Pure.
 * @param thresholds when given, each one's ✓/✗ is listed
 */
export function formatReport(r: LoadResult, thresholds?: LoadThresholds): string {
  const out: string[] = [];
  const churn = r.scenario === 'churn';
  const text = r.senders > 0 || r.expected > 0;
  const rate = r.rate > 0 ? `${fmtRate(r.rate)} ${churn ? 'cycles' : 'msg'}/s target` : 'open loop';
  const who = [churn ? `${fmt(r.clients, 0)} connect/leave loops` : `${fmt(r.clients, 0)} clients (${fmt(r.clientsReady, 0)} ready)`];
  if (r.senders > 0) who.push(`${fmt(r.senders, 0)} senders`);
  if (r.talkers > 0) who.push(`${fmt(r.talkers, 0)} talkers`);
  if (text || churn) who.push(rate);
  out.push(
    `parley load: ${r.scenario}${r.transport === 'ws' ? ' over WebSocket' : ''}, ${who.join(', ')}; ${fmt(r.durationS, 2)} s measured after ${fmt(r.warmupS, 2)} s warm-up`,
  );
  const t = r.target;
  const where = t.nodes ? `${t.nodes.map((n) => `${n.host}:${n.port}`).join(', ')} (${t.nodes.length} nodes, clients round robin)` : `${t.host}:${t.port}`;
  out.push(`target: ${t.kind} ${where}${t.udpPort !== undefined && !t.nodes ? ` (udp ${t.udpPort})` : ''}${t.tuning ? `, tuned for load: ${t.tuning}` : ''}`);
  out.push('');
  const rows: string[][] = [];
  if (text) rows.push(latencyRow(churn ? 'Notice (ms)' : 'Latency (ms)', r.latencyMs));
  if (r.voice) rows.push(latencyRow('Voice (ms)', r.voice.latencyMs));
  if (r.churn) rows.push(latencyRow('Cycle (ms)', r.churn.cycleMs));
  rows.push(latencyRow('Connect (ms)', r.connectMs));
  out.push(formatTable(['Stat', 'p50', 'p90', 'p97.5', 'p99', 'p99.9', 'avg', 'max', 'count'], rows));
  out.push('');
  if (r.perSecond) {
    const ps = r.perSecond;
    const perRows: string[][] = [];
    if (text) perRows.push(rateRow(churn ? 'Commands' : 'Sent', ps.sent), rateRow(churn ? 'Notices' : 'Delivered', ps.delivered));
    if (ps.frames) perRows.push(rateRow('Voice frames', ps.frames));
    if (perRows.length > 0) {
      out.push(formatTable(['Per second', 'avg', 'stdev', 'min', 'max', 'samples'], perRows));
      out.push('');
    }
  }
  if (text) {
    const what = churn ? 'USERJOIN/USERLEAVE notices' : 'Deliveries';
    out.push(
      `${what}: ${fmt(r.received, 0)} of ${fmt(r.expected, 0)} expected, lost ${fmt(r.lost, 0)} (${pct(r.lost, r.expected)}), ` +
        `${fmt(r.duplicates, 0)} duplicates, ${fmt(r.outOfOrder, 0)} out of order`,
    );
  }
  if (text && !churn) {
    out.push(
      `Throughput: ${fmt(r.sent, 0)} sent (${fmtRate(r.sendRate)} msg/s${r.rate > 0 ? ` of ${fmtRate(r.rate)} target` : ''}), ${fmtRate(r.deliveriesPerSec)} deliveries/s` +
        (r.windowStalls > 0 ? `; senders held by their window ${fmt(r.windowStalls, 0)} times` : ''),
    );
  }
  if (r.voice) {
    const v = r.voice;
    out.push(
      `Voice (${v.codec}): ${fmt(v.framesSent, 0)} frames sent, ${fmt(v.framesReceived, 0)} of ${fmt(v.framesExpected, 0)} expected received, ` +
        `lost ${fmt(v.framesLost, 0)} (${pct(v.framesLost, v.framesExpected)}), ${fmt(v.duplicates, 0)} duplicates, ${fmt(v.outOfOrder, 0)} out of order, ` +
        `jitter ${fmtMs(v.jitterMs)} ms (max ${fmtMs(v.jitterMaxMs)} ms)${v.codec === 'opus' ? `, ${fmt(v.undecodable, 0)} undecodable` : ''}`,
    );
    if (v.relay) out.push(relayLine(v));
  }
  if (r.churn) {
    const c = r.churn;
    out.push(`Churn: ${fmt(c.cycles, 0)} cycles completed (${fmt(c.failed, 0)} failed), ${fmtRate(c.cyclesPerSec)} cycles/s`);
  }
  out.push(`Errors: ${r.errorsTotal === 0 ? 'none' : counts(r.errors)}`);
  if (Object.keys(r.disconnects).length > 0) {
    out.push(
      `Disconnects: ${Object.entries(r.disconnects)
        .map(([k, n]) => `"${k}" ×${fmt(n, 0)}`)
        .join(', ')}`,
    );
  }
  if (r.server) {
    const s = r.server;
    const where =
      s.source === 'in-process'
        ? 'embedded on the main thread: includes the load clients'
        : s.source === 'worker-thread'
          ? 'embedded in a worker thread: CPU of its thread, RSS of the whole process'
          : `pid ${s.pid}`;
    const share = r.durationS > 0 ? `, ${fmt((100 * s.cpuS) / r.durationS, 0)}% of one core` : '';
    out.push(`Server: ${fmt(s.cpuS, 2)} CPU s${share}, peak RSS ${fmt(s.rssPeakMB, 0)} MB (${where})`);
  }
  for (const h of r.hints) out.push(`Hint: ${h}`);
  const checks = thresholds ? thresholdChecks(r, thresholds) : [];
  if (checks.length > 0) {
    out.push('Thresholds:');
    for (const c of checks) out.push(`  ${c.ok ? '✓' : '✗'} ${c.text}`);
  }
  return `${out.join('\n')}\n`;
}
