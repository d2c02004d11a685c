/**
 * The embedded server of a load run, started in this process with
 * `createServer`, tuned for load. By default it runs in a worker thread, so
 * that the server and the load clients each get a core, and the server's CPU
 * time is that of its own thread (from /proc/self/task/<tid>/stat); with
 * `thread: 'main'` it shares the event loop with the load clients.
 */
import { readlinkSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DEFAULT_LIMITS, type Limits } from '../../core/index.js';
import { builtinPlugins, createServer, type BuiltinPluginName } from '../../plugins/index.js';
import { VoipPlugin } from '../../plugins/voip/index.js';
import { processSampler, readCpuTicks, clockTicks, type ServerSampler } from './server-stats.js';

export interface EmbeddedServerOptions {
  plugins: readonly BuiltinPluginName[];
  limits: Partial<Limits>;
  /** 'worker' (default): a worker thread; 'main': this thread. */
  thread?: 'worker' | 'main';
}

/**
 * The voice relay's frame accounting over the whole run (a snapshot of `VoipPlugin.stats()`):
 * `framesIn = framesForwarded + framesBinding + framesNoPeer + dropped`; `framesRelayed` counts
 * datagrams sent, one per recipient.
 */
export interface RelayFrameCounts {
  framesIn: number;
  framesForwarded: number;
  framesRelayed: number;
  framesBinding: number;
  framesNoPeer: number;
  dropped: number;
}

export interface EmbeddedServer {
  readonly host: string;
  readonly port: number;
  /** The voice relay's port, when voip is enabled. */
  readonly udpPort: number | undefined;
  readonly thread: 'worker' | 'main';
  /** Describes the tuning, for the report. */
  readonly tuning: string;
  /** CPU of the server's thread (worker) or of the process (main), and the process's RSS. */
  sampler(): ServerSampler;
  relayCounters(): Promise<RelayFrameCounts | undefined>;
  close(): Promise<void>;
}

const WORKER_KIND = 'parley-embedded-server';

interface Listening {
  type: 'listening';
  host: string;
  port: number;
  udpPort: number | undefined;
  tid: number;
}
type FromWorker = Listening | { type: 'relay'; relay: RelayFrameCounts | undefined } | { type: 'closed' } | { type: 'failed'; message: string };

/** Starts an embedded server on 127.0.0.1, port 0. */
export async function startEmbedded(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const l = { ...DEFAULT_LIMITS, ...opts.limits };
  const tuning = [
    l.rateLimit === 0 ? 'no rate limit' : `rate limit ${l.rateLimit}/s`,
    l.maxConnectionsPerIp === 0 ? 'no per-IP limit' : `${l.maxConnectionsPerIp} connections per IP`,
    `${Math.round(l.sendQueueBytes / 1024 / 1024)} MiB send queue`,
    'no default channel',
  ].join(', ');
  return opts.thread === 'main' ? startHere(opts, tuning) : startWorker(opts, tuning);
}

function build(opts: EmbeddedServerOptions) {
  return createServer({
    // No default channel: a scenario's channels are the only fan-out.
    plugins: builtinPlugins(opts.plugins, { channels: { defaultChannel: null }, voip: { udpPort: 0 } }),
    limits: opts.limits,
    logger: 'silent',
  });
}

async function startHere(opts: EmbeddedServerOptions, tuning: string): Promise<EmbeddedServer> {
  const server = build(opts);
  const addr = await server.listen({ host: '127.0.0.1', port: 0 });
  const voip = opts.plugins.includes('voip') ? server.resolve(VoipPlugin) : undefined;
  return {
    host: addr.host,
    port: addr.port,
    udpPort: voip?.udpAddress()?.port,
    thread: 'main',
    tuning,
    sampler: processSampler,
    relayCounters: async () => (voip ? relayOf(voip) : undefined),
    close: () => server.close(),
  };
}

