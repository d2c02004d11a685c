// Child-process plumbing for the benchmarks: spawn (optionally pinned to a CPU with
// taskset), line-wise reading of stdout and stderr, waiting for a line with a timeout,
// and killing that never leaves a process behind (SIGTERM, then SIGKILL; plus a
// synchronous SIGKILL of every live child when the orchestrator exits).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

const TASKSET = '/usr/bin/taskset';
const live = new Set<BenchChild>();

export interface SpawnOptions {
  /** CPU to pin the child to with taskset, when taskset exists and the machine has more than one CPU. */
  cpu?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function canPin(): boolean {
  return fs.existsSync(TASKSET) && os.availableParallelism() > 1;
}

type LineListener = (line: string, stream: 'stdout' | 'stderr') => void;

export class BenchChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly label: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners = new Set<LineListener>();
  private tail: string[] = [];
  private hasExited = false;

  constructor(label: string, command: string, args: string[], opts: SpawnOptions = {}) {
    this.label = label;
    const pinned = opts.cpu !== undefined && canPin();
    const cmd = pinned ? TASKSET : command;
    const argv = pinned ? ['-c', String(opts.cpu), command, ...args] : args;
    // taskset execs the command, so the pid is the command's pid.
    this.proc = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (this.proc.pid === undefined) throw new Error(`${label}: could not spawn ${cmd}`);
    this.pid = this.proc.pid;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.hasExited = true;
        live.delete(this);
        resolve({ code, signal });
      });
      this.proc.on('error', () => {
        this.hasExited = true;
        live.delete(this);
        resolve({ code: null, signal: null });
      });
    });
    this.readLines(this.proc.stdout!, 'stdout');
    this.readLines(this.proc.stderr!, 'stderr');
    this.proc.stdin!.on('error', () => {
      /* EPIPE once the child is gone */
    });
  }

  get alive(): boolean {
    return !this.hasExited;
  }

  private readLines(stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        this.tail.push(`[${name}] ${line}`);
        if (this.tail.length > 30) this.tail.shift();
        for (const l of [...this.listeners]) l(line, name);
      }
    });
  }

  /** Calls fn for every line from now on; returns the unsubscribe function. */
  onLine(fn: (line: string, stream: 'stdout' | 'stderr') => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The last lines the child printed, for error messages. */
  recentOutput(): string {
    return this.tail.join('\n');
  }

  /** Resolves with the first line (from now on) that matches; rejects on timeout or exit. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs: number, what: string): Promise<{ line: string; m: RegExpExecArray | null }> {
    return new Promise((resolve, reject) => {
      let done = false;
      const cleanup = (): void => {
        done = true;
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener: LineListener = (line) => {
        if (done) return;
        const m = match instanceof RegExp ? match.exec(line) : null;
        if (match instanceof RegExp ? m !== null : match(line)) {
          cleanup();
          resolve({ line, m });
        }
      };
      const timer = setTimeout(() => {
        if (done) return;
        cleanup();
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.recentOutput()}`));
      }, timeoutMs);
      this.listeners.add(listener);
      void this.exited.then(({ code, signal }) => {
        if (done) return;
        // Give the stream readers a moment to deliver the last lines.
        setTimeout(() => {
          if (done) return;
          cleanup();
          reject(new Error(`${this.label}: exited (code ${code}, signal ${signal}) while waiting for ${what}\n${this.recentOutput()}`));
        }, 100);
      });
    });
  }

  send(text: string): void {
    if (this.alive && this.proc.stdin!.writable) this.proc.stdin!.write(text);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  async kill(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    this.proc.stdin!.end();
    this.proc.kill('SIGTERM');
    const t = await Promise.race([this.exited.then(() => true), delay(graceMs).then(() => false)]);
    if (!t && this.alive) {
      this.proc.kill('SIGKILL');
      await Promise.race([this.exited, delay(2000)]);
    }
  }

  /** Waits for a voluntary exit up to timeoutMs, then kills. */
  async waitOrKill(timeoutMs: number): Promise<void> {
    const t = await Promise.race([this.exited.then(() => true), delay(timeoutMs).then(() => false)]);
    if (!t) await this.kill();
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

let hooksInstalled = false;

/** Kill children on exit, on SIGINT/SIGTERM and on an uncaught error. */
export function installCleanupHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.proc.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: stopping child processes\n`);
    void killAllChildren().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('uncaughtException', (err) => {
    process.stderr.write(`uncaught: ${err.stack ?? String(err)}\n`);
    void killAllChildren().finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void killAllChildren().finally(() => process.exit(1));
  });
}
