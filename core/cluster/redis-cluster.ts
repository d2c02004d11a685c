/**
 * The Redis cluster (ioredis; every bus message msgpackr-encoded). It extends
 * the in-memory cluster and overrides what crosses nodes: nick claims (leases
 * the owning node refreshes), the channel directory (one Redis record per
 * channel, members of every node), delivery (one publish per channel message
 * on the channel's own Redis channel, which a node subscribes to only while
 * it has members there; DMs and node messages on the owner's node channel),
 * node liveness (a heartbeat lease; expired nodes are reaped by the others)
 * and re-announcing after Redis comes back. Local delivery is the base class's.
 */
import { Redis } from 'ioredis';
import { pack, unpack } from 'msgpackr';
import { formatServer } from '../codec.js';
import { ProtocolError } from '../errors.js';
import { foldCase } from '../names.js';
import type { Session } from '../session.js';
import { ListLines } from '../list-lines.js';
import { MemoryCluster, randomNodeId } from './memory-cluster.js';
import * as scripts from './redis-scripts.js';
import { DEFAULT_REDIS_CLUSTER, type RedisClusterOptions } from './redis-options.js';
import type { ClaimResult, ClusterHost, JoinResult, LocalChannel, UserlistWriter } from './types.js';

/** Bus message kinds (first element after the origin node id). */
const LINE = 0;
const GONE = 1;
const DM = 2;
const NODE = 3;
const ALL = 4;
const NODE_GONE = 5;

interface ScriptCommands {
  parleyClaim(...args: (string | number)[]): Promise<number>;
  parleyRelease(...args: (string | number)[]): Promise<number>;
  parleyJoin(...args: (string | number)[]): Promise<[string, number, string[]]>;
  parleyLeave(...args: (string | number)[]): Promise<number>;
  parleyBeat(...args: (string | number)[]): Promise<number>;
  parleyReap(...args: (string | number)[]): Promise<string[]>;
  parleyGoodbye(...args: (string | number)[]): Promise<string[]>;
  parleySync(...args: (string | number)[]): Promise<[string[], string[], string[]]>;
}

export class RedisCluster extends MemoryCluster {
  readonly prefix: string;
  readonly leaseMs: number;
  readonly #cmd: Redis & ScriptCommands;
  readonly #sub: Redis;
  readonly #chanPrefix: string;
  readonly #nodeChannel: string;
  readonly #allChannel: string;
  /** Channel key -> local members plus joins under way; subscribed while above 0. */
  readonly #refs = new Map<string, number>();
  readonly #subscribing = new Map<string, Promise<unknown>>();
  #beat: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;
  #syncing: Promise<void> | undefined;
  /** What this node advertised, written again after Redis comes back. */
  readonly #info = new Map<string, string>();

