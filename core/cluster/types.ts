/**
 * The cluster seam: what the kernel and the plugins ask of "the rest of the
 * cluster". One node (the in-memory default) answers everything locally; a
 * Redis-backed cluster answers for every node. Plugins never know which.
 */
import type { Logger } from '../logger.js';
import type { Session } from '../session.js';
import type { SessionLookup } from '../session-registry.js';

/** What a cluster node needs from its server. */
export interface ClusterHost {
  /** This node's connected sessions, by nick. */
  readonly sessions: SessionLookup;
  readonly log: Logger;
  /** The server's line limit, for splitting `USERLIST`. */
  readonly maxLineBytes: number;
}

/** `ok`: the nick is now this node's; `taken`: held on some node; `unavailable`: cannot be checked now. */
export type ClaimResult = 'ok' | 'taken' | 'unavailable';

/** Writes the `USERLIST` lines of a channel. */
export interface UserlistWriter {
  writeTo(session: Session): void;
}

export interface JoinResult {
  /** The channel's name as its creator spelled it. */
  readonly channel: string;
  /** The session was a member already. */
  readonly already: boolean;
  /** Every member on every node, in join order. */
  readonly userlist: UserlistWriter;
}

/** A channel as this node sees it: its spelling and its local members. */
export interface LocalChannel {
  readonly name: string;
  /** The folded name. */
  readonly key: string;
  readonly members: ReadonlySet<Session>;
  /** The same members in join order, for fan-out loops. */
  readonly list: readonly Session[];
}

/** Bus counters, for tests and benchmarks. */
export interface ClusterStats {
  /** Messages this node put on the bus (publishes). */
  published: number;
  /** Payload bytes of those publishes (0 on the in-memory cluster, which encodes nothing). */
  publishedBytes: number;
  /** Bus messages this node received, of any kind. */
  received: number;
  /** Payload bytes of those (0 on the in-memory cluster). */
  receivedBytes: number;
  /** Of those, messages of a channel's traffic. */
  channelReceived: number;
  /** Channels this node is subscribed to right now. */
  subscriptions: number;
}

/** A member removed because its node went away: reported to local observers. */
export interface RemoteLeave {
  readonly channel: string;
  readonly nick: string;
  readonly node: string;
}

/**
 * The operations plugins use. Calls that may cross nodes return a value or a
 * promise: the in-memory cluster answers synchronously, so a single node pays
 * nothing for the seam.
 */
export interface Cluster {
  /** Unique among live nodes. */
  readonly nodeId: string;
  readonly stats: Readonly<ClusterStats>;
  /** False while the shared state cannot be reached (nick claims are refused). */
  readonly available: boolean;

  /** Claims `nick` for this node, case-insensitively, cluster-wide. */
  claimNick(nick: string): ClaimResult | Promise<ClaimResult>;
  /** Frees a nick this node holds. */
  releaseNick(nick: string): void;
  /** The node whose client holds `nick`, or undefined. */
  ownerOf(nick: string): string | undefined | Promise<string | undefined>;

  /** This node's view of a channel (any case); undefined when it has no local member. */
  channel(name: string): LocalChannel | undefined;
  /** Channels with a member on this node. */
  readonly localChannelCount: number;
  /** The channels a local session is in. */
  channelsOf(session: Session): ReadonlySet<LocalChannel>;
  isMember(session: Session, channel: string): boolean;
  /** Adds a local session to a channel (created, in this spelling, if it exists nowhere). */
  join(session: Session, channel: string): JoinResult | Promise<JoinResult>;
  /** Removes a local session; returns the channel's spelling, or undefined when it was not a member. */
  leave(session: Session, channel: string): string | undefined;
  /** Nodes with at least one member of the channel. */
  nodesOf(channel: string): readonly string[] | Promise<readonly string[]>;

  /** Writes `line` (wire bytes) to every member of `channel` on every node, except `except`: one bus publish. */
  toChannel(channel: string | LocalChannel, line: Buffer, except?: Session): void;
  /** `MSG <from> <nick>: <text>` to the user `to` on whichever node holds it; false when nobody does. */
  sendMessage(from: string, to: string, text: string): boolean | Promise<boolean>;
  /** `MSG <from> <nick>: <text>` to every connected user on every node; returns how many on this node. */
  broadcastAll(from: string, text: string): number;
  /** Sends a message to one node's handlers of `topic` (for plugins; the payload must be msgpack-encodable). */
  toNode(node: string, topic: string, data: unknown): void;
  /** Handles node-to-node messages of `topic`. */
  onNode(topic: string, handler: (data: unknown, from: string) => void): void;
  /** Called with members removed because their node went away (after their USERLEAVE went out). */
  onRemoteLeave(handler: (leave: RemoteLeave) => void): void;
  /**
   * Publishes `value` under `key` in this node's record (e.g. the voice relay's
   * node-to-node address), readable by every node while this node is live.
   */
  advertise(key: string, value: string): void | Promise<void>;
  /** What `node` advertised under `key`; undefined when it did not or is not live. */
  nodeInfo(node: string, key: string): string | undefined | Promise<string | undefined>;
  /** Called on every other node once a node has left or its lease expired (after the onRemoteLeave calls). */
  onNodeGone(handler: (node: string) => void): void;

  start(): void | Promise<void>;
  /** Leaves the cluster gracefully: this node's users vanish everywhere at once. */
  stop(): void | Promise<void>;
}

/** Builds a server's cluster node; `createServer({ cluster })` takes one. */
export type ClusterFactory = (host: ClusterHost) => Cluster;
