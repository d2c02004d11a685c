/**
 * Text codec of the wire protocol (PROTOCOL.md sections 1, 3 and 4): splitting a
 * decoded line, typed parsing of client commands, and formatting/parsing of
 * server messages. Lines are parsed with indexOf/slice only.
 */
import { VERBS } from './actions.js';
import type { ClientCommand, CustomCommand, ServerMessage, ServerMessageMap, TalkKeyword, Verb } from './actions.js';
import { ProtocolError } from './errors.js';
import { isChannelName, isValidChannel, isValidNick, isValidRealname } from './names.js';

/** Generic split of one decoded line: `VERB[ ARG]*[: PAYLOAD]`. */
export interface RawCommand {
  /** ASCII upper-cased; '' when the line starts with `:`. */
  verb: string;
  args: string[];
  /** Undefined when the line had no `:`. */
  payload?: string;
}

const SPACE = 0x20;
const COLON = ':';

/**
 * Splits one line (without its terminator). Only U+0020 separates: leading spaces
 * and runs of spaces count as one separator, spaces before the first `:` are
 * ignored, one space right after it is dropped and the rest is the payload
 * byte-exact. Returns undefined for a line of spaces only.
 */
export function splitLine(line: string): RawCommand | undefined {
  const colon = line.indexOf(COLON);
  const headEnd = colon === -1 ? line.length : colon;
  const tokens: string[] = [];
  let i = 0;
  while (i < headEnd) {
    while (i < headEnd && line.charCodeAt(i) === SPACE) i++;
    if (i === headEnd) break;
    let j = line.indexOf(' ', i);
    if (j === -1 || j > headEnd) j = headEnd;
    tokens.push(line.slice(i, j));
    i = j;
  }
  if (colon === -1 && tokens.length === 0) return undefined;
  const raw: RawCommand = { verb: asciiUpper(tokens.length > 0 ? tokens[0]! : ''), args: tokens.slice(1) };
  if (colon !== -1) {
    raw.payload = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
  }
  return raw;
}

const VERB_SET: ReadonlySet<string> = new Set<string>(VERBS);

/** True when verb is one of the protocol's verbs. */
export function isProtocolVerb(verb: string): verb is Verb {
  return VERB_SET.has(verb);
}

const TALK_KEYWORDS: ReadonlySet<string> = new Set<TalkKeyword>(['REQUEST', 'ACCEPT', 'DENY', 'END', 'JOIN']);

/** Typed parse of a protocol verb; a ProtocolError (returned, not thrown) when malformed. */
export function parseCommand(raw: RawCommand): ClientCommand | ProtocolError {
  const { verb, args, payload } = raw;
  switch (verb) {
    case 'CONNECT':
      if (args.length !== 0) return syntax('CONNECT takes no arguments before the colon');
      if (payload === undefined) return syntax('CONNECT: "<nick>" "<realname>" <version>');
      return parseConnect(payload);
    case 'PONG':
      if (args.length !== 0 || payload === undefined || payload === '') return syntax('PONG: <value>');
      return { verb: 'PONG', value: payload };
    case 'JOIN':
    case 'LEAVE': {
      // `JOIN: #x` (protocol) or `JOIN #x` (IRC habit), not both.
      let channel: string | undefined;
      if (args.length === 0 && payload !== undefined) channel = payload;
      else if (args.length === 1 && payload === undefined) channel = args[0];
      if (channel === undefined || channel === '') return syntax(`${verb} needs one channel`);
      if (!isValidChannel(channel)) return new ProtocolError('CHANNEL_INVALID', channel);
      return { verb, channel };
    }
    case 'MSG':
      if (args.length !== 1 || payload === undefined) return syntax('MSG <recipient>: <message>');
      return { verb: 'MSG', target: args[0]!, text: payload };
    case 'TALK':
      return parseTalk(args, payload);
    case 'DISCONNECT':
      if (args.length !== 0) return syntax('DISCONNECT takes no arguments');
      return payload === undefined ? { verb: 'DISCONNECT' } : { verb: 'DISCONNECT', reason: payload };
    default:
      return new ProtocolError('UNKNOWN_COMMAND', verb);
  }
}

function syntax(detail: string): ProtocolError {
  return new ProtocolError('BAD_SYNTAX', detail);
}

