/**
 * The typed shapes of the protocol: commands a client sends (PROTOCOL.md section 3)
 * and messages a server sends (section 4).
 */

/** Keywords of a client's `TALK` command. */
export type TalkKeyword = 'REQUEST' | 'ACCEPT' | 'DENY' | 'END' | 'JOIN';

/** Every client command the protocol defines, keyed by verb. */
export interface CommandMap {
  CONNECT: { verb: 'CONNECT'; nick: string; realname: string; version: string; token?: string };
  PONG: { verb: 'PONG'; value: string };
  JOIN: { verb: 'JOIN'; channel: string };
  LEAVE: { verb: 'LEAVE'; channel: string };
  MSG: { verb: 'MSG'; target: string; text: string };
  /** `target` is a nick or a `#channel`; `key` is absent for REQUEST and channel JOIN. */
  TALK: { verb: 'TALK'; target: string; key?: string; keyword: TalkKeyword };
  DISCONNECT: { verb: 'DISCONNECT'; reason?: string };
}

export type Verb = keyof CommandMap;
export const VERBS: readonly Verb[] = ['CONNECT', 'PONG', 'JOIN', 'LEAVE', 'MSG', 'TALK', 'DISCONNECT'];

/**
 * A command of a verb the protocol does not define, for plugins that add verbs.
 * `verb` is upper case; `payload` is undefined when the line had no `:`.
 */
export interface CustomCommand {
  verb: string;
  args: string[];
  payload?: string;
}

export type ClientCommand = CommandMap[Verb];

/** Every message a server sends, keyed by its type. */
export interface ServerMessageMap {
  ACCEPT: { type: 'ACCEPT'; hostname: string };
  PING: { type: 'PING'; value: string };
  JOINED: { type: 'JOINED'; channel: string };
  USERLIST: { type: 'USERLIST'; channel: string; nicks: string[] };
  USERJOIN: { type: 'USERJOIN'; channel: string; nick: string };
  USERLEAVE: { type: 'USERLEAVE'; channel: string; nick: string };
  LEFT: { type: 'LEFT'; channel: string };
  MSG: { type: 'MSG'; sender: string; recipient: string; text: string };
  /** `TALK <peer> <key>: REQUEST|ACCEPTED|DENIED|ENDED` and `TALK #chan <key>: JOINED`. */
  TALK: { type: 'TALK'; peer: string; key: string; event: 'REQUEST' | 'ACCEPTED' | 'DENIED' | 'ENDED' | 'JOINED' };
  TALKLIST: { type: 'TALKLIST'; channel: string; nicks: string[] };
  TALKJOIN: { type: 'TALKJOIN'; channel: string; nick: string };
  TALKLEAVE: { type: 'TALKLEAVE'; channel: string; nick: string };
  ERROR: { type: 'ERROR'; code: string; text: string };
  DISCONNECT: { type: 'DISCONNECT'; reason: string };
  /** A line of a verb the protocol does not define (a plugin's own reply); clients only. */
  CUSTOM: { type: 'CUSTOM'; verb: string; args: string[]; payload: string | undefined };
}

export type ServerMessageType = keyof ServerMessageMap;
export type ServerMessage = ServerMessageMap[ServerMessageType];
