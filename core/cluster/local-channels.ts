/**
 * The channels as one node sees them: the local members of each channel (in
 * join order, for fan-out loops) and each local session's channels.
 */
import { foldCase } from '../names.js';
import type { Session } from '../session.js';
import type { LocalChannel } from './types.js';

export class LocalChannelState implements LocalChannel {
  readonly members = new Set<Session>();
  readonly list: Session[] = [];
  /** @param name the channel's cluster-wide spelling; @param key its folded name */
  constructor(
    readonly name: string,
    readonly key: string,
  ) {}
}

export class LocalChannels {
  readonly #channels = new Map<string, LocalChannelState>();
  readonly #bySession = new Map<Session, Set<LocalChannelState>>();

  get(name: string): LocalChannelState | undefined {
    return this.#channels.get(foldCase(name));
  }

  byKey(key: string): LocalChannelState | undefined {
    return this.#channels.get(key);
  }

  channelsOf(session: Session): ReadonlySet<LocalChannelState> {
    return this.#bySession.get(session) ?? EMPTY;
  }

  /** Adds; false when `session` was a member already. */
  add(session: Session, key: string, name: string): boolean {
    let ch = this.#channels.get(key);
    if (!ch) this.#channels.set(key, (ch = new LocalChannelState(name, key)));
    if (ch.members.has(session)) return false;
    ch.members.add(session);
    ch.list.push(session);
    let mine = this.#bySession.get(session);
    if (!mine) this.#bySession.set(session, (mine = new Set()));
    mine.add(ch);
    return true;
  }

  /** Removes; returns the channel when `session` was a member. The channel is dropped when it has no local member left. */
  remove(session: Session, key: string): LocalChannelState | undefined {
    const ch = this.#channels.get(key);
    if (!ch?.members.delete(session)) return undefined;
    ch.list.splice(ch.list.indexOf(session), 1);
    const mine = this.#bySession.get(session);
    mine?.delete(ch);
    if (mine && mine.size === 0) this.#bySession.delete(session);
    if (ch.members.size === 0) this.#channels.delete(key);
    return ch;
  }

  keys(): IterableIterator<string> {
    return this.#channels.keys();
  }

  values(): IterableIterator<LocalChannelState> {
    return this.#channels.values();
  }

  get size(): number {
    return this.#channels.size;
  }
}

const EMPTY: ReadonlySet<LocalChannelState> = new Set();
