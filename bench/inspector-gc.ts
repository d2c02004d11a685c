// Forces a full garbage collection in another Node process without changing its code or
// flags: SIGUSR1 opens its inspector (127.0.0.1:9229, printed on its stderr), and the
// DevTools protocol's `HeapProfiler.collectGarbage` runs a full GC. The session stays open
// so that the inspector's own memory is there for both measurements (baseline and loaded).
// Uses the `ws` package that socket.io brings along; without it, forcing is unavailable.
import type { BenchChild } from './children.js';

interface WsLike {
  on(ev: 'open', fn: () => void): void;
  on(ev: 'message', fn: (data: Buffer | string) => void): void;
  on(ev: 'error', fn: (err: Error) => void): void;
  on(ev: 'close', fn: () => void): void;
  send(data: string): void;
  close(): void;
}

type WsCtor = new (url: string, opts?: { perMessageDeflate?: boolean; maxPayload?: number }) => WsLike;

function loadWs(): WsCtor | undefined {
  try {
    return require('ws') as WsCtor;
  } catch {
    return undefined;
  }
}

export class InspectorSession {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WsLike) {
    ws.on('message', (data) => {
      let msg: { id?: number; error?: { message: string }; result?: unknown };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector session closed'));
      this.pending.clear();
    });
  }

  /** Opens the child's inspector and connects; rejects with the reason when it cannot. */
  static async open(child: BenchChild, timeoutMs = 10_000): Promise<InspectorSession> {
    const Ws = loadWs();
    if (Ws === undefined) throw new Error("the 'ws' package is not installed");
    const urlP = child.waitForLine(/Debugger listening on (ws:\/\/\S+)|Starting inspector on .* failed/, timeoutMs, 'the inspector URL');
    process.kill(child.pid, 'SIGUSR1');
    const { m, line } = await urlP;
    if (!m || m[1] === undefined) throw new Error(line.trim());
    const ws = new Ws(m[1], { perMessageDeflate: false, maxPayload: 1 << 26 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('inspector connect timed out')), timeoutMs);
      ws.on('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new InspectorSession(ws);
  }

  call(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Two full GCs (the second collects what the first's finalizers released). */
  async collectGarbage(): Promise<void> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
  }

  /** process.memoryUsage() of the target, in bytes. */
  async memoryUsage(): Promise<NodeJS.MemoryUsage | undefined> {
    const r = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result?: { value?: unknown };
    };
    const v = r.result?.value;
    return typeof v === 'string' ? (JSON.parse(v) as NodeJS.MemoryUsage) : undefined;
  }

  close(): void {
    this.ws.close();
  }
}