  constructor(host: ClusterHost, options: RedisClusterOptions) {
    super(host, { nodeId: options.nodeId ?? randomNodeId() });
    this.prefix = options.prefix ?? DEFAULT_REDIS_CLUSTER.prefix;
    this.leaseMs = options.leaseMs ?? DEFAULT_REDIS_CLUSTER.leaseMs;
    this.#chanPrefix = `${this.prefix}:c:`;
    this.#nodeChannel = `${this.prefix}:node:${this.nodeId}`;
    this.#allChannel = `${this.prefix}:all`;
    // Fail fast while disconnected (no offline queue, no replay of stale commands):
    // local service goes on, and the state is re-announced on reconnect.
    const opts = {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    };
    this.#cmd = new Redis(options.url, opts) as Redis & ScriptCommands;
    this.#sub = new Redis(options.url, opts);
    const defs: [keyof ScriptCommands, string][] = [
      ['parleyClaim', scripts.CLAIM],
      ['parleyRelease', scripts.RELEASE],
      ['parleyJoin', scripts.JOIN],
      ['parleyLeave', scripts.LEAVE],
      ['parleyBeat', scripts.BEAT],
      ['parleyReap', scripts.REAP],
      ['parleyGoodbye', scripts.GOODBYE],
      ['parleySync', scripts.SYNC],
    ];
    for (const [name, lua] of defs) this.#cmd.defineCommand(name, { numberOfKeys: 0, lua });
    for (const r of [this.#cmd, this.#sub]) {
      r.on('error', (err: Error) => this.host.log.debug(`redis: ${err.message}`));
      r.on('ready', () => this.#reconnected());
    }
    this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#message(channel.toString(), message));
  }

  /** Both connections up and, after an outage, this node's state re-announced (until then a CONNECT would see a partial directory). */
  override get available(): boolean {
    return this.#connected() && this.#syncing === undefined;
  }

  #connected(): boolean {
    return this.#cmd.status === 'ready' && this.#sub.status === 'ready';
  }

  override async start(): Promise<void> {
    await Promise.all([this.#cmd.connect(), this.#sub.connect()]);
    await this.#sub.subscribe(this.#nodeChannel, this.#allChannel);
    await this.#cmd.parleyBeat(this.prefix, this.nodeId, this.leaseMs);
    this.#started = true;
    this.#beat = setInterval(() => void this.#heartbeat(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.#beat.unref();
  }

  #lastPublish: Promise<unknown> = Promise.resolve();

  override async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#beat);
    if (this.#connected()) {
      try {
        this.#gone(await this.#cmd.parleyGoodbye(this.prefix, this.nodeId), this.nodeId);
        this.#publish(this.#allChannel, [this.nodeId, NODE_GONE, this.nodeId]);
      } catch (err) {
        this.host.log.warn('cluster: goodbye failed', err);
      }
    }
    // The goodbye's USERLEAVE publishes go out before QUIT.
    await this.#lastPublish;
    await Promise.all([this.#cmd, this.#sub].map((r) => r.quit().catch(() => r.disconnect())));
  }

  /**
   * Stops without telling anyone, as a killed process would: the other nodes
   * remove this node's users once its lease expires. For tests.
   */
  override abandon(): void {
    this.#stopped = true;
    clearInterval(this.#beat);
    this.#cmd.disconnect();
    this.#sub.disconnect();
  }

  // Nicks

  override async claimNick(nick: string): Promise<ClaimResult> {
    if (!this.available) return 'unavailable';
    try {
      return (await this.#cmd.parleyClaim(this.prefix, foldCase(nick), this.nodeId, this.leaseMs)) === 1 ? 'ok' : 'taken';
    } catch {
      return 'unavailable';
    }
  }

  override releaseNick(nick: string): void {
    this.#cmd.parleyRelease(this.prefix, foldCase(nick), this.nodeId).catch(() => {});
  }

  override async ownerOf(nick: string): Promise<string | undefined> {
    return (await this.#cmd.get(`${this.prefix}:u:${foldCase(nick)}`)) ?? undefined;
  }

  // Channels

  override async join(session: Session, channel: string): Promise<JoinResult> {
    const key = foldCase(channel);
    const wasMember = this.local.byKey(key)?.members.has(session) ?? false;
    if (!wasMember) await this.#ref(key);
    try {
      const [name, already, members] = await this.#cmd.parleyJoin(this.prefix, key, channel, session.nick, this.nodeId);
      if (session.state === 'closed') {
        // Closed while joining: onSessionClose has run already, so undo here.
        if (!wasMember) {
          this.#cmd.parleyLeave(this.prefix, key, session.nick, this.nodeId).catch(() => {});
          this.#unref(key);
        }
        return { channel: name, already: true, userlist: EMPTY_LIST };
      }
      const added = this.local.add(session, key, name);
      return { channel: name, already: already === 1 || !added, userlist: this.#userlist(name, members) };
    } catch (err) {
      if (session.state === 'closed') {
        if (!wasMember) this.#unref(key);
        throw err;
      }
      // Redis unreachable: serve locally; the state is re-announced on reconnect.
      const name = this.local.byKey(key)?.name ?? channel;
      const added = this.local.add(session, key, name);
      const ch = this.local.byKey(key)!;
      return {
        channel: name,
        already: !added,
        userlist: this.#userlist(
          name,
          ch.list.map((s) => s.nick),
        ),
      };
    }
  }

  override leave(session: Session, channel: string): string | undefined {
    const ch = this.local.remove(session, foldCase(channel));
    if (!ch) return undefined;
    this.#cmd.parleyLeave(this.prefix, ch.key, session.nick, this.nodeId).catch(() => {});
    this.#unref(ch.key);
    return ch.name;
  }

  override async nodesOf(channel: string): Promise<readonly string[]> {
    const nodes = await this.#cmd.hvals(`${this.#chanPrefix}${foldCase(channel)}:n`);
    return [...new Set(nodes)];
  }

  // Delivery

  override toChannel(channel: string | LocalChannel, line: Buffer, except?: Session): void {
    const key = typeof channel === 'string' ? foldCase(channel) : channel.key;
    this.deliverChannel(key, line, except);
    this.#publish(this.#chanPrefix + key, [this.nodeId, LINE, line]);
  }

  override async sendMessage(from: string, to: string, text: string): Promise<boolean> {
    if (this.deliverMessage(from, to, text)) return true;
    if (!this.available) throw new ProtocolError('UNAVAILABLE');
    const owner = await this.ownerOf(to);
    if (owner === undefined) return false;
    this.#publish(`${this.prefix}:node:${owner}`, [this.nodeId, DM, from, to, text]);
    return true;
  }

  override broadcastAll(from: string, text: string): number {
    const n = this.deliverAll(from, text);
    this.#publish(this.#allChannel, [this.nodeId, ALL, from, text]);
    return n;
  }

  override async advertise(key: string, value: string): Promise<void> {
    this.#info.set(key, value);
    await this.#cmd.hset(`${this.prefix}:n:${this.nodeId}:i`, key, value).catch(() => {});
  }

  override async nodeInfo(node: string, key: string): Promise<string | undefined> {
    if (node === this.nodeId) return this.#info.get(key);
    return (await this.#cmd.hget(`${this.prefix}:n:${node}:i`, key)) ?? undefined;
  }

  override toNode(node: string, topic: string, data: unknown): void {
    if (node === this.nodeId) this.deliverNode(topic, data, this.nodeId);
    else this.#publish(`${this.prefix}:node:${node}`, [this.nodeId, NODE, topic, data]);
  }

  #publish(channel: string, msg: unknown[]): void {
    const bytes = pack(msg);
    this.stats.published++;
    this.stats.publishedBytes += bytes.length;
    this.#lastPublish = this.#cmd.publish(channel, bytes).catch(() => 0);
  }

  #message(channel: string, raw: Buffer): void {
    this.stats.received++;
    this.stats.receivedBytes += raw.length;
    let msg: unknown[];
    try {
      msg = unpack(raw) as unknown[];
    } catch {
      return;
    }
    if (!Array.isArray(msg) || msg[0] === this.nodeId) return; // our own publish comes back: delivered already
    const from = msg[0] as string;
    if (channel.startsWith(this.#chanPrefix)) {
      this.stats.channelReceived++;
      const key = channel.slice(this.#chanPrefix.length);
      if (!this.#refs.has(key)) {
        // A stale subscription (an unsubscribe lost while Redis was away).
        this.#sub.unsubscribe(channel).catch(() => {});
        return;
      }
      if (msg[1] === LINE) this.deliverChannel(key, msg[2] as Buffer);
      else if (msg[1] === GONE) this.memberGone(key, msg[2] as string, msg[3] as string, msg[4] as string);
    } else if (msg[1] === DM) this.deliverMessage(msg[2] as string, msg[3] as string, msg[4] as string);
    else if (msg[1] === ALL) this.deliverAll(msg[2] as string, msg[3] as string);
    else if (msg[1] === NODE) this.deliverNode(msg[2] as string, msg[3], from);
    else if (msg[1] === NODE_GONE) this.nodeGone(msg[2] as string);
  }

  async #ref(key: string): Promise<void> {
    const n = (this.#refs.get(key) ?? 0) + 1;
    this.#refs.set(key, n);
    let p = this.#subscribing.get(key);
    if (n === 1 || !p) {
      p = this.#sub.subscribe(this.#chanPrefix + key).then(
        () => {
          this.stats.subscriptions = this.#refs.size;
        },
        () => {},
      );
      this.#subscribing.set(key, p);
    }
    await p;
  }

  #unref(key: string): void {
    const n = (this.#refs.get(key) ?? 1) - 1;
    if (n > 0) {
      this.#refs.set(key, n);
      return;
    }
    this.#refs.delete(key);
    this.#subscribing.delete(key);
    this.stats.subscriptions = this.#refs.size;
    this.#sub.unsubscribe(this.#chanPrefix + key).catch(() => {});
  }

  #userlist(name: string, members: readonly string[]): UserlistWriter {
    const list = new ListLines(`USERLIST ${name}: `, this.host.maxLineBytes);
    for (const m of members) list.add(m);
    return list;
  }

  /** Members removed from Redis: USERLEAVE locally and on every node with members there. */
  #gone(flat: readonly string[], node: string): void {
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const [key, name, nick] = [flat[i]!, flat[i + 1]!, flat[i + 2]!];
      this.memberGone(key, name, nick, node);
      this.#publish(this.#chanPrefix + key, [this.nodeId, GONE, name, nick, node]);
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped || !this.available) return;
    try {
      await this.#cmd.parleyBeat(this.prefix, this.nodeId, this.leaseMs);
      const reaped = await this.#cmd.parleyReap(this.prefix);
      for (let i = 0; i + 3 < reaped.length; i += 4) {
        if (reaped[i + 1] !== '') this.#gone(reaped.slice(i + 1, i + 4), reaped[i]!);
        else {
          // The node's members are gone (USERLEAVE published first): now the node itself, everywhere.
          this.nodeGone(reaped[i]!);
          this.#publish(this.#allChannel, [this.nodeId, NODE_GONE, reaped[i]!]);
        }
      }
    } catch (err) {
      this.host.log.debug(`cluster heartbeat failed: ${(err as Error).message}`);
    }
  }

  /** Both connections are up again: re-announce (once at a time). */
  #reconnected(): void {
    if (!this.#started || this.#stopped || !this.#connected()) return;
    this.#syncing ??= this.#resync().finally(() => (this.#syncing = undefined));
  }

  async #resync(): Promise<void> {
    try {
      const keys = [...this.#refs.keys()];
      if (keys.length > 0) await this.#sub.subscribe(...keys.map((k) => this.#chanPrefix + k));
      await this.#sub.subscribe(this.#nodeChannel, this.#allChannel);
      const users: string[] = [];
      for (const s of this.host.sessions.connected()) users.push(foldCase(s.nick));
      const members: string[] = [];
      for (const ch of this.local.values()) for (const s of ch.list) members.push(`${ch.key}\n${s.nick}`, ch.name);
      if (this.#info.size > 0) await this.#cmd.hset(`${this.prefix}:n:${this.nodeId}:i`, Object.fromEntries(this.#info));
      const [conflicts, removed, added] = await this.#cmd.parleySync(this.prefix, this.nodeId, this.leaseMs, users.length, ...users, ...members);
      this.#gone(removed, this.nodeId);
      for (let i = 0; i + 2 < added.length; i += 3) {
        const line = Buffer.from(formatServer({ type: 'USERJOIN', channel: added[i + 1]!, nick: added[i + 2]! }));
        this.#publish(this.#chanPrefix + added[i]!, [this.nodeId, LINE, line]);
      }
      for (const f of conflicts) this.host.sessions.byNick(f)?.close('nickname taken on another node');
      this.host.log.info(`cluster: re-announced ${users.length} users, ${members.length / 2} memberships`);
    } catch (err) {
      this.host.log.warn('cluster: re-announce failed', err);
    }
  }
}

const EMPTY_LIST: UserlistWriter = { writeTo: () => {} };
