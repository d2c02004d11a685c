/**
 * Voice state: 1:1 calls and channel group voice. Every participant of a talk
 * is a {@link Party} with its own session key (PROTOCOL.md section 2): the key
 * is that participant's credential, so parties are looked up by key. The UDP
 * relay and the TALK handlers share it.
 */
import type { Socket } from 'node:dgram';
import { foldCase, type Session } from '../../core/index.js';
import { newSessionKey } from './session-key.js';

/** Where one party of one talk sends from and receives at: a UDP address, or its own WebSocket session. */
export interface Endpoint {
  /** `address:port`, the relay's lookup key (`ws:<session id>` for a WebSocket party). */
  readonly id: string;
  /** A WebSocket party: frames go to this session as binary messages. Undefined for UDP. */
  readonly session?: Session;
  readonly address: string;
  readonly port: number;
  /** The encoded key and nick every frame from this address must start with, as first received. */
  readonly prefix: Buffer;
  /** Bytes of the encoded key (length varint included): what the relay drops. */
  readonly keyBytes: number;
  readonly talk: Talk;
  readonly party: Party;
  /** UDP: the party's own socket on the relay's port (udp-relay.ts #isolate), once opened. */
  socket?: Socket | undefined;
  /** `socket` is connected to this address: frames to the party go through it. */
  connected?: boolean;
}

export interface Party {
  /** This participant's own session key. */
  readonly key: string;
  readonly talk: Talk;
  readonly session: Session;
  /** The TCP peer IP without `::ffff:`: the only IP this party's frames may come from. */
  readonly ip: string;
  endpoint: Endpoint | undefined;
  /** Token bucket of this participant's datagrams (the relay's rate bound). */
  tokens: number;
  /** performance.now() of the last refill. */
  refilledAt: number;
}

interface TalkBase {
  /** In join order. */
  readonly parties: Map<Session, Party>;
  /** Bound endpoints, the relay's fan-out list. */
  readonly endpoints: Endpoint[];
  /** 1:1 calls: once ACCEPTed; group voice: always. */
  accepted: boolean;
  /** performance.now() of the last relayed frame with a payload (or of ACCEPT). */
  lastPayloadAt: number;
  /** Request timeout, then idle timeout (1:1 calls only). */
  timer: NodeJS.Timeout | undefined;
  /** Parties on other nodes (a cluster): the relay hands each relayed frame here too. */
  remote?: RemoteSink;
}

/** Where a talk's frames go beyond this node; see cluster-talks.ts. */
export interface RemoteSink {
  /** Sends one relayed frame (key emptied) once to each other node with parties of the talk; returns datagrams sent. */
  send(frame: Buffer): number;
}

export interface CallTalk extends TalkBase {
  readonly kind: 'call';
  readonly requester: Party;
  readonly callee: Party;
}

export interface GroupTalk extends TalkBase {
  readonly kind: 'group';
  /** The channel as its creator spelled it. */
  readonly channel: string;
}

/**
 * This node's half of a 1:1 call whose other party is on another node: one
 * local party, the peer known by nick and node only (its key stays on its node).
 * Counted in pending/active calls on the requester's node only.
 */
export interface HalfCallTalk extends TalkBase {
  readonly kind: 'half';
  /** The call's id, the same on both nodes. */
  readonly id: string;
  readonly role: 'requester' | 'callee';
  readonly party: Party;
  /** The other party's nick (as it spells it, once known). */
  peer: string;
  readonly peerNode: string;
}

export type Talk = CallTalk | GroupTalk | HalfCallTalk;

export function normaliseIp(ip: string): string {
  return ip.length > 7 && ip.slice(0, 7).toLowerCase() === '::ffff:' ? ip.slice(7) : ip;
}

export class TalkRegistry {
  /** Every participant of every talk, by its own key. */
  readonly #byKey = new Map<string, Party>();
  /** A session is a party of at most one 1:1 call. */
  readonly #callOf = new Map<Session, CallTalk>();
  /** By case-folded channel name. */
  readonly #groups = new Map<string, GroupTalk>();
  readonly #groupsOf = new Map<Session, Set<GroupTalk>>();
  readonly #halfOf = new Map<Session, HalfCallTalk>();
  pendingCalls = 0;
  activeCalls = 0;
  groupTalkers = 0;

  /** The participant whose own key this is. */
  byKey(key: string): Party | undefined {
    return this.#byKey.get(key);
  }

  callOf(session: Session): CallTalk | undefined {
    return this.#callOf.get(session);
  }

  /** This node's half of a cross-node call `session` is a party of. */
  halfOf(session: Session): HalfCallTalk | undefined {
    return this.#halfOf.get(session);
  }

  /** In a 1:1 call (pending or accepted), with a local or a remote peer. */
  busy(session: Session): boolean {
    return this.#callOf.has(session) || this.#halfOf.has(session);
  }

