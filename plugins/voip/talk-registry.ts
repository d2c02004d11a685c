/**
 * Voice state: 1:1 calls and channel group voice, each a {@link Talk} under its
 * session key. The UDP relay and the TALK handlers share it.
 */
import { foldCase, type Session } from '../../core/index.js';
import { newSessionKey } from './session-key.js';

/** A UDP source address bound to one party of one talk. */
export interface Endpoint {
  /** `address:port`, the relay's lookup key. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** The encoded key and nick every frame from this address must start with. */
  readonly prefix: Buffer;
  readonly talk: Talk;
  readonly party: Party;
}

export interface Party {
  readonly session: Session;
  /** The TCP peer IP without `::ffff:`: the only IP this party's frames may come from. */
  readonly ip: string;
  endpoint: Endpoint | undefined;
}

interface TalkBase {
  readonly key: string;
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

export type Talk = CallTalk | GroupTalk;

export function normaliseIp(ip: string): string {
  return ip.length > 7 && ip.slice(0, 7).toLowerCase() === '::ffff:' ? ip.slice(7) : ip;
}

function party(session: Session): Party {
  return { session, ip: normaliseIp(session.remoteAddress), endpoint: undefined };
}

export class TalkRegistry {
  readonly #byKey = new Map<string, Talk>();
  /** A session is a party of at most one 1:1 call. */
  readonly #callOf = new Map<Session, CallTalk>();
  /** By case-folded channel name. */
  readonly #groups = new Map<string, GroupTalk>();
  readonly #groupsOf = new Map<Session, Set<GroupTalk>>();
  pendingCalls = 0;
  activeCalls = 0;
  groupTalkers = 0;

  byKey(key: string): Talk | undefined {
    return this.#byKey.get(key);
  }

  callOf(session: Session): CallTalk | undefined {
    return this.#callOf.get(session);
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

  /** The party of `talk` with this nick (any case). */
  partyByNick(talk: Talk, nick: string): Party | undefined {
    if (talk.kind === 'call') {
      if (foldCase(talk.requester.session.nick) === foldCase(nick)) return talk.requester;
      if (foldCase(talk.callee.session.nick) === foldCase(nick)) return talk.callee;
      return undefined;
    }
    const fold = foldCase(nick);
    for (const p of talk.parties.values()) if (foldCase(p.session.nick) === fold) return p;
    return undefined;
  }

  createCall(requester: Session, callee: Session): CallTalk {
    const r = party(requester);
    const c = party(callee);
    const talk: CallTalk = {
      kind: 'call',
      key: this.#freshKey(),
      parties: new Map([
        [requester, r],
        [callee, c],
      ]),
      endpoints: [],
      accepted: false,
      lastPayloadAt: 0,
      timer: undefined,
      requester: r,
      callee: c,
    };
    this.#byKey.set(talk.key, talk);
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

  /** Forgets a call; false when it was already gone. */
  removeCall(talk: CallTalk): boolean {
    if (this.#byKey.get(talk.key) !== talk) return false;
    this.#byKey.delete(talk.key);
    for (const s of talk.parties.keys()) if (this.#callOf.get(s) === talk) this.#callOf.delete(s);
    if (talk.accepted) this.activeCalls--;
    else this.pendingCalls--;
    return true;
  }

  /** Adds `session` to the channel's group voice, creating it (and its key) if needed. */
  joinGroup(session: Session, channel: string): { talk: GroupTalk; already: boolean } {
    const fold = foldCase(channel);
    let talk = this.#groups.get(fold);
    if (!talk) {
      talk = { kind: 'group', key: this.#freshKey(), channel, parties: new Map(), endpoints: [], accepted: true, lastPayloadAt: 0, timer: undefined };
      this.#groups.set(fold, talk);
      this.#byKey.set(talk.key, talk);
    }
    if (talk.parties.has(session)) return { talk, already: true };
    talk.parties.set(session, party(session));
    let mine = this.#groupsOf.get(session);
    if (!mine) this.#groupsOf.set(session, (mine = new Set()));
    mine.add(talk);
    this.groupTalkers++;
    return { talk, already: false };
  }

  /** Removes `session`; the session (and its key) ends with its last talker. Undefined when it was not in it. */
  leaveGroup(session: Session, talk: GroupTalk): Party | undefined {
    const p = talk.parties.get(session);
    if (!p) return undefined;
    talk.parties.delete(session);
    this.groupTalkers--;
    const mine = this.#groupsOf.get(session);
    mine?.delete(talk);
    if (mine && mine.size === 0) this.#groupsOf.delete(session);
    if (talk.parties.size === 0) {
      this.#groups.delete(foldCase(talk.channel));
      this.#byKey.delete(talk.key);
    }
    return p;
  }

  /** Every talk, for shutdown. */
  all(): IterableIterator<Talk> {
    return this.#byKey.values();
  }

  #freshKey(): string {
    let key = newSessionKey();
    while (this.#byKey.has(key)) key = newSessionKey(); // 131 bits: never in practice
    return key;
  }
}

const EMPTY: ReadonlySet<GroupTalk> = new Set();
