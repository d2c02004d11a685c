/**
 * Where the PROXY protocol meets accepted sockets: a trusted proxy's socket must
 * start with a header (bounded in bytes and time), and the client it names
 * becomes the connection's address; any other socket that starts with a header
 * is refused, so that a client cannot claim an address by sending one itself.
 */
import type { Socket } from 'node:net';
import { DEFAULT_PROXY_PROTOCOL, parseProxyHeader, proxySignature, TrustedProxies, type ProxyEndpoint, type ProxyProtocolLimits } from './proxy-protocol.js';

/** `ServerOptions.proxyProtocol`. */
export interface ProxyProtocolOptions extends Partial<ProxyProtocolLimits> {
  /** Addresses and CIDR blocks of the proxies (load balancers) whose PROXY headers are believed. */
  trusted: readonly string[];
}

export interface GateOutcome {
  /** Go on with this socket; `peer` is the client's address. */
  accept(peer: ProxyEndpoint): void;
  /** Close it, telling why where the transport allows. */
  refuse(reason: string): void;
}

export class ProxyGate {
  readonly #trusted: TrustedProxies;
  readonly #limits: ProxyProtocolLimits;
  readonly #pending = new Set<Socket>();

  constructor(options: ProxyProtocolOptions) {
    this.#trusted = new TrustedProxies(options.trusted);
    this.#limits = {
      maxHeaderBytes: options.maxHeaderBytes ?? DEFAULT_PROXY_PROTOCOL.maxHeaderBytes,
      headerTimeoutMs: options.headerTimeoutMs ?? DEFAULT_PROXY_PROTOCOL.headerTimeoutMs,
    };
  }

  /** Trusted sockets still waiting for their header. */
  get pending(): number {
    return this.#pending.size;
  }

  trusts(ip: string): boolean {
    return this.#trusted.has(ip);
  }

  /** A trusted proxy's socket: reads its PROXY header, then `accept`s with the header's source. */
  readHeader(socket: Socket, ip: string, out: GateOutcome): void {
    this.#pending.add(socket);
    const own: ProxyEndpoint = { address: ip, port: socket.remotePort ?? 0 };
    let buf: Buffer = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      this.#pending.delete(socket);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
    };
    const fail = (reason: string): void => {
      finish();
      out.refuse(reason);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf, this.#limits.maxHeaderBytes);
      if (r.kind === 'incomplete') {
        if (buf.length >= this.#limits.maxHeaderBytes) fail('bad PROXY header: too long');
        return;
      }
      if (r.kind === 'invalid') {
        fail(`bad PROXY header: ${r.reason}`);
        return;
      }
      finish();
      handOn(socket, buf.subarray(r.length));
      out.accept(r.header.source ?? own);
    };
    const onEnd = (): void => fail('bad PROXY header: connection ended before it');
    const onClose = (): void => {
      clearTimeout(timer);
      this.#pending.delete(socket);
    };
    const timer = setTimeout(() => fail('bad PROXY header: timed out'), this.#limits.headerTimeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
  }

  /**
   * Any other socket: waits for the first bytes that tell whether it starts with a
   * PROXY header; refuses one, else hands the socket on with its bytes put back.
   */
  screen(socket: Socket, out: GateOutcome, own: ProxyEndpoint): void {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const sig = proxySignature(buf);
      if (sig === 'maybe') return;
      finish();
      if (sig === 'yes') {
        out.refuse('PROXY header from an untrusted address');
        return;
      }
      handOn(socket, buf);
      out.accept(own);
    };
    // Ended before saying anything a client would: nothing to serve.
    const onEnd = (): void => {
      finish();
      socket.destroy();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
  }

  /** Destroys the sockets still in their header (server closing). */
  close(): void {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
  }
}

/** Pauses the socket with `rest` put back in front, for the connection (or TLS) that reads it next. */
function handOn(socket: Socket, rest: Buffer): void {
  socket.pause();
  if (rest.length > 0) socket.unshift(rest);
}
