/**
 * The client side of the wire protocol for browsers: server message types, parsing
 * of server lines and formatting of commands. Same rules as core/codec.ts (which
 * uses Node's Buffer and util); test/web-protocol.test.ts checks both agree.
 */

/** Every message a server sends, keyed by its type (core/actions.ts `ServerMessageMap`). */
export interface ServerMessageMap {
  ACCEPT: { type: 'ACCEPT'; hostname: string };
  PING: { type: 'PING'; value: string };
  JOINED: { type: 'JOINED'; channel: string };
  USERLIST: { type: 'USERLIST'; channel: string; nicks: string[] };
  USERJOIN: { type: 'USERJOIN'; channel: string; nick: string };
  USERLEAVE: { type: 'USERLEAVE'; channel: string; nick: string };
  LEFT: { type: 'LEFT'; channel: string };
  MSG: { type: 'MSG'; sender: string; recipient: string; text: string };
  TALK: { type: 'TALK'; peer: string; key: string; event: 'REQUEST' | 'ACCEPTED' | 'DENIED' | 'ENDED' | 'JOINED' };
  TALKLIST: { type: 'TALKLIST'; channel: string; nicks: string[] };
  TALKJOIN: { type: 'TALKJOIN'; channel: string; nick: string };
  TALKLEAVE: { type: 'TALKLEAVE'; channel: string; nick: string };
  ERROR: { type: 'ERROR'; code: string; text: string };
  DISCONNECT: { type: 'DISCONNECT'; reason: string };
}

export type ServerMessageType = keyof ServerMessageMap;
export type ServerMessage = ServerMessageMap[ServerMessageType];

/** The protocol version this client speaks (1.1.0: relayed voice frames carry an empty key). */
export const PROTOCOL_VERSION = '1.1.0';

const TALK_EVENTS: ReadonlySet<string> = new Set(['REQUEST', 'ACCEPTED', 'DENIED', 'ENDED', 'JOINED']);

/** `VERB[ ARG]*[: PAYLOAD]`: only spaces separate; one space after the first `:` is dropped. */
export function splitLine(line: string): { verb: string; args: string[]; payload?: string } | undefined {
  const colon = line.indexOf(':');
  const head = colon === -1 ? line : line.slice(0, colon);
  const tokens = head.split(' ').filter((s) => s !== '');
  if (colon === -1 && tokens.length === 0) return undefined;
  const raw: { verb: string; args: string[]; payload?: string } = { verb: asciiUpper(tokens[0] ?? ''), args: tokens.slice(1) };
  if (colon !== -1) raw.payload = line.slice(line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1);
  return raw;
}

/** One server line (without `\n`); undefined if it is not a server message. */
export function parseServerLine(line: string): ServerMessage | undefined {
  const raw = splitLine(line);
  if (raw === undefined) return undefined;
  const { verb, args, payload } = raw;
  if (verb === 'DISCONNECT') return args.length === 0 ? { type: 'DISCONNECT', reason: payload ?? '' } : undefined;
  if (payload === undefined) return undefined;
  const n = args.length;
  const a0 = args[0] ?? '';
  switch (verb) {
    case 'ACCEPT':
      return n === 0 ? { type: 'ACCEPT', hostname: payload } : undefined;
    case 'PING':
      return n === 0 ? { type: 'PING', value: payload } : undefined;
    case 'JOINED':
    case 'LEFT':
      return n === 0 ? { type: verb, channel: payload } : undefined;
    case 'USERLIST':
    case 'TALKLIST':
      return n === 1 ? { type: verb, channel: a0, nicks: payload === '' ? [] : payload.split(', ') } : undefined;
    case 'USERJOIN':
    case 'USERLEAVE':
    case 'TALKJOIN':
    case 'TALKLEAVE':
      return n === 1 ? { type: verb, channel: a0, nick: payload } : undefined;
    case 'ERROR':
      return n === 1 ? { type: 'ERROR', code: a0, text: payload } : undefined;
    case 'MSG':
      return n === 2 ? { type: 'MSG', sender: a0, recipient: args[1]!, text: payload } : undefined;
    case 'TALK': {
      const event = asciiUpper(payload);
      if (n !== 2 || !TALK_EVENTS.has(event)) return undefined;
      return { type: 'TALK', peer: a0, key: args[1]!, event: event as ServerMessageMap['TALK']['event'] };
    }
  }
  return undefined;
}

/**
 * Refuses a field that would change a command's meaning on the wire: a line break
 * (a second command) anywhere, or a space or colon inside an argument.
 */
function field(value: string, what: string, inArgument: boolean): string {
  if (/[\r\n\0]/.test(value) || (inArgument && (value === '' || /[ :]/.test(value)))) {
    throw new TypeError(`invalid ${what}: ${JSON.stringify(value)}`);
  }
  return value;
}

/** `CONNECT: "<nick>" "<realname>" <version>[ <token>]`, without `\n`. */
export function formatConnect(nick: string, realname = '', version = PROTOCOL_VERSION, token?: string): string {
  if (nick.includes('"') || realname.includes('"')) throw new TypeError('nick and realname cannot contain "');
  const t = token === undefined ? '' : ` ${field(token, 'token', true)}`;
  return `CONNECT: "${field(nick, 'nick', false)}" "${field(realname, 'realname', false)}" ${field(version, 'version', true)}${t}`;
}

/** `MSG <target>: <text>`, without `\n`. */
export function formatMsg(target: string, text: string): string {
  return `MSG ${field(target, 'target', true)}: ${field(text, 'text', false)}`;
}

/** `JOIN: <#channel>` or `LEAVE: <#channel>`, without `\n`. */
export function formatChannel(verb: 'JOIN' | 'LEAVE', channel: string): string {
  return `${verb}: ${field(channel, 'channel', true)}`;
}

/** `TALK <target>[ <key>]: <keyword>`, without `\n`. */
export function formatTalk(target: string, keyword: 'REQUEST' | 'ACCEPT' | 'DENY' | 'END' | 'JOIN', key?: string): string {
  return `TALK ${field(target, 'target', true)}${key === undefined ? '' : ` ${field(key, 'key', true)}`}: ${keyword}`;
}

/** Upper-cases a-z only, as the server does. */
function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Case-insensitive name comparison (nicks, channels), as the server folds them. */
export function sameName(a: string, b: string): boolean {
  return asciiUpper(a) === asciiUpper(b);
}
