/**
 * Talks whose parties are on different nodes (docs/cluster.md, "Voice across
 * nodes"). Each node keeps its own parties and validates its own parties' keys:
 * a key never leaves its node. Signalling goes node to node through the
 * cluster (`ctx.cluster.toNode`); voice goes over the {@link NodeLink}.
 *
 * - A 1:1 call with the peer on another node is a {@link HalfCallTalk} on each
 *   node, joined by a call id. The requester's node asks the callee's node
 *   (`req`), which answers BUSY, NO_SUCH_USER or ok; ACCEPT, DENY and END cross
 *   as `acc`, `deny`, `end`. Both halves run the request and idle timers (both
 *   nodes see every payload frame). A node gone ends its halves' peers with ENDED.
 * - Group voice: every node has its own local talkers of a channel in a
 *   GroupTalk and knows the other nodes' talkers (nick, node, join time).
 *   A `TALK #c: JOIN` asks the channel's other nodes for their talkers (for
 *   TALKLIST), then tells them (`j`); TALKJOIN/TALKLEAVE reach every channel
 *   member on every node with one cluster publish. Frames go once to each node
 *   with talkers.
 */
import { foldCase, formatServer, ProtocolError, type Cluster, type Logger, type PluginContext, type Session, type WireErrorCode } from '../../core/index.js';
import { LINK_CALL, LINK_GROUP, LINK_INFO_KEY, linkHeader, NodeLink, type LinkKind } from './node-link.js';
import type { GroupTalk, HalfCallTalk, RemoteSink, Talk, TalkRegistry } from './talk-registry.js';
import type { UdpRelay } from './udp-relay.js';

/** Node message topics. */
const CALL = 'voip:call';
const GROUP = 'voip:group';
const REPLY = 'voip:reply';

interface Reply {
  rid: number;
  ok?: boolean;
  err?: WireErrorCode;
  text?: string;
  nick?: string;
  talkers?: [string, number][];
}

interface CallMsg {
  op: 'req' | 'acc' | 'deny' | 'end';
  id: string;
  rid?: number;
  from?: string;
  to?: string;
}

interface GroupMsg {
  op: 'q' | 'j' | 'l';
  ch: string;
  rid?: number;
  nick?: string;
  at?: number;
}

interface RemoteTalker {
  readonly nick: string;
  readonly node: string;
  readonly at: number;
}

/** A channel's group voice as this node knows it beyond its own talkers. */
class GroupState implements RemoteSink {
  /** Folded nick -> a talker on another node. */
  readonly remote = new Map<string, RemoteTalker>();
  /** Nodes with talkers: where this node's talkers' frames go. */
  nodes: string[] = [];
  readonly header: Buffer;
  constructor(
    key: string,
    private readonly link: NodeLink,
  ) {
    this.header = linkHeader(LINK_GROUP, key);
  }
  send(frame: Buffer): number {
    return this.nodes.length === 0 ? 0 : this.link.send(this.nodes, this.header, frame);
  }
  refresh(): void {
    this.nodes = [...new Set([...this.remote.values()].map((r) => r.node))];
  }
}

export interface ClusterTalkOptions {
  talkTimeoutMs: number;
  /** How long a node waits for another node's answer. */
  clusterTimeoutMs: number;
}

export class ClusterTalks {
  readonly link: NodeLink;
  readonly #cluster: Cluster;
  readonly #log: Logger;
  readonly #halves = new Map<string, HalfCallTalk>();
  readonly #groups = new Map<string, GroupState>();
  /** Local group parties' join times, for TALKLIST order across nodes. */
  readonly #joinedAt = new WeakMap<object, number>();
  readonly #waiting = new Map<number, (r: Reply) => void>();
  readonly #peerLookups = new Map<string, Promise<void>>();
  #rid = 0;
  #callSeq = 0;
  #lastStamp = 0;