function relayOf(voip: VoipPlugin): RelayFrameCounts {
  const s = voip.stats();
  return {
    framesIn: s.framesIn,
    framesForwarded: s.framesForwarded,
    framesRelayed: s.framesRelayed,
    framesBinding: s.framesBinding,
    framesNoPeer: s.framesNoPeer,
    dropped: s.droppedTotal,
  };
}

async function startWorker(opts: EmbeddedServerOptions, tuning: string): Promise<EmbeddedServer> {
  const worker = new Worker(__filename, { workerData: { kind: WORKER_KIND, plugins: [...opts.plugins], limits: opts.limits } });
  const waiting = new Map<string, (m: FromWorker) => void>();
  let failure: Error | undefined;
  worker.on('message', (m: FromWorker) => {
    const w = waiting.get(m.type);
    waiting.delete(m.type);
    w?.(m);
  });
  worker.on('error', (err) => {
    failure = err;
    for (const w of waiting.values()) w({ type: 'failed', message: err.message });
    waiting.clear();
  });
  const next = (type: FromWorker['type']): Promise<FromWorker> => (failure ? Promise.reject(failure) : new Promise((resolve) => waiting.set(type, resolve)));
  const first = await Promise.race([next('listening'), next('failed')]);
  if (first.type !== 'listening') {
    await worker.terminate();
    throw new Error(`embedded server failed to start: ${first.type === 'failed' ? first.message : first.type}`);
  }
  const tid = first.tid;
  let closed: Promise<void> | undefined;
  return {
    host: first.host,
    port: first.port,
    udpPort: first.udpPort,
    thread: 'worker',
    tuning,
    sampler: () => threadSampler(tid),
    async relayCounters() {
      if (failure || closed) return undefined;
      const reply = next('relay');
      worker.postMessage('relay');
      const m = await reply;
      return m.type === 'relay' ? m.relay : undefined;
    },
    close() {
      closed ??= (async () => {
        if (!failure) {
          const done = next('closed');
          worker.postMessage('close');
          await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())]);
        }
        await worker.terminate();
      })();
      return closed;
    },
  };
}

/** The worker's CPU from /proc/self/task/<tid>/stat; RSS is the whole process's. */
function threadSampler(tid: number): ServerSampler {
  const rss = processSampler();
  let t0: number | undefined;
  let cpuS = 0;
  const ticks = (): number | undefined => readCpuTicks(`/proc/self/task/${tid}/stat`);
  return {
    begin() {
      t0 = ticks();
      rss.begin();
    },
    sample() {
      rss.sample();
    },
    end() {
      const t1 = ticks();
      if (t0 !== undefined && t1 !== undefined) cpuS = Math.round(((t1 - t0) / clockTicks()) * 100) / 100;
      const r = rss.end()!;
      return { ...r, cpuS, source: 'worker-thread', cpuIncludesHarness: false };
    },
  };
}

/** Worker side: serve until told to close. */
async function serveInWorker(data: { plugins: BuiltinPluginName[]; limits: Partial<Limits> }): Promise<void> {
  const port = parentPort!;
  try {
    const server = build({ plugins: data.plugins, limits: data.limits });
    const addr = await server.listen({ host: '127.0.0.1', port: 0 });
    const voip = data.plugins.includes('voip') ? server.resolve(VoipPlugin) : undefined;
    // /proc/thread-self names this thread: "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    port.on('message', (m: string) => {
      if (m === 'relay') port.postMessage({ type: 'relay', relay: voip ? relayOf(voip) : undefined } satisfies FromWorker);
      if (m === 'close') {
        void server.close().finally(() => {
          port.postMessage({ type: 'closed' } satisfies FromWorker);
          port.close();
        });
      }
    });
    port.postMessage({ type: 'listening', host: addr.host, port: addr.port, udpPort: voip?.udpAddress()?.port, tid } satisfies FromWorker);
  } catch (err) {
    port.postMessage({ type: 'failed', message: (err as Error).message } satisfies FromWorker);
  }
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  void serveInWorker(workerData as { plugins: BuiltinPluginName[]; limits: Partial<Limits> });
}
