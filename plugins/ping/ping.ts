/**
 * Keepalive: `PING: <n>` every interval; a session that leaves a PING without
 * the matching `PONG` for the timeout is closed (`DISCONNECT: ping timeout`).
 * Every session's interval and every PING's deadline last the same time, so two
 * {@link DeadlineQueue}s (one timer each) carry them all, not a timer per session.
 */
import { DeadlineQueue, ofVerb, type Deadline, type PluginContext, type PluginHooks, type Session } from '../../core/index.js';
import type { PingOptions } from './options.js';

/** A PING sent, and the session that must answer it. */
interface Sent {
  readonly session: Session;
  readonly value: string;
}

interface PingState {
  /** When the next PING goes out. */
  next: Deadline<Session>;
  /** Unanswered PINGs, oldest first, each with its deadline (undefined: none). */
  sent: Deadline<Sent>[] | undefined;
}

export class PingPlugin implements PluginHooks {
  readonly #states = new Map<Session, PingState>();
  readonly #due: DeadlineQueue<Session>;
  readonly #deadlines: DeadlineQueue<Sent>;

  constructor(
    private readonly ctx: PluginContext,
    options: PingOptions,
  ) {
    this.#due = new DeadlineQueue(options.intervalMs, (session) => this.#ping(session));
    this.#deadlines = new DeadlineQueue(options.timeoutMs, (sent) => sent.session.close('ping timeout'));
  }

  start(): void {
    this.ctx.handle(ofVerb('PONG'), (a) => this.#pong(a.session, a.value));
  }

  onSessionOpen(session: Session): void {
    this.#states.set(session, { next: this.#due.add(session), sent: undefined });
  }

  onSessionClose(session: Session): void {
    const st = this.#states.get(session);
    if (st === undefined) return;
    this.#states.delete(session);
    // The queues let go of the session now, not when its entries come due.
    this.#due.cancel(st.next);
    for (const d of st.sent ?? []) this.#deadlines.cancel(d);
  }

  stop(): void {
    this.#states.clear();
    this.#due.clear();
    this.#deadlines.clear();
  }

  #ping(session: Session): void {
    const st = this.#states.get(session);
    if (st === undefined) return;
    const value = String(Math.floor(Math.random() * 9e10) + 1e10);
    const d = this.#deadlines.add({ session, value });
    if (st.sent === undefined) st.sent = [d];
    else st.sent.push(d);
    st.next = this.#due.add(session);
    session.send({ type: 'PING', value });
  }

  #pong(session: Session, value: string): void {
    const sent = this.#states.get(session)?.sent;
    const i = sent?.findIndex((d) => d.item?.value === value) ?? -1;
    if (i === -1) return; // unsolicited or stale PONG: ignored, as IRC does
    // A PONG answers its PING and every older one.
    for (const d of sent!.splice(0, i + 1)) this.#deadlines.cancel(d);
  }
}
