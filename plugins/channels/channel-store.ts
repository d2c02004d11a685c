/**
 * In-memory channel state: members by channel (case-insensitive, creator's
 * spelling kept), channels by session. Empty channels are dropped.
 */
import { foldCase, ListLines, type Session } from '../../core/index.js';

export class Channel {
  /** For membership tests. */
  readonly members = new Set<Session>();
  /** The same members in join order, as an array: fan-out loops iterate it. */
  readonly list: Session[] = [];
  /** The cached USERLIST lines; dropped when someone leaves, extended when someone joins. */
  #userlist: ListLines | undefined;

  /** @param name as its creator spelled it */
  constructor(
    readonly name: string,
    private readonly maxLineBytes: number,
  ) {}

  add(session: Session): void {
    this.members.add(session);
    this.list.push(session);
    this.#userlist?.add(session.nick);
  }

  remove(session: Session): boolean {
    if (!this.members.delete(session)) return false;
    this.list.splice(this.list.indexOf(session), 1);
    this.#userlist = undefined;
    return true;
  }

  /** Sends `USERLIST` (split over several lines past the line limit) to `session`. */
  sendUserlist(session: Session): void {
    if (!this.#userlist) {
      this.#userlist = new ListLines(`USERLIST ${this.name}: `, this.maxLineBytes);
      for (const m of this.list) this.#userlist.add(m.nick);
    }
    this.#userlist.writeTo(session);
  }
}

export class ChannelStore {
  readonly #channels = new Map<string, Channel>();
  readonly #bySession = new Map<Session, Set<Channel>>();

  /** @param maxLineBytes the server's line limit, for splitting USERLIST */
  constructor(private readonly maxLineBytes = 8192) {}

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
      channel = new Channel(name, this.maxLineBytes);
      this.#channels.set(key, channel);
    }
    if (channel.members.has(session)) return { channel, already: true };
    channel.add(session);
    let mine = this.#bySession.get(session);
    if (!mine) this.#bySession.set(session, (mine = new Set()));
    mine.add(channel);
    return { channel, already: false };
  }

  /** Removes `session`; drops the channel when it empties. False when it was not a member. */
  leave(session: Session, channel: Channel): boolean {
    if (!channel.remove(session)) return false;
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
