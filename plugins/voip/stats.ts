import type { LinkCounters } from './node-link.js';
/** Counters of the voice relay and the snapshot `VoipPlugin.stats()` returns. */

/** Why a datagram was dropped. */
export type DropReason =
  /** Not exactly one well-formed VoiceFrame (bad varint, lengths that do not end the datagram). */
  | 'undecodable'
  /** Larger than `maxFrameBytes`. */
  | 'tooLarge'
  /** Over the participant's `frameRate` / `frameBurst` token bucket. */
  | 'rateLimited'
  /** Names a key no talk has. */
  | 'unknownKey'
  /** Names another nick than the key's own participant. */
  | 'notParty'
  /** Comes from another IP than the party's TCP connection. */
  | 'wrongIp'
  /** The (key, nick) is already bound to another address. */
  | 'addressTaken'
  /** From a bound address, naming another key or nick. */
  | 'spoofed'
  /** Carries a payload before the 1:1 call was accepted. */
  | 'beforeAccept';

export const DROP_REASONS: readonly DropReason[] = [
  'undecodable',
  'tooLarge',
  'rateLimited',
  'unknownKey',
  'notParty',
  'wrongIp',
  'addressTaken',
  'spoofed',
  'beforeAccept',
];

export interface VoipStats {
  /** Node-to-node voice (a cluster; docs/cluster.md): datagrams to and from other nodes, and those dropped. */
  nodeLink: LinkCounters;
  /** Accepted 1:1 calls. */
  activeTalks: number;
  /** 1:1 requests not yet answered. */
  pendingTalks: number;
  /** Channels with group voice. */
  groupSessions: number;
  /** Participants over all group voice sessions. */
  groupTalkers: number;
  /** UDP source addresses bound to a (key, nick). */
  boundEndpoints: number;
  /** Bound UDP parties that went over their rate and have a socket of their own (`peerSockets`). */
  peerSockets: number;
  /** Datagrams received. */
  framesIn: number;
  /** Datagrams sent (one per recipient), each with its key emptied. */
  framesRelayed: number;
  /**
   * Where each received datagram went: `framesIn = framesForwarded + framesBinding + framesNoPeer + droppedTotal`.
   * Forwarded: sent to at least one other party. Binding: empty payload (bind or keepalive), consumed.
   * NoPeer: a payload of an accepted talk with no other party bound yet.
   */
  framesForwarded: number;
  framesBinding: number;
  framesNoPeer: number;
  bytesIn: number;
  bytesRelayed: number;
  /** Of `framesIn`: frames received as WebSocket binary messages. */
  framesInWs: number;
  /**
   * Copies not sent to a WebSocket party because more than `wsVoiceHighWaterBytes`
   * were waiting on its connection (counted per recipient, not in `droppedTotal`).
   */
  framesDroppedSlowWs: number;
  dropped: Record<DropReason, number>;
  droppedTotal: number;
}

/** Mutable counters on the hot path; plain fields, no allocation per frame. */
export class RelayCounters {
  framesIn = 0;
  framesRelayed = 0;
  framesForwarded = 0;
  framesBinding = 0;
  framesNoPeer = 0;
  bytesIn = 0;
  bytesRelayed = 0;
  framesInWs = 0;
  framesDroppedSlowWs = 0;
  droppedTotal = 0;
  readonly dropped: Record<DropReason, number> = {
    undecodable: 0,
    tooLarge: 0,
    rateLimited: 0,
    unknownKey: 0,
    notParty: 0,
    wrongIp: 0,
    addressTaken: 0,
    spoofed: 0,
    beforeAccept: 0,
  };

  drop(reason: DropReason): void {
    this.dropped[reason]++;
    this.droppedTotal++;
  }
}