  createHalf(session: Session, init: { id: string; role: 'requester' | 'callee'; peer: string; peerNode: string; remote: RemoteSink }): HalfCallTalk {
    const talk = { kind: 'half', ...init, parties: new Map(), endpoints: [], accepted: false, lastPayloadAt: 0, timer: undefined } as Partial<HalfCallTalk> as {
      -readonly [K in keyof HalfCallTalk]: HalfCallTalk[K];
    };
    talk.party = this.#party(talk, session);
    talk.parties.set(session, talk.party);
    this.#halfOf.set(session, talk);
    if (talk.role === 'requester') this.pendingCalls++;
    return talk;
  }

  acceptHalf(talk: HalfCallTalk, now: number): void {
    talk.accepted = true;
    talk.lastPayloadAt = now;
    if (talk.role !== 'requester') return;
    this.pendingCalls--;
    this.activeCalls++;
  }

  /** Forgets a half and its key; false when it was already gone. */
  removeHalf(talk: HalfCallTalk): boolean {
    if (this.#byKey.get(talk.party.key) !== talk.party) return false;
    this.#byKey.delete(talk.party.key);
    if (this.#halfOf.get(talk.party.session) === talk) this.#halfOf.delete(talk.party.session);
    if (talk.role === 'requester') {
      if (talk.accepted) this.activeCalls--;
      else this.pendingCalls--;
    }
    return true;
  }

  group(channel: string): GroupTalk | undefined {
    return this.#groups.get(foldCase(channel));
  }

  groupsOf(session: Session): ReadonlySet<GroupTalk> {
    return this.#groupsOf.get(session) ?? EMPTY;
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  createCall(requester: Session, callee: Session): CallTalk {
    // The parties point at their talk, so the talk exists first and gets them right after.
    const talk = { kind: 'call', parties: new Map(), endpoints: [], accepted: false, lastPayloadAt: 0, timer: undefined } as Partial<CallTalk> as {
      -readonly [K in keyof CallTalk]: CallTalk[K];
    };
    talk.requester = this.#party(talk, requester);
    talk.callee = this.#party(talk, callee);
    talk.parties.set(requester, talk.requester);
    talk.parties.set(callee, talk.callee);
    this.#callOf.set(requester, talk);
    this.#callOf.set(callee, talk);
    this.pendingCalls++;
    return talk;
  }

  accept(talk: CallTalk, now: number): void {
    talk.accepted = true;
    talk.lastPayloadAt = now;
    this.pendingCalls--;
    this.activeCalls++;
  }

  /** Forgets a call and both keys; false when it was already gone. */
  removeCall(talk: CallTalk): boolean {
    if (this.#byKey.get(talk.requester.key) !== talk.requester) return false;
    for (const p of talk.parties.values()) this.#byKey.delete(p.key);
    for (const s of talk.parties.keys()) if (this.#callOf.get(s) === talk) this.#callOf.delete(s);
    if (talk.accepted) this.activeCalls--;
    else this.pendingCalls--;
    return true;
  }

  /** Adds `session` to the channel's group voice (created if needed) with a key of its own. */
  joinGroup(session: Session, channel: string): { talk: GroupTalk; party: Party; already: boolean } {
    const fold = foldCase(channel);
    let talk = this.#groups.get(fold);
    if (!talk) {
      talk = { kind: 'group', channel, parties: new Map(), endpoints: [], accepted: true, lastPayloadAt: 0, timer: undefined };
      this.#groups.set(fold, talk);
    }
    const had = talk.parties.get(session);
    if (had) return { talk, party: had, already: true };
    const p = this.#party(talk, session);
    talk.parties.set(session, p);
    let mine = this.#groupsOf.get(session);
    if (!mine) this.#groupsOf.set(session, (mine = new Set()));
    mine.add(talk);
    this.groupTalkers++;
    return { talk, party: p, already: false };
  }

  /** Removes `session` and its key; the group ends with its last talker. Undefined when it was not in it. */
  leaveGroup(session: Session, talk: GroupTalk): Party | undefined {
    const p = talk.parties.get(session);
    if (!p) return undefined;
    talk.parties.delete(session);
    this.#byKey.delete(p.key);
    this.groupTalkers--;
    const mine = this.#groupsOf.get(session);
    mine?.delete(talk);
    if (mine && mine.size === 0) this.#groupsOf.delete(session);
    if (talk.parties.size === 0) this.#groups.delete(foldCase(talk.channel));
    return p;
  }

  /** Every talk, for shutdown. */
  all(): Set<Talk> {
    const talks = new Set<Talk>();
    for (const p of this.#byKey.values()) talks.add(p.talk);
    return talks;
  }

  #party(talk: Talk, session: Session): Party {
    let key = newSessionKey();
    while (this.#byKey.has(key)) key = newSessionKey(); // 131 bits: never in practice
    // A full bucket: the relay caps tokens at the configured burst on the first refill.
    const p: Party = { key, talk, session, ip: normaliseIp(session.remoteAddress), endpoint: undefined, tokens: Number.POSITIVE_INFINITY, refilledAt: 0 };
    this.#byKey.set(key, p);
    return p;
  }
}

const EMPTY: ReadonlySet<GroupTalk> = new Set();