/** `"<nick>" "<realname>" <version>[ <token>]`, one or more spaces between parts. */
function parseConnect(p: string): ClientCommand | ProtocolError {
  const usage = 'CONNECT: "<nick>" "<realname>" <version>';
  let i = skipSpaces(p, 0);
  const nick = quoted(p, i);
  if (nick === undefined) return syntax(usage);
  i = nick.end;
  if (p.charCodeAt(i) !== SPACE) return syntax(usage);
  const realname = quoted(p, skipSpaces(p, i));
  if (realname === undefined) return syntax(usage);
  i = realname.end;
  const words: string[] = [];
  while (i < p.length) {
    if (p.charCodeAt(i) !== SPACE) return syntax(usage); // parts must be space-separated
    i = skipSpaces(p, i);
    if (i === p.length) break; // trailing spaces are tolerated
    let j = p.indexOf(' ', i);
    if (j === -1) j = p.length;
    words.push(p.slice(i, j));
    i = j;
  }
  if (words.length < 1 || words.length > 2) return syntax(usage);
  const version = words[0]!;
  if (!isValidRealname(realname.text)) return syntax('invalid real name');
  if (!isVersion(version)) return syntax(`version must be MAJOR.MINOR.PATCH, got ${version}`);
  if (!isValidNick(nick.text)) return new ProtocolError('NICK_INVALID', nick.text);
  const cmd: ClientCommand = { verb: 'CONNECT', nick: nick.text, realname: realname.text, version };
  if (words.length === 2) cmd.token = words[1]!;
  return cmd;
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === SPACE) i++;
  return i;
}

/** The text between a `"` at `i` and the next `"` (no escaping), and the index after it. */
function quoted(s: string, i: number): { text: string; end: number } | undefined {
  if (s[i] !== '"') return undefined;
  const close = s.indexOf('"', i + 1);
  return close === -1 ? undefined : { text: s.slice(i + 1, close), end: close + 1 };
}

/** `MAJOR.MINOR.PATCH`, each a non-empty run of ASCII digits. */
function isVersion(v: string): boolean {
  let parts = 1;
  let digits = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0) return false;
      parts++;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      digits++;
    } else {
      return false;
    }
  }
  return parts === 3 && digits > 0;
}

function parseTalk(args: string[], payload: string | undefined): ClientCommand | ProtocolError {
  const keyword = payload === undefined ? '' : asciiUpper(payload);
  if (!TALK_KEYWORDS.has(keyword)) return syntax('TALK needs REQUEST, ACCEPT, DENY, END or JOIN');
  const target = args[0] ?? '';
  switch (keyword as TalkKeyword) {
    case 'REQUEST':
      if (args.length !== 1 || isChannelName(target)) return syntax('TALK <nick>: REQUEST');
      return { verb: 'TALK', target, keyword: 'REQUEST' };
    case 'ACCEPT':
    case 'DENY':
      if (args.length !== 2 || isChannelName(target)) return syntax(`TALK <nick> <key>: ${keyword}`);
      return { verb: 'TALK', target, key: args[1]!, keyword: keyword as TalkKeyword };
    case 'END':
      if (args.length !== 2) return syntax('TALK <peer|#channel> <key>: END');
      return { verb: 'TALK', target, key: args[1]!, keyword: 'END' };
    case 'JOIN':
      if (args.length !== 1 || !isChannelName(target)) return syntax('TALK <#channel>: JOIN');
      if (!isValidChannel(target)) return new ProtocolError('CHANNEL_INVALID', target);
      return { verb: 'TALK', target, keyword: 'JOIN' };
  }
}

/** Client side: the wire line for a command, with trailing `\n`. Fields must not contain `\n`. */
export function formatCommand(cmd: ClientCommand): string {
  switch (cmd.verb) {
    case 'CONNECT': {
      const token = cmd.token === undefined ? '' : ` ${cmd.token}`;
      return `CONNECT: "${cmd.nick}" "${cmd.realname}" ${cmd.version}${token}\n`;
    }
    case 'PONG':
      return `PONG: ${cmd.value}\n`;
    case 'JOIN':
    case 'LEAVE':
      return `${cmd.verb}: ${cmd.channel}\n`;
    case 'MSG':
      return `MSG ${cmd.target}: ${cmd.text}\n`;
    case 'TALK':
      return `TALK ${cmd.target}${cmd.key === undefined ? '' : ` ${cmd.key}`}: ${cmd.keyword}\n`;
    case 'DISCONNECT':
      return cmd.reason === undefined ? 'DISCONNECT\n' : `DISCONNECT: ${cmd.reason}\n`;
  }
}

/**
 * Server side: the wire text for a message, with trailing `\n`. USERLIST and
 * TALKLIST are split between nicks into several full lines so that no line
 * (its `\n` included) exceeds maxLineBytes; a single nick too long for a line
 * still gets a line of its own.
 */
