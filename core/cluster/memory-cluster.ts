/**
 * The in-memory cluster: complete for one node (the default), and for several
 * in-process nodes sharing a {@link MemoryHub}. It is the base class of every
 * other cluster (socket.io's `Adapter` pattern): a subclass overrides what
 * crosses nodes and calls the `deliver*` methods here for local delivery.
 */
import { randomBytes } from 'node:crypto';
import { formatServer } from '../codec.js';
import { foldCase } from '../names.js';
import type { Session } from '../session.js';
import { LocalChannels } from './local-channels.js';
import { MemoryHub } from './memory-hub.js';
import type { ClaimResult, Cluster, ClusterFactory, ClusterHost, ClusterStats, JoinResult, LocalChannel, RemoteLeave } from './types.js';

export interface MemoryClusterOptions {
  /** Shared state of the nodes; default: a hub of its own (a single node). */
  hub?: MemoryHub;
  /** Default: 12 random hex digits. */
  nodeId?: string;
}

/** A random node id. */
export function randomNodeId(): string {
  return randomBytes(6).toString('hex');
}

export class MemoryCluster implements Cluster {
  readonly nodeId: string;
  readonly stats: ClusterStats = { published: 0, publishedBytes: 0, received: 0, receivedBytes: 0, channelReceived: 0, subscriptions: 0 };
  /** This node's channels and their local members. */
  protected readonly local = new LocalChannels();
  readonly #hub: MemoryHub;
  readonly #nodeHandlers = new Map<string, (data: unknown, from: string) => void>();
  readonly #leaveHandlers: ((l: RemoteLeave) => void)[] = [];
  readonly #goneHandlers: ((node: string) => void)[] = [];

  constructor(
    protected readonly host: ClusterHost,
    options: MemoryClusterOptions = {},
  ) {
    this.nodeId = options.nodeId ?? randomNodeId();
    this.#hub = options.hub ?? new MemoryHub();
  }

  get available(): boolean {
    return true;
  }

  start(): void | Promise<void> {
    this.#nodes.set(this.nodeId, this);
  }

