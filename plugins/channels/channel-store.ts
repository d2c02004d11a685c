/**
 * In-memory channel state: members by channel (case-insensitive, creator's
 * spelling kept), channels by session. Empty channels are dropped.
 */
import { foldCase, type Session } from '../../core/index.js';

export interface Channel {
  /** As its creator spelled it. */
  readonly name: string;
  /** For membership tests. */
  readonly members: Set<Session>;
  /** The same members in join order, as an array: fan-out loops iterate it. */
  readonly list: Session[];
}

export class ChannelStore {
  readonly #channels = new Map<string, Channel>();
  readonly #bySession = new Map<Session, Set<Channel>>();

  get(name: string): Channel | undefined {
    return this.#channels.get(foldCase(name));
  }

  channelsOf(session: Session): ReadonlySet<Channel> {
    return this.#bySession.get(session) ?? EMPTY;
  }

  /** Adds `session`; returns the channel and whether it was already a member. */
  join(session: Session, name: string): { channel: Channel; already: boolean } {
    const key = foldCase(name);
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = { name, members: new Set(), list: [] };
      this.#channels.set(key, channel);
    }
    if (channel.members.has(session)) return { channel, already: true };
    channel.members.add(session);
    channel.list.push(session);
    let mine = this.#bySession.get(session);
    if (!mine) this.#bySession.set(session, (mine = new Set()));
    mine.add(channel);
    return { channel, already: false };
  }

  /** Removes `session`; drops the channel when it empties. False when it was not a member. */
  leave(session: Session, channel: Channel): boolean {
    if (!channel.members.delete(session)) return false;
    channel.list.splice(channel.list.indexOf(session), 1);
    const mine = this.#bySession.get(session);
    mine?.delete(channel);
    if (mine && mine.size === 0) this.#bySession.delete(session);
    if (channel.members.size === 0) this.#channels.delete(foldCase(channel.name));
    return true;
  }

  get size(): number {
    return this.#channels.size;
  }
}

const EMPTY: ReadonlySet<Channel> = new Set();
