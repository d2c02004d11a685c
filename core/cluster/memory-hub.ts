/**
 * The shared state of in-memory nodes: nick owners, channel membership on
 * every node, the live nodes. One hub per single-node server by default; tests
 * share one hub between several in-process nodes to run a cluster without Redis.
 */
import { ListLines } from '../list-lines.js';

export interface HubChannel {
  /** As its creator spelled it. */
  readonly name: string;
  /** Nick (as spelled) -> node id, in join order. */
  readonly members: Map<string, string>;
  /** Cached USERLIST lines: extended on join, dropped on leave. */
  userlist: ListLines | undefined;
}

/** What the hub needs of a node (MemoryCluster implements it). */
export interface HubNode {
  memberGone(key: string, channel: string, nick: string, node: string): void;
  nodeGone(node: string): void;
}

export class MemoryHub {
  /** Folded nick -> node id. */
  readonly nicks = new Map<string, string>();
  /** Folded channel name -> channel. */
  readonly channels = new Map<string, HubChannel>();
  readonly nodes = new Map<string, HubNode>();
  /** Node id -> what it advertised. */
  readonly info = new Map<string, Map<string, string>>();

  join(key: string, name: string, nick: string, node: string): HubChannel {
    let ch = this.channels.get(key);
    if (!ch) this.channels.set(key, (ch = { name, members: new Map(), userlist: undefined }));
    if (!ch.members.has(nick)) {
      ch.members.set(nick, node);
      ch.userlist?.add(nick);
    }
    return ch;
  }

  /** Removes `nick` if `node` holds it there; returns the channel's spelling when it did. */
  leave(key: string, nick: string, node: string): string | undefined {
    const ch = this.channels.get(key);
    if (!ch || ch.members.get(nick) !== node) return undefined;
    ch.members.delete(nick);
    ch.userlist = undefined;
    if (ch.members.size === 0) this.channels.delete(key);
    return ch.name;
  }

  userlist(ch: HubChannel, maxLineBytes: number): ListLines {
    if (!ch.userlist) {
      ch.userlist = new ListLines(`USERLIST ${ch.name}: `, maxLineBytes);
      for (const nick of ch.members.keys()) ch.userlist.add(nick);
    }
    return ch.userlist;
  }

  /**
   * A node is gone (crashed, or left): its nicks are freed and its members
   * removed; every other node tells its local members (`USERLEAVE`).
   */
  expire(node: string): void {
    const gone = this.nodes.get(node);
    this.nodes.delete(node);
    for (const [nick, owner] of this.nicks) if (owner === node) this.nicks.delete(nick);
    for (const [key, ch] of this.channels) {
      for (const [nick, owner] of ch.members) {
        if (owner !== node) continue;
        this.leave(key, nick, node);
        for (const n of this.nodes.values()) if (n !== gone) n.memberGone(key, ch.name, nick, node);
      }
    }
    this.info.delete(node);
    for (const n of this.nodes.values()) if (n !== gone) n.nodeGone(node);
  }
}