export function formatServer(msg: ServerMessage, maxLineBytes = 8192): string {
  switch (msg.type) {
    case 'ACCEPT':
      return `ACCEPT: ${msg.hostname}\n`;
    case 'PING':
      return `PING: ${msg.value}\n`;
    case 'JOINED':
    case 'LEFT':
      return `${msg.type}: ${msg.channel}\n`;
    case 'USERLIST':
    case 'TALKLIST':
      return formatList(`${msg.type} ${msg.channel}: `, msg.nicks, maxLineBytes);
    case 'USERJOIN':
    case 'USERLEAVE':
    case 'TALKJOIN':
    case 'TALKLEAVE':
      return `${msg.type} ${msg.channel}: ${msg.nick}\n`;
    case 'MSG':
      return `MSG ${msg.sender} ${msg.recipient}: ${msg.text}\n`;
    case 'TALK':
      return `TALK ${msg.peer} ${msg.key}: ${msg.event}\n`;
    case 'ERROR':
      return `ERROR ${msg.code}: ${msg.text}\n`;
    case 'DISCONNECT':
      return `DISCONNECT: ${msg.reason}\n`;
    case 'CUSTOM':
      return `${msg.verb}${msg.args.length ? ` ${msg.args.join(' ')}` : ''}${msg.payload === undefined ? '' : `: ${msg.payload}`}\n`;
  }
}

function formatList(prefix: string, nicks: readonly string[], maxLineBytes: number): string {
  if (nicks.length === 0) return `${prefix}\n`;
  const prefixBytes = Buffer.byteLength(prefix);
  let out = '';
  let line = '';
  let lineBytes = 0; // bytes of the nicks and separators in `line`
  for (const nick of nicks) {
    const nickBytes = Buffer.byteLength(nick);
    if (line !== '' && prefixBytes + lineBytes + 2 + nickBytes + 1 > maxLineBytes) {
      out += `${prefix}${line}\n`;
      line = '';
      lineBytes = 0;
    }
    if (line === '') {
      line = nick;
      lineBytes = nickBytes;
    } else {
      line += `, ${nick}`;
      lineBytes += 2 + nickBytes;
    }
  }
  return `${out}${prefix}${line}\n`;
}

type TalkEvent = ServerMessageMap['TALK']['event'];
const TALK_EVENTS: ReadonlySet<string> = new Set<TalkEvent>(['REQUEST', 'ACCEPTED', 'DENIED', 'ENDED', 'JOINED']);

/** The verbs of the protocol's server messages: a line of another verb is a plugin's own. */
const SERVER_VERBS: ReadonlySet<string> = new Set([
  'ACCEPT',
  'PING',
  'JOINED',
  'LEFT',
  'USERLIST',
  'TALKLIST',
  'USERJOIN',
  'USERLEAVE',
  'TALKJOIN',
  'TALKLEAVE',
  'ERROR',
  'MSG',
  'TALK',
  'DISCONNECT',
]);

/**
 * Client side: a line of a verb the protocol does not define, as a `CUSTOM`
 * message (a plugin's reply); undefined for protocol verbs and empty lines.
 */
export function parseCustomServerLine(line: string): ServerMessageMap['CUSTOM'] | undefined {
  const raw = splitLine(line);
  if (raw === undefined || raw.verb === '' || SERVER_VERBS.has(raw.verb)) return undefined;
  return { type: 'CUSTOM', verb: raw.verb, args: raw.args, payload: raw.payload };
}

/** A command of a verb a plugin added, as a line: `VERB[ ARG]*[: PAYLOAD]\n`. Throws on a space, colon or line break where it cannot be. */
export function formatCustomCommand(cmd: CustomCommand): string {
  const word = /^[^\s:]+$/;
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(cmd.verb)) throw new TypeError(`invalid verb: ${cmd.verb}`);
  for (const a of cmd.args) if (!word.test(a)) throw new TypeError(`invalid argument: ${a}`);
  if (cmd.payload !== undefined && /[\r\n]/.test(cmd.payload)) throw new TypeError('a payload cannot hold a line break');
  const args = cmd.args.length ? ` ${cmd.args.join(' ')}` : '';
  return `${cmd.verb.toUpperCase()}${args}${cmd.payload === undefined ? '' : `: ${cmd.payload}`}\n`;
}

/** Client side: parse one server line (without `\n`); undefined if it is not a server message. */
export function parseServerLine(line: string): ServerMessage | undefined {
  const raw = splitLine(line);
  if (raw === undefined) return undefined;
  const { verb, args, payload } = raw;
  // DISCONNECT is the only message whose payload may be absent (closing is what matters).
  if (verb === 'DISCONNECT') return args.length === 0 ? { type: 'DISCONNECT', reason: payload ?? '' } : undefined;
  if (payload === undefined) return undefined;
  const n = args.length;
  const a0 = args[0]!;
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
      return { type: 'TALK', peer: a0, key: args[1]!, event: event as TalkEvent };
    }
  }
  return undefined;
}

/** Upper-cases a-z only, so that no Unicode mapping changes a verb's meaning. */
function asciiUpper(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}
