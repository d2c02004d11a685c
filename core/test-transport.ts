/**
 * An in-memory transport for driving a server without sockets (tests, bridges):
 * collects what the server writes as lines.
 */
import type { AttachedClient, ParleyServer } from './server.js';
import type { Transport } from './session.js';

export class MemoryTransport implements Transport {
  readonly remoteAddress: string;
  readonly remotePort = 0;
  readonly lines: string[] = [];
  closedWith: { notice?: string; reason: string } | undefined;
  #client: AttachedClient | undefined;

  constructor(remoteAddress = '127.0.0.1') {
    this.remoteAddress = remoteAddress;
  }

  /** Attaches to `server`; returns a function that sends one line as this client. */
  static attach(server: ParleyServer, remoteAddress?: string): MemoryTransport {
    const t = new MemoryTransport(remoteAddress);
    t.#client = server.attach(t);
    return t;
  }

  get client(): AttachedClient {
    return this.#client!;
  }

  send(line: string): void | Promise<void> {
    return this.#client!.line(line);
  }

  write(buf: Buffer): void {
    const text = buf.toString('utf8');
    for (const l of text.split('\n')) if (l) this.lines.push(l);
  }

  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.closedWith) return;
    if (notice !== undefined) this.lines.push(`DISCONNECT: ${notice}`);
    this.closedWith = { reason, ...(notice !== undefined ? { notice } : {}) };
    this.#client?.closed(reason);
  }

  /** Returns and forgets the lines received so far. */
  take(): string[] {
    return this.lines.splice(0, this.lines.length);
  }
}
