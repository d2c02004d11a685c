/**
 * Keepalive: `PING: <n>` every interval; a session that leaves a PING without
 * the matching `PONG` for the timeout is closed (`DISCONNECT: ping timeout`).
 * Every session's interval and every PING's deadline last the same time, so two
 * {@link DeadlineQueue}s (one timer each) carry them all, not a timer per session.
 */
import { DeadlineQueue, ofVerb, type PluginContext, type PluginHooks, type Session } from '../../core/index.js';
import type { PingOptions } from './options.js';

/** A PING sent, and the session that must answer it. */
interface Sent {
  readonly session: Session;
  readonly value: string;
}

export class PingPlugin implements PluginHooks {
  /** Open sessions with their unanswered PING values, oldest first (undefined: none). */
  readonly #outstanding = new Map<Session, string[] | undefined>();
  readonly #due: DeadlineQueue<Session>;
  readonly #deadlines: DeadlineQueue<Sent>;

  constructor(
    private readonly ctx: PluginContext,
    options: PingOptions,
  ) {
    this.#due = new DeadlineQueue(options.intervalMs, (session) => this.#ping(session));
    this.#deadlines = new DeadlineQueue(options.timeoutMs, (sent) => {
      if (this.#outstanding.get(sent.session)?.includes(sent.value)) sent.session.close('ping timeout');
    });
  }

  start(): void {
    this.ctx.handle(ofVerb('PONG'), (a) => this.#pong(a.session, a.value));
  }

  onSessionOpen(session: Session): void {
    this.#outstanding.set(session, undefined);
    this.#due.add(session);
  }

  onSessionClose(session: Session): void {
    // Its queue entries find it gone when their time comes.
    this.#outstanding.delete(session);
  }

  stop(): void {
    this.#outstanding.clear();
    this.#due.clear();
    this.#deadlines.clear();
  }

  #ping(session: Session): void {
    if (!this.#outstanding.has(session)) return;
    const value = String(Math.floor(Math.random() * 9e10) + 1e10);
    const list = this.#outstanding.get(session);
    if (list === undefined) this.#outstanding.set(session, [value]);
    else list.push(value);
    this.#deadlines.add({ session, value });
    this.#due.add(session);
    session.send({ type: 'PING', value });
  }

  #pong(session: Session, value: string): void {
    const list = this.#outstanding.get(session);
    const i = list?.indexOf(value) ?? -1;
    if (i === -1) return; // unsolicited or stale PONG: ignored, as IRC does
    // A PONG answers its PING and every older one.
    if (i === list!.length - 1) this.#outstanding.set(session, undefined);
    else list!.splice(0, i + 1);
  }
}
