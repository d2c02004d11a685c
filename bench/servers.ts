// The chat servers that the benchmarks compare, started as external processes.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BenchChild, type SpawnOptions } from './children.js';

/** dist/ (this file is dist/bench/servers.js once built). */
export const DIST_DIR = path.resolve(__dirname, '..');
/** The repository root. */
export const ROOT_DIR = path.resolve(DIST_DIR, '..');

export interface ServerKind {
  readonly name: string;
  /** The fan-out load generator for this kind, in dist/bench (default fanout-load.js). */
  readonly loadScript?: string;
  /** Extra flags of that load generator (`--ws` for WebSocket servers). */
  readonly loadArgs?: readonly string[];
  /** undefined when the server can run, otherwise why it cannot (yet). */
  unavailable(): string | undefined;
  /** Starts the server on a free port on 127.0.0.1 and resolves once it listens. */
  start(opts: SpawnOptions & { startTimeoutMs?: number }): Promise<RunningServer>;
}

export interface RunningServer {
  readonly child: BenchChild;
  readonly port: number;
}

async function startAndParsePort(
  label: string,
  script: string,
  args: string[],
  portRe: RegExp,
  opts: SpawnOptions & { startTimeoutMs?: number },
): Promise<RunningServer> {
  const child = new BenchChild(label, process.execPath, [script, ...args], { ...opts, cwd: opts.cwd ?? ROOT_DIR });
  try {
    const { m } = await child.waitForLine(portRe, opts.startTimeoutMs ?? 20_000, `${label} to listen (${portRe})`);
    const port = Number(m![1]);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${label}: bad port in output`);
    return { child, port };
  } catch (err) {
    await child.kill();
    throw err;
  }
}

/** Why the comparison server dist/bench/<script> cannot run (not built), else undefined. */
function benchScriptMissing(script: string): string | undefined {
  const f = path.join(DIST_DIR, 'bench', script);
  return fs.existsSync(f) ? undefined : `${f} not built`;
}

/** Starts the comparison server dist/bench/<script>: `--port 0 --parent-stdin`, prints `LISTENING <port>`. */
function startBenchScript(label: string, script: string, opts: SpawnOptions & { startTimeoutMs?: number }): Promise<RunningServer> {
  return startAndParsePort(label, path.join(DIST_DIR, 'bench', script), ['--port', '0', '--parent-stdin'], /^LISTENING (\d+)/, opts);
}

/** A comparison server that is just dist/bench/<script>. */
function benchScriptServer(name: string, label: string, script: string): ServerKind {
  return {
    name,
    unavailable() {
      return benchScriptMissing(script);
    },
    start(opts) {
      return startBenchScript(label, script, opts);
    },
  };
}

export const bareServer: ServerKind = benchScriptServer('bare', 'bare', 'bare-fanout-server.js');

export const parleyServer: ServerKind = {
  name: 'parley',
  unavailable() {
    const f = path.join(DIST_DIR, 'cli', 'main.js');
    return fs.existsSync(f) ? undefined : `${f} does not exist yet`;
  },
  start(opts) {
    return startParley(opts);
  },
};

/**
 * `parley serve` with the benchmark flags (the voip plugin is on by default: UDP on the TCP
 * port), plus `extra` flags.
 */
export function startParley(opts: SpawnOptions & { startTimeoutMs?: number }, extra: readonly string[] = []): Promise<RunningServer> {
  return startAndParsePort(
    'parley',
    path.join(DIST_DIR, 'cli', 'main.js'),
    ['serve', '--port', '0', '--rate-limit', '0', '--max-per-ip', '0', '--log-level', 'warn', ...extra],
    /listening on \S*?127\.0\.0\.1:(\d+)/i,
    opts,
  );
}

/** The Socket.IO 4 server with rooms (dist/bench/socketio-server.js). */
export const socketioServer: ServerKind = {
  name: 'socket.io',
  loadScript: 'socketio-load.js',
  unavailable() {
    const missing = benchScriptMissing('socketio-server.js');
    if (missing !== undefined) return missing;
    try {
      require.resolve('socket.io', { paths: [ROOT_DIR] });
    } catch {
      return 'socket.io is not installed (npm install)';
    }
    return undefined;
  },
  start(opts) {
    return startBenchScript('socket.io', 'socketio-server.js', opts);
  },
};

/** A bare `ws` broadcast server: the lower bound over WebSocket (dist/bench/bare-ws-server.js). */
export const bareWsServer: ServerKind = { ...benchScriptServer('bare-ws', 'bare-ws', 'bare-ws-server.js'), loadArgs: ['--ws'] };

/** `parley serve` driven over WebSocket at /parley of its one port. */
export const parleyWsServer: ServerKind = { ...parleyServer, name: 'parley-ws', loadArgs: ['--ws'] };

export const chatServers: readonly ServerKind[] = [bareServer, parleyServer, socketioServer, bareWsServer, parleyWsServer];

// ---- voice relays -------------------------------------------------------------------

export const bareVoiceServer: ServerKind = benchScriptServer('bare', 'bare-voice', 'bare-voice-forwarder.js');

let voipState: string | undefined | null = null;

/** parley with its voip plugin: UDP relay on the TCP port number. */
export const parleyVoiceServer: ServerKind = {
  name: 'parley',
  unavailable() {
    const why = parleyServer.unavailable();
    if (why !== undefined) return why;
    if (voipState !== null) return voipState;
    if (!fs.existsSync(path.join(DIST_DIR, 'plugins', 'voip', 'index.js'))) return 'voip plugin not built';
    try {
      const help = execFileSync(process.execPath, [path.join(DIST_DIR, 'cli', 'main.js'), 'serve', '--help'], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      voipState = /udp/i.test(help) ? undefined : 'voip plugin not built';
    } catch {
      voipState = 'voip plugin not built (parley serve --help failed)';
    }
    return voipState;
  },
  start(opts) {
    return startParley(opts);
  },
};