  constructor(
    private readonly ctx: PluginContext,
    private readonly talks: TalkRegistry,
    private readonly relay: UdpRelay,
    private readonly options: ClusterTalkOptions,
    /** Ends a half locally: timer, relay binding, registry. */
    private readonly onEnded: (talk: HalfCallTalk) => void,
  ) {
    this.#cluster = ctx.cluster;
    this.#log = ctx.log;
    this.link = new NodeLink(this.#log, (kind, id, frame, from) => this.#ingress(kind, id, frame, from));
  }

  /** Binds the node link and advertises it. */
  async start(host: string, port: number, bufferBytes: number): Promise<void> {
    const a = await this.link.open(host, port, bufferBytes);
    if (a.host === '0.0.0.0' || a.host === '::') this.#log.warn(`voice node link bound to ${a.host}: set voip.linkHost to an address other nodes can reach`);
    await this.#cluster.advertise(LINK_INFO_KEY, `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
    this.#cluster.onNode(CALL, (d, from) => this.#onCall(d as CallMsg, from));
    this.#cluster.onNode(GROUP, (d, from) => this.#onGroup(d as GroupMsg, from));
    this.#cluster.onNode(REPLY, (d) => this.#waiting.get((d as Reply).rid)?.(d as Reply));
    this.#cluster.onNodeGone((node) => this.#nodeGone(node));
  }

  async stop(): Promise<void> {
    for (const r of this.#waiting.values()) r({ rid: 0, err: 'UNAVAILABLE' });
    await this.link.close();
  }

  // 1:1 calls

  /** `session` asks for a call with `target`, who is not on this node. */
  async request(session: Session, target: string): Promise<void> {
    if (this.talks.busy(session)) throw new ProtocolError('BUSY', session.nick);
    const owner = await this.#cluster.ownerOf(target);
    if (owner === undefined || owner === this.#cluster.nodeId) throw new ProtocolError('NO_SUCH_USER', target);
    if (this.talks.busy(session)) throw new ProtocolError('BUSY', session.nick);
    const id = `${this.#cluster.nodeId}.${++this.#callSeq}`;
    // Reserved at once, so that a second request meanwhile finds the requester busy.
    const half = this.#half(session, id, 'requester', target, owner);
    const answer = await this.#ask(owner, CALL, { op: 'req', id, from: session.nick, to: target } satisfies Omit<CallMsg, 'rid'>);
    if (this.#halves.get(id) !== half) return; // ended meanwhile (the requester left)
    if (!answer.ok) {
      this.#drop(half);
      throw new ProtocolError(answer.err ?? 'UNAVAILABLE', answer.text ?? target);
    }
    half.peer = answer.nick ?? target;
    await this.#peer(owner);
    if (this.#halves.get(id) !== half) return;
    session.send({ type: 'TALK', peer: half.peer, key: half.party.key, event: 'REQUEST' });
    half.timer = this.#timer(() => this.end(half, true), this.options.talkTimeoutMs);
  }

  /** ACCEPT, DENY or END of a half by its own party; NO_SUCH_TALK unless `key` is `session`'s own, naming `peer`. */
  answer(keyword: 'ACCEPT' | 'DENY' | 'END', session: Session, peer: string, key: string): void {
    const half = this.talks.byKey(key)?.talk;
    if (half?.kind !== 'half' || half.party.session !== session || half.party.key !== key || foldCase(half.peer) !== foldCase(peer)) {
      throw new ProtocolError('NO_SUCH_TALK', key);
    }
    if (keyword === 'END') return this.end(half, true);
    if (half.role !== 'callee' || half.accepted) throw new ProtocolError('NO_SUCH_TALK', key);
    clearTimeout(half.timer);
    if (keyword === 'DENY') {
      this.#drop(half);
      this.#cluster.toNode(half.peerNode, CALL, { op: 'deny', id: half.id } satisfies CallMsg);
      return;
    }
    this.talks.acceptHalf(half, performance.now());
    this.#armIdle(half);
    this.#cluster.toNode(half.peerNode, CALL, { op: 'acc', id: half.id } satisfies CallMsg);
  }

  /** Ends a half: ENDED to its party, and (unless the peer ended it) `end` to the peer's node. */
  end(half: HalfCallTalk, tellPeer: boolean): void {
    if (!this.#drop(half)) return;
    half.party.session.send({ type: 'TALK', peer: half.peer, key: half.party.key, event: 'ENDED' });
    if (tellPeer) this.#cluster.toNode(half.peerNode, CALL, { op: 'end', id: half.id } satisfies CallMsg);
  }

  sessionClosed(session: Session): void {
    const half = this.talks.halfOf(session);
    if (half) this.end(half, true);
  }

  #half(session: Session, id: string, role: 'requester' | 'callee', peer: string, peerNode: string): HalfCallTalk {
    const header = linkHeader(LINK_CALL, id);
    const link = this.link;
    const nodes = [peerNode];
    const half = this.talks.createHalf(session, { id, role, peer, peerNode, remote: { send: (frame) => link.send(nodes, header, frame) } });
    this.#halves.set(id, half);
    return half;
  }

  /** Forgets a half locally; false when it was gone already. */
  #drop(half: HalfCallTalk): boolean {
    if (this.#halves.get(half.id) !== half) return false;
    this.#halves.delete(half.id);
    clearTimeout(half.timer);
    this.onEnded(half);
    return true;
  }

  #armIdle(half: HalfCallTalk): void {
    const timeout = this.options.talkTimeoutMs;
    const due = half.lastPayloadAt + timeout - performance.now();
    half.timer = this.#timer(
      () => {
        if (performance.now() - half.lastPayloadAt >= timeout) this.end(half, true);
        else this.#armIdle(half);
      },
      Math.max(1, due),
    );
  }

  #onCall(m: CallMsg, from: string): void {
    if (m.op === 'req') return void this.#onRequest(m, from);
    const half = this.#halves.get(m.id);
    if (!half || half.peerNode !== from) return;
    if (m.op === 'end') return this.end(half, false);
    if (half.role !== 'requester' || half.accepted) return;
    const s = half.party.session;
    if (m.op === 'deny') {
      this.#drop(half);
      s.send({ type: 'TALK', peer: half.peer, key: half.party.key, event: 'DENIED' });
      return;
    }
    clearTimeout(half.timer);
    this.talks.acceptHalf(half, performance.now());
    this.#armIdle(half);
    s.send({ type: 'TALK', peer: half.peer, key: half.party.key, event: 'ACCEPTED' });
  }

  async #onRequest(m: CallMsg, from: string): Promise<void> {
    const reply = (r: Omit<Reply, 'rid'>): void => this.#cluster.toNode(from, REPLY, { rid: m.rid, ...r });
    const callee = this.ctx.sessions.byNick(m.to ?? '');
    if (!callee?.connected) return reply({ err: 'NO_SUCH_USER', text: m.to });
    if (this.talks.busy(callee)) return reply({ err: 'BUSY', text: callee.nick });
    const half = this.#half(callee, m.id, 'callee', m.from ?? '', from);
    await this.#peer(from);
    if (this.#halves.get(m.id) !== half) return;
    reply({ ok: true, nick: callee.nick });
    callee.send({ type: 'TALK', peer: half.peer, key: half.party.key, event: 'REQUEST' });
    half.timer = this.#timer(() => this.end(half, true), this.options.talkTimeoutMs);
  }

  // Group voice

  /**
   * A local session joined the channel's group voice (`talk` holds this node's
   * talkers): asks the channel's other nodes for theirs, tells them, and
   * returns every talker's nick in join order, for TALKLIST.
   */
  async groupJoined(talk: GroupTalk, session: Session, already: boolean): Promise<string[]> {
    const key = foldCase(talk.channel);
    const party = talk.parties.get(session);
    if (party && !this.#joinedAt.has(party)) this.#joinedAt.set(party, this.#stamp());
    const g = this.#group(key);
    talk.remote = g;
    const others = (await this.#cluster.nodesOf(talk.channel)).filter((n) => n !== this.#cluster.nodeId);
    const answers = await Promise.all(
      others.map((n) => this.#ask(n, GROUP, { op: 'q', ch: key } satisfies Omit<GroupMsg, 'rid'>).then((r) => [n, r] as const)),
    );
    for (const [node, r] of answers) for (const [nick, at] of r.talkers ?? []) g.remote.set(foldCase(nick), { nick, node, at });
    await Promise.all([...new Set([...g.remote.values()].map((r) => r.node))].map((n) => this.#peer(n)));
    g.refresh();
    const at = party ? this.#joinedAt.get(party) : undefined;
    if (at !== undefined && !already) for (const n of others) this.#cluster.toNode(n, GROUP, { op: 'j', ch: key, nick: session.nick, at } satisfies GroupMsg);
    const all: [string, number][] = [...g.remote.values()].map((r) => [r.nick, r.at]);
    for (const p of talk.parties.values()) all.push([p.session.nick, this.#joinedAt.get(p) ?? 0]);
    return all.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  }

  /** A local talker left the channel's group voice: the other nodes forget it. */
  groupLeft(channel: string, nick: string): void {
    const key = foldCase(channel);
    const tell = (nodes: readonly string[]): void => {
      for (const n of nodes) if (n !== this.#cluster.nodeId) this.#cluster.toNode(n, GROUP, { op: 'l', ch: key, nick } satisfies GroupMsg);
    };
    const g = this.#groups.get(key);
    const known = g ? g.nodes : [];
    tell(known);
    const r = this.#cluster.nodesOf(channel);
    const rest = (nodes: readonly string[]): void => tell(nodes.filter((n) => !known.includes(n)));
    if (r instanceof Promise) r.then(rest, () => {});
    else rest(r);
    if (g && g.remote.size === 0 && !this.talks.group(key)) this.#groups.delete(key);
  }

  #group(key: string): GroupState {
    let g = this.#groups.get(key);
    if (!g) this.#groups.set(key, (g = new GroupState(key, this.link)));
    return g;
  }

  async #onGroup(m: GroupMsg, from: string): Promise<void> {
    const key = foldCase(m.ch);
    if (m.op === 'q') {
      const talk = this.talks.group(key);
      const talkers: [string, number][] = [];
      if (talk) for (const p of talk.parties.values()) talkers.push([p.session.nick, this.#joinedAt.get(p) ?? 0]);
      this.#cluster.toNode(from, REPLY, { rid: m.rid ?? 0, ok: true, talkers } satisfies Reply);
      return;
    }
    const nick = m.nick ?? '';
    const g = this.#group(key);
    if (m.op === 'j') {
      g.remote.set(foldCase(nick), { nick, node: from, at: m.at ?? this.#stamp() });
      await this.#peer(from);
      g.refresh();
      const talk = this.talks.group(key);
      if (talk) talk.remote = g;
    } else {
      const r = g.remote.get(foldCase(nick));
      if (r?.node === from) g.remote.delete(foldCase(nick));
      g.refresh();
      if (g.remote.size === 0 && !this.talks.group(key)) this.#groups.delete(key);
    }
  }

  // Nodes

  /** A node died or left: its halves' peers get ENDED, its talkers TALKLEAVE (to this node's members). */
  #nodeGone(node: string): void {
    for (const half of [...this.#halves.values()]) if (half.peerNode === node) this.end(half, false);
    for (const [key, g] of this.#groups) {
      for (const [f, r] of [...g.remote]) {
        if (r.node !== node) continue;
        g.remote.delete(f);
        const ch = this.#cluster.channel(key);
        if (ch) {
          const line = Buffer.from(formatServer({ type: 'TALKLEAVE', channel: ch.name, nick: r.nick }));
          for (const s of ch.list) s.write(line);
        }
      }
      g.refresh();
      if (g.remote.size === 0 && !this.talks.group(key)) this.#groups.delete(key);
    }
    this.link.removePeer(node);
    this.#peerLookups.delete(node);
  }

  /** Learns `node`'s link address (from what it advertised), once. */
  #peer(node: string): Promise<void> {
    if (this.link.hasPeer(node)) return Promise.resolve();
    let p = this.#peerLookups.get(node);
    if (!p) {
      p = (async () => {
        const a = await this.#cluster.nodeInfo(node, LINK_INFO_KEY);
        if (a === undefined || !this.link.setPeer(node, a)) this.#log.warn(`node ${node} advertises no voice link address`);
      })().catch((err: unknown) => this.#log.warn(`cannot look up node ${node}`, err));
      this.#peerLookups.set(node, p);
      void p.then(() => {
        if (!this.link.hasPeer(node)) this.#peerLookups.delete(node);
      });
    }
    return p;
  }

  /** Sends a request to a node and waits for its reply; UNAVAILABLE after `clusterTimeoutMs`. */
  #ask(node: string, topic: string, data: object): Promise<Reply> {
    const rid = ++this.#rid;
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => done({ rid, err: 'UNAVAILABLE', text: `node ${node} did not answer` }), this.options.clusterTimeoutMs);
      timer.unref();
      const done = (r: Reply): void => {
        clearTimeout(timer);
        this.#waiting.delete(rid);
        resolve(r);
      };
      this.#waiting.set(rid, done);
      this.#cluster.toNode(node, topic, { ...data, rid });
    });
  }

  #ingress(kind: LinkKind, id: string, frame: Buffer, from: string): boolean {
    let talk: Talk | undefined;
    if (kind === LINK_CALL) {
      const half = this.#halves.get(id);
      if (half?.peerNode === from) talk = half;
    } else talk = this.talks.group(id);
    if (talk === undefined) return false;
    this.relay.fanOut(talk, frame);
    return true;
  }

  /** Microseconds since the epoch, strictly increasing on this node: the join order of talkers. */
  #stamp(): number {
    this.#lastStamp = Math.max(Date.now() * 1000, this.#lastStamp + 1);
    return this.#lastStamp;
  }

  #timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  }
}
