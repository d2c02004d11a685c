/** `parley load`: parses flags, runs the harness, renders progress and the report. The work is in harness/. */
import { writeFile } from 'node:fs/promises';
import { BUILTIN_PLUGIN_NAMES, type BuiltinPluginName } from '../index.js';
import { DEFAULT_LOAD_OPTIONS, LOAD_SCENARIOS, LOAD_TRANSPORTS, type LoadMix, type LoadScenario, type LoadTransport } from '../harness/load/defaults.js';
import { formatTick, Harness, type LoadOptions } from '../harness/load/index.js';
import { checkThresholds, formatReport, type LoadThresholds } from '../harness/load/report.js';
import { duration, hostPort, num, parseFlags, port, UsageError, type FlagSpec } from './args.js';

/**
 * Every flag of `parley load`. No defaults here: a missing flag stays undefined
 * and the harness fills it from DEFAULT_LOAD_OPTIONS.
 */
export const LOAD_OPTIONS = {
  target: { type: 'string' },
  embedded: { type: 'boolean' },
  'embedded-thread': { type: 'string' },
  plugins: { type: 'string' },
  scenario: { type: 'string' },
  transport: { type: 'string' },
  clients: { type: 'string' },
  senders: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  ramp: { type: 'string' },
  'payload-bytes': { type: 'string' },
  mix: { type: 'string' },
  'group-size': { type: 'string' },
  window: { type: 'string' },
  'voice-wav': { type: 'string' },
  'udp-port': { type: 'string' },
  'server-pid': { type: 'string' },
  'setup-timeout': { type: 'string' },
  drain: { type: 'string' },
  json: { type: 'string' },
  'max-p99': { type: 'string' },
  'max-loss': { type: 'string' },
  'max-errors': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, FlagSpec>;

/** `50ms`, `0.5s`, `250us` (or `µs`), or a bare number of ms, to ms (the one duration parser, bare unit ms). */
export function parseDurationMs(value: string, flag: string): number {
  return duration(value, flag, { bare: 'ms' })!;
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
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [k, v] = part.split('=');
    if (k !== 'chat' && k !== 'dm' && k !== 'voice') throw new UsageError(`--mix: unknown part "${k}" (use chat, dm, voice)`);
    mix[k] = num(v, `mix ${k}`, { min: 0 })!;
  }
  if (mix.chat + mix.dm + mix.voice <= 0) throw new UsageError('--mix weights must add up to more than 0');
  return mix;
}

/** Parses `parley load` flags into harness options and thresholds. */
export function loadOptionsFrom(argv: string[]): { options: LoadOptions; thresholds: LoadThresholds; json: string | undefined } {
  const v = parseFlags(argv, LOAD_OPTIONS);
  const seconds = (flag: 'duration' | 'warmup' | 'setup-timeout' | 'drain', positive = false): number | undefined => {
    const ms = duration(v[flag], flag, { positive });
    return ms === undefined ? undefined : ms / 1000;
  };
  if (v.target !== undefined && v.embedded) throw new UsageError('--target and --embedded are exclusive');
  const scenario = (v.scenario ?? DEFAULT_LOAD_OPTIONS.scenario) as LoadScenario;
  if (!LOAD_SCENARIOS.includes(scenario)) throw new UsageError(`--scenario must be one of ${LOAD_SCENARIOS.join(', ')}`);
  const transport = (v.transport ?? DEFAULT_LOAD_OPTIONS.transport) as LoadTransport;
  if (!LOAD_TRANSPORTS.includes(transport)) throw new UsageError(`--transport must be one of ${LOAD_TRANSPORTS.join(', ')}`);
  const thread = v['embedded-thread'] ?? 'worker';
  if (thread !== 'worker' && thread !== 'main') throw new UsageError('--embedded-thread must be worker or main');
  const options: LoadOptions = {
    scenario,
    transport,
    clients: num(v.clients, 'clients', { min: 1, integer: true }),
    senders: num(v.senders, 'senders', { min: 0, integer: true }),
    rate: num(v.rate, 'rate', { min: 0 }),
    durationS: seconds('duration'),
    warmupS: seconds('warmup'),
    ramp: num(v.ramp, 'ramp', { min: 0.001 }),
    payloadBytes: num(v['payload-bytes'], 'payload-bytes', { min: 0, integer: true }),
    groupSize: num(v['group-size'], 'group-size', { min: 2, integer: true }),
    window: num(v.window, 'window', { min: 1, integer: true }),
    setupTimeoutS: seconds('setup-timeout', true),
    drainS: seconds('drain'),
    serverPid: num(v['server-pid'], 'server-pid', { min: 1, integer: true }),
    voiceWav: v['voice-wav'],
  };
  if (v.mix !== undefined) options.mix = parseMix(v.mix);
  if ((scenario === 'dm' || scenario === 'voice' || scenario === 'group-voice') && (options.clients ?? DEFAULT_LOAD_OPTIONS.clients) < 2) {
    throw new UsageError(`--scenario ${scenario} needs --clients 2 or more`);
  }
  const udpPort = port(v['udp-port'], 'udp-port', 1);
  if (v.target !== undefined) {
    // Several nodes of one cluster: clients go to them round robin.
    const nodes = v.target
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => hostPort(s, 'target'));
    if (nodes.length === 0) throw new UsageError('--target needs HOST:PORT[,HOST:PORT...]');
    if (nodes.length > 1 && udpPort !== undefined)
      throw new UsageError('--udp-port goes with a single --target (each node of several relays voice on its TCP port)');
    options.target = nodes.length === 1 ? { ...nodes[0]!, udpPort } : nodes;
  } else {
    if (udpPort !== undefined) throw new UsageError('--udp-port goes with --target');
    const names = (v.plugins ?? BUILTIN_PLUGIN_NAMES.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names) {
      if (!(BUILTIN_PLUGIN_NAMES as readonly string[]).includes(n))
        throw new UsageError(`--plugins: unknown plugin '${n}' (available: ${BUILTIN_PLUGIN_NAMES.join(', ')})`);
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
    if (jsonToStdout) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      if (json !== undefined) await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
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
