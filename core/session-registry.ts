/**
 * The sessions of one server: all open ones, and the connected ones by
 * case-folded nickname (nicks are unique per server, compared case-insensitively).
 */
import { foldCase } from './names.js';
import type { Session } from './session.js';

/** Connected sessions, looked up by nick (case-insensitively). */
export interface SessionLookup {
  byNick(nick: string): Session | undefined;
  connected(): IterableIterator<Session>;
  readonly connectedCount: number;
}

export class SessionRegistry implements SessionLookup {
  readonly #open = new Set<Session>();
  readonly #byNick = new Map<string, Session>();

  add(session: Session): void {
    this.#open.add(session);
  }

  /** Claims `nick` for `session`; false when another session holds it. */
  claimNick(session: Session, nick: string): boolean {
    const key = foldCase(nick);
    const holder = this.#byNick.get(key);
    if (holder && holder !== session) return false;
    this.#byNick.set(key, session);
    return true;
  }

  /** The connected session with this nick (any case), if any. */
  byNick(nick: string): Session | undefined {
    return this.#byNick.get(foldCase(nick));
  }

  isNickInUse(nick: string): boolean {
    return this.#byNick.has(foldCase(nick));
  }

  remove(session: Session): void {
    this.#open.delete(session);
    if (session.nick && this.#byNick.get(foldCase(session.nick)) === session) {
      this.#byNick.delete(foldCase(session.nick));
    }
  }

  /** Every open session, connected or still in the handshake. */
  all(): IterableIterator<Session> {
    return this.#open.values();
  }

  /** Connected sessions. */
  connected(): IterableIterator<Session> {
    return this.#byNick.values();
  }

  get size(): number {
    return this.#open.size;
  }

  get connectedCount(): number {
    return this.#byNick.size;
  }
}
