/** `parley load`: parses flags, runs the harness, renders progress and the report. The work is in harness/. */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BUILTIN_PLUGIN_NAMES, type BuiltinPluginName } from '../index.js';
import { DEFAULT_LOAD_OPTIONS, LOAD_SCENARIOS, type LoadMix, type LoadScenario } from '../harness/load/defaults.js';
import { formatTick, Harness, type LoadOptions } from '../harness/load/index.js';
import { checkThresholds, formatReport, type LoadThresholds } from '../harness/load/report.js';
import { hostPort, num, UsageError } from './args.js';

export const LOAD_OPTIONS = {
  target: { type: 'string' },
  embedded: { type: 'boolean' },
  'embedded-thread': { type: 'string', default: 'worker' },
  plugins: { type: 'string' },
  scenario: { type: 'string', default: DEFAULT_LOAD_OPTIONS.scenario },
  clients: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.clients) },
  senders: { type: 'string' },
  rate: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.rate) },
  duration: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.durationS) },
  warmup: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.warmupS) },
  ramp: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.ramp) },
  'payload-bytes': { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.payloadBytes) },
  mix: { type: 'string' },
  'group-size': { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.groupSize) },
  window: { type: 'string' },
  'voice-wav': { type: 'string' },
  'udp-port': { type: 'string' },
  'server-pid': { type: 'string' },
  'setup-timeout': { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.setupTimeoutS) },
  drain: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.drainS) },
  json: { type: 'string' },
  'max-p99': { type: 'string' },
  'max-loss': { type: 'string' },
  'max-errors': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `50ms`, `0.5s`, `250us` (or `µs`), or a bare number of ms, to ms. */
