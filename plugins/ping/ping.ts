/**
 * Keepalive: `PING: <n>` every interval; a session that leaves a PING without
 * the matching `PONG` for the timeout is closed (`DISCONNECT: ping timeout`).
 */
import { ofVerb, type PluginContext, type PluginHooks, type Session } from '../../core/index.js';
import type { PingOptions } from './options.js';

interface PingState {
  interval: NodeJS.Timeout;
  deadline: NodeJS.Timeout | undefined;
  /** Unanswered PING values with the time they were sent, oldest first. */
  outstanding: Map<string, number>;
}

export class PingPlugin implements PluginHooks {
  readonly #states = new Map<Session, PingState>();

  constructor(
    private readonly ctx: PluginContext,
    private readonly options: PingOptions,
  ) {}

  start(): void {
    this.ctx.handle(ofVerb('PONG'), (a) => this.#pong(a.session, a.value));
  }

  onSessionOpen(session: Session): void {
    const interval = setInterval(() => this.#ping(session), this.options.intervalMs);
    interval.unref();
    this.#states.set(session, { interval, deadline: undefined, outstanding: new Map() });
  }

  onSessionClose(session: Session): void {
    const st = this.#states.get(session);
    if (!st) return;
    clearInterval(st.interval);
    if (st.deadline) clearTimeout(st.deadline);
    this.#states.delete(session);
  }

  stop(): void {
    for (const s of [...this.#states.keys()]) this.onSessionClose(s);
  }

  #ping(session: Session): void {
    const st = this.#states.get(session);
    if (!st) return;
    const value = String(Math.floor(Math.random() * 9e10) + 1e10);
    st.outstanding.set(value, performance.now());
    if (!st.deadline) this.#arm(session, st, this.options.timeoutMs);
    session.send({ type: 'PING', value });
  }

  #pong(session: Session, value: string): void {
    const st = this.#states.get(session);
    if (!st?.outstanding.has(value)) return; // unsolicited or stale PONG: ignored, as IRC does
    // A PONG answers its PING and every older one.
    for (const v of st.outstanding.keys()) {
      st.outstanding.delete(v);
      if (v === value) break;
    }
    if (st.deadline) clearTimeout(st.deadline);
    st.deadline = undefined;
    const oldest = st.outstanding.values().next();
    if (!oldest.done) this.#arm(session, st, oldest.value + this.options.timeoutMs - performance.now());
  }

  #arm(session: Session, st: PingState, ms: number): void {
    st.deadline = setTimeout(() => session.close('ping timeout'), Math.max(0, ms));
    st.deadline.unref();
  }
}
