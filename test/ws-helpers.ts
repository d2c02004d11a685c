// WebSocket side of the end-to-end tests: a parley server on an http server
// (both on 127.0.0.1 port 0), and a `ws` client that records lines.
import type { ExecutionContext } from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import type { ParleyServer, ServerOptions } from '../index.js';
import type { AttachHttpOptions } from '../core/ws-gateway.js';
import { startServer } from './helpers.js';

/** A parley server listening on TCP, attached to an http server; all closed in teardown. */
export async function startWsServer(
  t: ExecutionContext,
  options: ServerOptions = {},
  attach: AttachHttpOptions = {},
  handler?: http.RequestListener,
): Promise<{ server: ParleyServer; port: number; httpPort: number; url: string }> {
  const { server, port } = await startServer(t, options);
  const httpServer = http.createServer(handler ?? ((_, res) => res.writeHead(404).end()));
  server.attachHttp(httpServer, attach);
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => httpServer.close(() => r())));
  const httpPort = (httpServer.address() as AddressInfo).port;
  return { server, port, httpPort, url: `ws://127.0.0.1:${httpPort}${attach.path ?? '/parley'}` };
}

/** A `ws` client recording every line of every text message. */
export class WsLines {
  readonly lines: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #wake: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      for (const l of data.toString().split('\n')) if (l !== '') this.lines.push(l);
      for (const w of this.#wake.splice(0)) w();
    });
    ws.on('error', () => {});
    this.closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  }

  static async open(t: ExecutionContext, url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<WsLines> {
    const ws = new WebSocket(url, { ...options, headers });
    t.teardown(() => ws.terminate());
    const c = new WsLines(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return c;
  }

  /** Opens and connects as `nick`, consuming everything up to the #lobby USERLIST. */
  static async connect(t: ExecutionContext, url: string, nick: string, headers: Record<string, string> = {}): Promise<WsLines> {
    const c = await WsLines.open(t, url, headers);
    c.send(`CONNECT: "${nick}" "" 1.0.0`);
    await c.waitLine((l) => l.startsWith('USERLIST #lobby'));
    c.lines.length = 0;
    return c;
  }

  send(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }

  /** Resolves with the first recorded line matching `pred`; rejects after `timeoutMs`. */
  async waitLine(pred: (line: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise<void>((r) => {
        this.#wake.push(r);
        setTimeout(r, Math.min(left, 100));
      });
    }
  }
}
