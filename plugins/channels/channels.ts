/**
 * Channels: `JOIN`, `LEAVE`, the default channel, membership notices and
 * cleanup on disconnect. Membership is the cluster's (`ctx.cluster`): on a
 * single node it is all in memory; on a cluster, members on every node.
 * Provides the kernel's {@link ChannelDirectory} (this node's members).
 */
import { Subject } from 'rxjs';
import {
  formatServer,
  ofVerb,
  ProtocolError,
  type ChannelDirectory,
  type Cluster,
  type JoinResult,
  type LocalChannel,
  type PluginContext,
  type PluginHooks,
  type Session,
} from '../../core/index.js';
import type { ChannelsOptions } from './options.js';

export class ChannelsPlugin implements PluginHooks, ChannelDirectory {
  readonly left$ = new Subject<{ session: Session; channel: string }>();
  readonly #cluster: Cluster;

  constructor(
    private readonly ctx: PluginContext,
    private readonly options: ChannelsOptions,
  ) {
    this.#cluster = ctx.cluster;
  }

  start(): void {
    this.ctx.handle(ofVerb('JOIN'), (a) => this.join(a.session, a.channel));
    this.ctx.handle(ofVerb('LEAVE'), (a) => {
      const channel = this.#cluster.channel(a.channel);
      if (!channel?.members.has(a.session)) throw new ProtocolError('NOT_IN_CHANNEL', a.channel);
      const name = this.#leave(a.session, channel, 'left');
      a.session.send({ type: 'LEFT', channel: name });
    });
  }

  stop(): void {
    this.left$.complete();
  }

  onSessionOpen(session: Session): void | Promise<void> {
    if (this.options.defaultChannel) return this.join(session, this.options.defaultChannel);
  }

  onSessionClose(session: Session, reason: string): void {
    for (const channel of [...this.#cluster.channelsOf(session)]) this.#leave(session, channel, reason);
  }

  /** Joins `session` to `name` (created if needed), as if it had sent `JOIN`. */
  join(session: Session, name: string): void | Promise<void> {
    const existing = this.#cluster.channel(name);
    if (!existing?.members.has(session) && this.#cluster.channelsOf(session).size >= this.options.maxChannelsPerUser) {
      throw new ProtocolError('TOO_MANY_CHANNELS', this.options.maxChannelsPerUser);
    }
    if (!existing && this.#serverFull()) {
      // Not thrown: the code's default text is about the user's own channels.
      session.error('TOO_MANY_CHANNELS', `the server has ${this.options.maxChannels} channels, its limit`);
      return;
    }
    const r = this.#cluster.join(session, name);
    if (r instanceof Promise) return r.then((res) => this.#joined(session, res));
    this.#joined(session, r);
  }

  #joined(session: Session, { channel, already, userlist }: JoinResult): void {
    if (session.state !== 'connected') return;
    session.send({ type: 'JOINED', channel });
    userlist.writeTo(session);
    if (already) return;
    this.#cluster.toChannel(channel, Buffer.from(formatServer({ type: 'USERJOIN', channel, nick: session.nick })), session);
    this.ctx.emit({ type: 'joined', nick: session.nick, channel });
  }

  /** Counted on this node (channels with a member here): on a cluster the cap is per node. */
  #serverFull(): boolean {
    const max = this.options.maxChannels;
    return max > 0 && this.#cluster.localChannelCount >= max;
  }

  // ChannelDirectory: this node's members
  spelling(channel: string): string | undefined {
    return this.#cluster.channel(channel)?.name;
  }
  members(channel: string): ReadonlySet<Session> | undefined {
    return this.#cluster.channel(channel)?.members;
  }
  memberList(channel: string): readonly Session[] | undefined {
    return this.#cluster.channel(channel)?.list;
  }
  isMember(session: Session, channel: string): boolean {
    return this.#cluster.isMember(session, channel);
  }

  #leave(session: Session, channel: LocalChannel, reason: string): string {
    const name = channel.name;
    if (this.#cluster.leave(session, name) === undefined) return name;
    this.#cluster.toChannel(channel, Buffer.from(formatServer({ type: 'USERLEAVE', channel: name, nick: session.nick })), session);
    this.ctx.emit({ type: 'left', nick: session.nick, channel: name, reason });
    this.left$.next({ session, channel: name });
    return name;
  }
}
