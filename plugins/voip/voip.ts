/**
 * Voice: `TALK` signalling for 1:1 calls and channel group voice, and the UDP
 * relay that carries their frames. Talk state lives in a {@link TalkRegistry};
 * the relay reads it on every frame.
 */
import type { Subscription } from 'rxjs';
import {
  foldCase,
  formatServer,
  isChannelName,
  isValidChannel,
  ofVerb,
  ProtocolError,
  type ActionMap,
  type ChannelDirectory,
  type Logger,
  type PluginContext,
  type PluginHooks,
  type Session,
} from '../../core/index.js';
import type { VoipOptions } from './options.js';
import { DROP_REASONS, type VoipStats } from './stats.js';
import { TalkRegistry, type CallTalk, type GroupTalk, type Talk } from './talk-registry.js';
import { UdpRelay } from './udp-relay.js';
import { ClusterTalks } from './cluster-talks.js';

export class VoipPlugin implements PluginHooks {
  readonly #talks = new TalkRegistry();
  readonly #relay: UdpRelay;
  /** Talks with parties on other nodes (a cluster). */
  readonly #x: ClusterTalks;
  readonly #log: Logger;
  readonly #maxLine: number;
  #left: Subscription | undefined;

  constructor(
    private readonly ctx: PluginContext,
    private readonly options: VoipOptions,
    private readonly channels: ChannelDirectory,
  ) {
    this.#log = ctx.log;
    this.#relay = new UdpRelay(this.#talks, this.#log, options);
    this.#maxLine = ctx.config.limits.maxLineBytes;
    this.#x = new ClusterTalks(ctx, this.#talks, this.#relay, options, (half) => {
      this.#talks.removeHalf(half);
      this.#relay.release(half.party);
    });
  }

  async start(): Promise<void> {
    const tcp = this.ctx.address;
    const host = this.options.udpHost ?? tcp?.host ?? '127.0.0.1';
    const port = this.options.udpPort ?? tcp?.port ?? 0;
    const bind = (p: number): Promise<{ host: string; port: number }> =>
      this.#relay.open({ host, port: p, recvBufferBytes: this.options.recvBufferBytes, sendBufferBytes: this.options.sendBufferBytes });
    let bound: { host: string; port: number };
    try {
      bound = await bind(port);
    } catch (err) {
      // The TCP port was picked at random (listen on port 0), so its number may
      // already be taken for UDP; any free UDP port serves as well then.
      const fallback = this.options.udpPort === undefined && (tcp?.ephemeral ?? false) && (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!fallback) throw err;
      bound = await bind(0);
    }
    this.#log.info(`voice relay on udp ${bound.host}:${bound.port}`);
    await this.#x.start(this.options.linkHost ?? bound.host, this.options.linkPort, this.options.recvBufferBytes);
    this.#left = this.channels.left$.subscribe(({ session, channel }) => {
      const talk = this.#talks.group(channel);
      if (talk) this.#leaveGroup(session, talk);
    });
    this.ctx.handle(ofVerb('TALK'), (a) => this.#talk(a));
    // Browsers have no UDP: their frames come as WebSocket binary messages.
    this.ctx.onBinary((session, data) => this.#relay.fromSession(session, data));
  }

  async stop(): Promise<void> {
    this.#left?.unsubscribe();
    for (const talk of this.#talks.all()) if (talk.timer) clearTimeout(talk.timer);
    await this.#x.stop();
    await this.#relay.close();
  }

  onSessionClose(session: Session): void {
    const call = this.#talks.callOf(session);
    if (call) this.#endCall(call);
    this.#x.sessionClosed(session);
    for (const talk of [...this.#talks.groupsOf(session)]) this.#leaveGroup(session, talk);
  }

  /** The relay's bound UDP address; undefined before `start` and after `stop`. */
  udpAddress(): { host: string; port: number } | undefined {
    return this.#relay.address();
  }

  /** The node link's bound UDP address (voice between cluster nodes); undefined before `start` and after `stop`. */
  linkAddress(): { host: string; port: number } | undefined {
    return this.#x.link.address();
  }

  /** A snapshot of talks and relay counters. */
  stats(): VoipStats {
    const c = this.#relay.counters;
    const dropped = {} as VoipStats['dropped'];
    for (const r of DROP_REASONS) dropped[r] = c.dropped[r];
    const l = this.#x.link.counters;
    return {
      nodeLink: { ...l, dropped: { ...l.dropped } },
      activeTalks: this.#talks.activeCalls,
      pendingTalks: this.#talks.pendingCalls,
      groupSessions: this.#talks.groupCount,
      groupTalkers: this.#talks.groupTalkers,
      boundEndpoints: this.#relay.boundCount,
      peerSockets: this.#relay.peerSocketCount,
      framesIn: c.framesIn,
      framesRelayed: c.framesRelayed,
      framesForwarded: c.framesForwarded,
      framesBinding: c.framesBinding,
      framesNoPeer: c.framesNoPeer,
      bytesIn: c.bytesIn,
      bytesRelayed: c.bytesRelayed,
      framesInWs: c.framesInWs,
      framesDroppedSlowWs: c.framesDroppedSlowWs,
      dropped,
      droppedTotal: c.droppedTotal,
    };
  }

  #talk(a: ActionMap['TALK']): void | Promise<void> {
    const { session, target, key } = a;
    // This node's half of a call with a party on another node.
    if (a.keyword !== 'REQUEST' && a.keyword !== 'JOIN' && !isChannelName(target) && this.#talks.byKey(key!)?.talk.kind === 'half') {
      return this.#x.answer(a.keyword, session, target, key!);
    }
    switch (a.keyword) {
      case 'REQUEST':
        return this.#request(session, target);
      case 'ACCEPT':
      case 'DENY':
        return this.#answer(session, target, key!, a.keyword === 'ACCEPT');
      case 'END':
        if (isChannelName(target)) return this.#endGroup(session, target, key!);
        return this.#end(session, target, key!);
      case 'JOIN':
        return this.#joinGroup(session, target);
    }
  }

  #request(session: Session, target: string): void | Promise<void> {
    if (foldCase(target) === foldCase(session.nick)) throw new ProtocolError('BAD_SYNTAX', 'you cannot talk to yourself');
    const callee = this.ctx.sessions.byNick(target);
    if (!callee) return this.#x.request(session, target); // on another node, or on none
    if (!callee.connected) throw new ProtocolError('NO_SUCH_USER', target);
    if (this.#talks.busy(callee)) throw new ProtocolError('BUSY', callee.nick);
    if (this.#talks.busy(session)) throw new ProtocolError('BUSY', session.nick);
    const talk = this.#talks.createCall(session, callee);
    // Each party gets its own key and never sees the other's (PROTOCOL.md section 2).
    session.send({ type: 'TALK', peer: callee.nick, key: talk.requester.key, event: 'REQUEST' });
    callee.send({ type: 'TALK', peer: session.nick, key: talk.callee.key, event: 'REQUEST' });
    talk.timer = this.#timer(() => this.#endCall(talk), this.options.talkTimeoutMs);
  }

  /** The 1:1 call whose party `session` holds `key` as its own, with `peer` the other party; NO_SUCH_TALK otherwise. */
  #call(session: Session, peer: string, key: string): CallTalk {
    const mine = this.#talks.byKey(key);
    const talk = mine?.talk;
    if (mine?.session === session && talk?.kind === 'call') {
      const other = talk.requester === mine ? talk.callee : talk.requester;
      if (foldCase(other.session.nick) === foldCase(peer)) return talk;
    }
    throw new ProtocolError('NO_SUCH_TALK', key);
  }

  #answer(session: Session, peer: string, key: string, accept: boolean): void {
    const talk = this.#call(session, peer, key);
    if (talk.callee.key !== key || talk.accepted) throw new ProtocolError('NO_SUCH_TALK', key);
    clearTimeout(talk.timer);
    const requester = talk.requester.session;
    if (!accept) {
      this.#talks.removeCall(talk);
      this.#release(talk);
      requester.send({ type: 'TALK', peer: session.nick, key: talk.requester.key, event: 'DENIED' });
      return;
    }
    this.#talks.accept(talk, performance.now());
    this.#armIdle(talk);
    requester.send({ type: 'TALK', peer: session.nick, key: talk.requester.key, event: 'ACCEPTED' });
  }

  #end(session: Session, peer: string, key: string): void {
    this.#endCall(this.#call(session, peer, key));
  }

  /** Ends a call: `ENDED` to both parties (a closed session's write is a no-op), bindings released. */
  #endCall(talk: CallTalk): void {
    if (!this.#talks.removeCall(talk)) return;
    clearTimeout(talk.timer);
    this.#release(talk);
    const { requester: r, callee: c } = talk;
    r.session.send({ type: 'TALK', peer: c.session.nick, key: r.key, event: 'ENDED' });
    c.session.send({ type: 'TALK', peer: r.session.nick, key: c.key, event: 'ENDED' });
  }

  /**
   * One timer per accepted call, re-armed from the last payload time when it
   * fires, rather than reset by every frame on the hot path.
   */
  #armIdle(talk: CallTalk): void {
    const timeout = this.options.talkTimeoutMs;
    const due = talk.lastPayloadAt + timeout - performance.now();
    talk.timer = this.#timer(
      () => {
        if (performance.now() - talk.lastPayloadAt >= timeout) this.#endCall(talk);
        else this.#armIdle(talk);
      },
      Math.max(1, due),
    );
  }

  async #joinGroup(session: Session, channel: string): Promise<void> {
    if (!this.channels.isMember(session, channel)) throw new ProtocolError('NOT_IN_CHANNEL', channel);
    const spelling = this.channels.spelling(channel) ?? channel;
    const { talk, party, already } = this.#talks.joinGroup(session, spelling);
    // Every talker on every node, in join order.
    const nicks = await this.#x.groupJoined(talk, session, already);
    if (talk.parties.get(session) !== party) return; // left meanwhile
    session.write(
      Buffer.from(
        formatServer({ type: 'TALK', peer: talk.channel, key: party.key, event: 'JOINED' }) +
          formatServer({ type: 'TALKLIST', channel: talk.channel, nicks }, this.#maxLine),
      ),
    );
    if (already) return;
    this.#toChannel(talk, formatServer({ type: 'TALKJOIN', channel: talk.channel, nick: session.nick }));
  }

  #endGroup(session: Session, channel: string, key: string): void {
    if (!isValidChannel(channel)) throw new ProtocolError('CHANNEL_INVALID', channel);
    const talk = this.#talks.group(channel);
    const mine = this.#talks.byKey(key);
    if (!talk || mine?.talk !== talk || mine.session !== session) throw new ProtocolError('NO_SUCH_TALK', key);
    this.#leaveGroup(session, talk);
  }

  /** `TALKLEAVE` goes to every channel member and to the leaver, who may have left the channel already. */
  #leaveGroup(session: Session, talk: GroupTalk): void {
    const party = this.#talks.leaveGroup(session, talk);
    if (!party) return;
    this.#relay.release(party);
    this.#x.groupLeft(talk.channel, session.nick);
    this.#toChannel(talk, formatServer({ type: 'TALKLEAVE', channel: talk.channel, nick: session.nick }), session);
  }

  /** Encodes once and writes to every member of the talk's channel on every node, plus `also`. */
  #toChannel(talk: GroupTalk, line: string, also?: Session): void {
    const buf = Buffer.from(line);
    this.ctx.cluster.toChannel(talk.channel, buf);
    if (also && !this.channels.isMember(also, talk.channel)) also.write(buf);
  }

  #release(talk: Talk): void {
    for (const p of talk.parties.values()) this.#relay.release(p);
  }

  #timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  }
}
