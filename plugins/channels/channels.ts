/**
 * Channels: `JOIN`, `LEAVE`, the default channel, membership notices and
 * cleanup on disconnect. Provides the kernel's {@link ChannelDirectory}.
 */
import { Subject } from 'rxjs';
import {
  formatServer,
  ofVerb,
  ProtocolError,
  type ChannelDirectory,
  type PluginContext,
  type PluginHooks,
  type Session,
} from '../../core/index.js';
import { ChannelStore, type Channel } from './channel-store.js';
import type { ChannelsOptions } from './options.js';

export class ChannelsPlugin implements PluginHooks, ChannelDirectory {
  readonly store: ChannelStore;
  readonly left$ = new Subject<{ session: Session; channel: string }>();
  readonly #maxLine: number;

  constructor(
    private readonly ctx: PluginContext,
    private readonly options: ChannelsOptions,
  ) {
    this.#maxLine = ctx.config.limits.maxLineBytes;
    this.store = new ChannelStore(this.#maxLine);
  }

  start(): void {
    this.ctx.handle(ofVerb('JOIN'), (a) => this.join(a.session, a.channel));
    this.ctx.handle(ofVerb('LEAVE'), (a) => {
      const channel = this.store.get(a.channel);
      if (!channel || !channel.members.has(a.session)) throw new ProtocolError('NOT_IN_CHANNEL', a.channel);
      this.#leave(a.session, channel, 'left');
      a.session.send({ type: 'LEFT', channel: channel.name });
    });
  }

  stop(): void {
    this.left$.complete();
  }

  onSessionOpen(session: Session): void {
    if (this.options.defaultChannel) this.join(session, this.options.defaultChannel);
  }

  onSessionClose(session: Session, reason: string): void {
    for (const channel of [...this.store.channelsOf(session)]) this.#leave(session, channel, reason);
  }

  /** Joins `session` to `name` (created if needed), as if it had sent `JOIN`. */
  join(session: Session, name: string): void {
    const existing = this.store.get(name);
    if (!existing?.members.has(session) && this.store.channelsOf(session).size >= this.options.maxChannelsPerUser) {
      throw new ProtocolError('TOO_MANY_CHANNELS', this.options.maxChannelsPerUser);
    }
    if (!existing && this.#serverFull()) {
      // Not thrown: the code's default text is about the user's own channels.
      session.error('TOO_MANY_CHANNELS', `the server has ${this.options.maxChannels} channels, its limit`);
      return;
    }
    const { channel, already } = this.store.join(session, name);
    session.send({ type: 'JOINED', channel: channel.name });
    channel.sendUserlist(session);
    if (already) return;
    this.#toOthers(channel, session, formatServer({ type: 'USERJOIN', channel: channel.name, nick: session.nick }));
    this.ctx.emit({ type: 'joined', nick: session.nick, channel: channel.name });
  }

  #serverFull(): boolean {
    const max = this.options.maxChannels;
    return max > 0 && this.store.size >= max;
  }

  // ChannelDirectory
  spelling(channel: string): string | undefined {
    return this.store.get(channel)?.name;
  }
  members(channel: string): ReadonlySet<Session> | undefined {
    return this.store.get(channel)?.members;
  }
  memberList(channel: string): readonly Session[] | undefined {
    return this.store.get(channel)?.list;
  }
  isMember(session: Session, channel: string): boolean {
    return this.store.get(channel)?.members.has(session) ?? false;
  }

  #leave(session: Session, channel: Channel, reason: string): void {
    if (!this.store.leave(session, channel)) return;
    this.#toOthers(channel, session, formatServer({ type: 'USERLEAVE', channel: channel.name, nick: session.nick }));
    this.ctx.emit({ type: 'left', nick: session.nick, channel: channel.name, reason });
    this.left$.next({ session, channel: channel.name });
  }

  #toOthers(channel: Channel, except: Session, line: string): void {
    const list = channel.list;
    if (list.length === 0 || (list.length === 1 && list[0] === except)) return;
    const buf = Buffer.from(line);
    for (let i = 0; i < list.length; i++) if (list[i] !== except) list[i]!.write(buf);
  }
}