export function parseDurationMs(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|us|µs)?\s*$/.exec(value);
  if (!m) throw new UsageError(`--${flag} expects a duration such as 50ms, 0.5s or 250us, got "${value}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return unit === 's' ? n * 1000 : unit === 'ms' ? n : n / 1000;
}

/** `5` (lost deliveries and voice frames, a count) or `0.1%` (of those expected). */
export function parseLoss(value: string): Pick<LoadThresholds, 'maxLostCount' | 'maxLostPercent'> {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
  if (pct) return { maxLostPercent: Number(pct[1]) };
  return { maxLostCount: num(value, 'max-loss', { min: 0, integer: true }) };
}

/** `chat=70,dm=20,voice=10`; a missing part weighs 0. */
export function parseMix(value: string): LoadMix {
  const mix: LoadMix = { chat: 0, dm: 0, voice: 0 };
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v] = part.split('=');
    if (k !== 'chat' && k !== 'dm' && k !== 'voice') throw new UsageError(`--mix: unknown part "${k}" (use chat, dm, voice)`);
    mix[k] = num(v, `mix ${k}`, { min: 0 })!;
  }
  if (mix.chat + mix.dm + mix.voice <= 0) throw new UsageError('--mix weights must add up to more than 0');
  return mix;
}

/** Parses `parley load` flags into harness options and thresholds. */
export function loadOptionsFrom(argv: string[]): { options: LoadOptions; thresholds: LoadThresholds; json: string | undefined } {
  const { values: v } = parseArgs({ args: argv, options: LOAD_OPTIONS, strict: true, allowPositionals: false });
  if (v.target !== undefined && v.embedded) throw new UsageError('--target and --embedded are exclusive');
  const scenario = v.scenario as LoadScenario;
  if (!LOAD_SCENARIOS.includes(scenario)) throw new UsageError(`--scenario must be one of ${LOAD_SCENARIOS.join(', ')}`);
  const thread = v['embedded-thread'];
  if (thread !== 'worker' && thread !== 'main') throw new UsageError('--embedded-thread must be worker or main');
  const options: LoadOptions = {
    scenario,
    clients: num(v.clients, 'clients', { min: 1, integer: true }),
    senders: num(v.senders, 'senders', { min: 0, integer: true }),
    rate: num(v.rate, 'rate', { min: 0 }),
    durationS: num(v.duration, 'duration', { min: 0 }),
    warmupS: num(v.warmup, 'warmup', { min: 0 }),
    ramp: num(v.ramp, 'ramp', { min: 0.001 }),
    payloadBytes: num(v['payload-bytes'], 'payload-bytes', { min: 0, integer: true }),
    groupSize: num(v['group-size'], 'group-size', { min: 2, integer: true }),
    window: num(v.window, 'window', { min: 1, integer: true }),
    setupTimeoutS: num(v['setup-timeout'], 'setup-timeout', { min: 0.001 }),
    drainS: num(v.drain, 'drain', { min: 0 }),
    serverPid: num(v['server-pid'], 'server-pid', { min: 1, integer: true }),
    voiceWav: v['voice-wav'],
  };
  if (v.mix !== undefined) options.mix = parseMix(v.mix);
  if ((scenario === 'dm' || scenario === 'voice' || scenario === 'group-voice') && options.clients! < 2) {
    throw new UsageError(`--scenario ${scenario} needs --clients 2 or more`);
  }
  const udpPort = num(v['udp-port'], 'udp-port', { min: 1, integer: true });
  if (udpPort !== undefined && udpPort > 65535) throw new UsageError(`--udp-port: port ${udpPort} is out of range`);
  if (v.target !== undefined) {
    const t = hostPort(v.target, 'target');
    if (t.port === 0) throw new UsageError('--target needs a port');
    options.target = { ...t, udpPort };
  } else {
    if (udpPort !== undefined) throw new UsageError('--udp-port goes with --target');
    const names = (v.plugins ?? BUILTIN_PLUGIN_NAMES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    for (const n of names) {
      if (!(BUILTIN_PLUGIN_NAMES as readonly string[]).includes(n)) throw new UsageError(`--plugins: unknown plugin "${n}" (available: ${BUILTIN_PLUGIN_NAMES.join(', ')})`);
    }
    options.embedded = { plugins: names as BuiltinPluginName[], thread };
  }
  const thresholds: LoadThresholds = {};
  if (v['max-p99'] !== undefined) thresholds.maxP99Ms = parseDurationMs(v['max-p99'], 'max-p99');
  if (v['max-loss'] !== undefined) Object.assign(thresholds, parseLoss(v['max-loss']));
  if (v['max-errors'] !== undefined) thresholds.maxErrors = num(v['max-errors'], 'max-errors', { min: 0, integer: true });
  return { options, thresholds, json: v.json };
}

export { formatTick } from '../harness/load/index.js';

/**
 * Exit code: 0 pass, 1 a threshold failed (each is printed) or no client got in, 2 usage error
 * (thrown as UsageError for `main` to print).
 */
export async function load(argv: string[]): Promise<number> {
  const { options, thresholds, json } = loadOptionsFrom(argv);
  const jsonToStdout = json === '-';
  const abort = new AbortController();
  options.signal = abort.signal;
  let harness: Harness;
  try {
    harness = new Harness(options);
  } catch (err) {
    throw err instanceof RangeError ? new UsageError(err.message) : err;
  }
  const err = process.stderr;
  const tty = err.isTTY === true;
  if (!jsonToStdout) {
    harness.on('tick', (t) => (tty ? err.write(`\r\x1b[K${formatTick(t)}`) : err.write(`${formatTick(t)}\n`)));
  }
  let interrupted = 0;
  const onSigint = (): void => {
    // First ^C: stop measuring and report what was measured; second: leave now.
    if (++interrupted > 1) process.exit(130);
    err.write('\nparley load: interrupted, finishing (^C again to quit)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await harness.run();
    if (tty && !jsonToStdout) err.write('\r\x1b[K');
    if (jsonToStdout) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      if (json !== undefined) await writeFile(json, JSON.stringify(result, null, 2) + '\n');
      process.stdout.write(formatReport(result, thresholds));
    }
    const failed = checkThresholds(result, thresholds);
    if (result.clientsReady === 0) failed.unshift('no client could connect and set up');
    for (const f of failed) err.write(`parley load: ${f.startsWith('no client') ? '' : 'threshold failed: '}${f}\n`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