  stop(): void | Promise<void> {
    if (this.#nodes.get(this.nodeId) === this) this.#hub.expire(this.nodeId);
  }

  /**
   * Stops without telling anyone, as a killed process would: the others remove
   * this node's users when its lease expires (at once, in memory). For tests.
   */
  abandon(): void {
    if (this.#nodes.get(this.nodeId) === this) this.#hub.expire(this.nodeId);
  }

  // Nicks

  claimNick(nick: string): ClaimResult | Promise<ClaimResult> {
    const key = foldCase(nick);
    if (this.#hub.nicks.has(key)) return 'taken';
    this.#hub.nicks.set(key, this.nodeId);
    return 'ok';
  }

  releaseNick(nick: string): void {
    const key = foldCase(nick);
    if (this.#hub.nicks.get(key) === this.nodeId) this.#hub.nicks.delete(key);
  }

  ownerOf(nick: string): string | undefined | Promise<string | undefined> {
    return this.#hub.nicks.get(foldCase(nick));
  }

  // Channels

  /** The hub's nodes are all MemoryClusters; the hub knows only what it calls itself. */
  get #nodes(): Map<string, MemoryCluster> {
    return this.#hub.nodes as Map<string, MemoryCluster>;
  }

  get localChannelCount(): number {
    return this.local.size;
  }

  channel(name: string): LocalChannel | undefined {
    return this.local.get(name);
  }

  channelsOf(session: Session): ReadonlySet<LocalChannel> {
    return this.local.channelsOf(session);
  }

  isMember(session: Session, channel: string): boolean {
    return this.local.get(channel)?.members.has(session) ?? false;
  }

  join(session: Session, channel: string): JoinResult | Promise<JoinResult> {
    const key = foldCase(channel);
    const ch = this.#hub.join(key, channel, session.nick, this.nodeId);
    const already = !this.local.add(session, key, ch.name);
    return { channel: ch.name, already, userlist: this.#hub.userlist(ch, this.host.maxLineBytes) };
  }

  leave(session: Session, channel: string): string | undefined {
    const ch = this.local.remove(session, foldCase(channel));
    if (!ch) return undefined;
    this.#hub.leave(ch.key, session.nick, this.nodeId);
    return ch.name;
  }

  nodesOf(channel: string): readonly string[] | Promise<readonly string[]> {
    const ch = this.#hub.channels.get(foldCase(channel));
    return ch ? [...new Set(ch.members.values())] : [];
  }

  // Delivery

  toChannel(channel: string | LocalChannel, line: Buffer, except?: Session): void {
    const key = typeof channel === 'string' ? foldCase(channel) : channel.key;
    this.deliverChannel(key, line, except);
    // One node (the default): nothing else to do, and nothing allocated.
    if (this.#nodes.size <= 1) return;
    this.stats.published++;
    for (const node of this.#nodes.values()) {
      if (node !== this && node.local.byKey(key)) {
        node.stats.received++;
        node.stats.channelReceived++;
        node.deliverChannel(key, line);
      }
    }
  }

  sendMessage(from: string, to: string, text: string): boolean | Promise<boolean> {
    if (this.deliverMessage(from, to, text)) return true;
    const owner = this.#hub.nicks.get(foldCase(to));
    const node = owner === undefined ? undefined : this.#nodes.get(owner);
    if (!node || node === this) return false;
    this.stats.published++;
    node.stats.received++;
    return node.deliverMessage(from, to, text);
  }

  broadcastAll(from: string, text: string): number {
    const n = this.deliverAll(from, text);
    if (this.#nodes.size > 1) {
      this.stats.published++;
      for (const node of this.#nodes.values()) {
        if (node === this) continue;
        node.stats.received++;
        node.deliverAll(from, text);
      }
    }
    return n;
  }

  toNode(node: string, topic: string, data: unknown): void {
    const target = this.#nodes.get(node);
    if (!target) return;
    this.stats.published++;
    target.stats.received++;
    target.deliverNode(topic, data, this.nodeId);
  }

  onNode(topic: string, handler: (data: unknown, from: string) => void): void {
    this.#nodeHandlers.set(topic, handler);
  }

  onRemoteLeave(handler: (leave: RemoteLeave) => void): void {
    this.#leaveHandlers.push(handler);
  }

  advertise(key: string, value: string): void | Promise<void> {
    let info = this.#hub.info.get(this.nodeId);
    if (!info) this.#hub.info.set(this.nodeId, (info = new Map()));
    info.set(key, value);
  }

  nodeInfo(node: string, key: string): string | undefined | Promise<string | undefined> {
    return this.#hub.info.get(node)?.get(key);
  }

  onNodeGone(handler: (node: string) => void): void {
    this.#goneHandlers.push(handler);
  }

  // Local delivery, for subclasses

  /** Writes `line` to this node's members of the channel `key` (folded), except `except`. */
  protected deliverChannel(key: string, line: Buffer, except?: Session): void {
    const ch = this.local.byKey(key);
    if (!ch) return;
    const list = ch.list;
    for (let i = 0; i < list.length; i++) if (list[i] !== except) list[i]!.write(line);
  }

  /** `MSG from to: text` to a local user; false when `to` is not on this node. */
  protected deliverMessage(from: string, to: string, text: string): boolean {
    const s = this.host.sessions.byNick(to);
    if (!s) return false;
    s.write(Buffer.from(formatServer({ type: 'MSG', sender: from, recipient: s.nick, text }, this.host.maxLineBytes)));
    return true;
  }

  /** `MSG from <nick>: text` to every local user; returns how many. */
  protected deliverAll(from: string, text: string): number {
    let n = 0;
    for (const s of this.host.sessions.connected()) {
      s.write(Buffer.from(formatServer({ type: 'MSG', sender: from, recipient: s.nick, text }, this.host.maxLineBytes)));
      n++;
    }
    return n;
  }

  protected deliverNode(topic: string, data: unknown, from: string): void {
    const h = this.#nodeHandlers.get(topic);
    if (!h) return;
    try {
      h(data, from);
    } catch (err) {
      this.host.log.error(`node message handler for ${topic} failed`, err);
    }
  }

  /**
   * A member on another node vanished with its node: `USERLEAVE` to the local
   * members, then the remote-leave handlers. Public for the hub.
   */
  memberGone(key: string, channel: string, nick: string, node: string): void {
    if (this.local.byKey(key)) {
      this.stats.received++;
      this.stats.channelReceived++;
      this.deliverChannel(key, Buffer.from(formatServer({ type: 'USERLEAVE', channel, nick })));
    }
    for (const h of this.#leaveHandlers) h({ channel, nick, node });
  }

  /** Another node is gone (left, or its lease expired): the node-gone handlers. Public for the hub. */
  nodeGone(node: string): void {
    if (node === this.nodeId) return;
    for (const h of this.#goneHandlers) {
      try {
        h(node);
      } catch (err) {
        this.host.log.error(`node-gone handler failed for ${node}`, err);
      }
    }
  }
}

/**
 * The in-memory cluster factory (the default: one node).
 * @param options hub (share one between in-process nodes), nodeId (default random)
 */
export function memoryCluster(options: MemoryClusterOptions = {}): ClusterFactory {
  return (host) => new MemoryCluster(host, options);
}
