/**
 * How `parley chat` shows server messages and reads user input: pure functions,
 * so they are tested without a terminal.
 */
import type { ClientCommand, ServerMessage } from '../core/actions.js';

/**
 * `text` with every control character made visible, so that received text can
 * never drive the terminal (clear the screen, move the cursor, retitle the
 * window): C0 and DEL in caret notation (`^[`, `^M`, `^?`), C1 as `\x9b`.
 */
export function visible(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
    if (code === 0x7f) return '^?';
    return `\\x${code.toString(16)}`;
  });
}

/** SGR colours of the chat view; all no-ops when colour is off. */
export interface Paint {
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
}

const sgr = (on: number, off: number) => (s: string) => `\x1b[${on}m${s}\x1b[${off}m`;
const same = (s: string): string => s;
export const COLORS: Paint = { dim: sgr(2, 22), bold: sgr(1, 22), red: sgr(31, 39), magenta: sgr(35, 39), cyan: sgr(36, 39) };
export const NO_COLORS: Paint = { dim: same, bold: same, red: same, magenta: same, cyan: same };

/** Colour when writing to a terminal and NO_COLOR (https://no-color.org) is unset or empty. */
export function useColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/** The input prompt: the current channel, if any, and the nick. */
export function promptFor(nick: string, current: string | undefined, paint: Paint = NO_COLORS): string {
  return `${current ? `${paint.cyan(visible(current))} ` : ''}${paint.bold(visible(nick))}> `;
}

/**
 * One server message as a line for people, every received field made
 * {@link visible}; undefined for messages not shown (PING).
 */
export function renderMessage(m: ServerMessage, me: string, paint: Paint = NO_COLORS): string | undefined {
  const text = describe(m, me);
  if (text === undefined) return undefined;
  const safe = visible(text);
  if (paint === NO_COLORS) return safe;
  switch (m.type) {
    case 'MSG': {
      if (!m.recipient.startsWith('#')) return paint.magenta(safe);
      const prefix = visible(`[${m.recipient}] <${m.sender}>`);
      return `${paint.cyan(visible(`[${m.recipient}]`))} ${paint.bold(visible(`<${m.sender}>`))}${safe.slice(prefix.length)}`;
    }
    case 'ERROR':
      return paint.red(safe);
    default:
      return paint.dim(safe);
  }
}

function describe(m: ServerMessage, me: string): string | undefined {
  switch (m.type) {
    case 'ACCEPT':
      return `-- connected to ${m.hostname} as ${me}`;
    case 'PING':
      return undefined;
    case 'JOINED':
      return `-- you joined ${m.channel}`;
    case 'USERLIST':
      return `-- in ${m.channel}: ${m.nicks.join(', ')}`;
    case 'USERJOIN':
      return `-- ${m.nick} joined ${m.channel}`;
    case 'USERLEAVE':
      return `-- ${m.nick} left ${m.channel}`;
    case 'LEFT':
      return `-- you left ${m.channel}`;
    case 'MSG':
      return m.recipient.startsWith('#') ? `[${m.recipient}] <${m.sender}> ${m.text}` : `*${m.sender}* ${m.text}`;
    case 'TALK':
      if (m.peer.startsWith('#')) return `-- you joined the voice of ${m.peer} (key ${m.key})`;
      switch (m.event) {
        case 'REQUEST':
          return `-- call with ${m.peer} requested (key ${m.key}): /accept ${m.peer} or /deny ${m.peer}`;
        case 'ACCEPTED':
          return `-- ${m.peer} accepted the call (key ${m.key})`;
        case 'DENIED':
          return `-- ${m.peer} denied the call`;
        case 'ENDED':
          return `-- call with ${m.peer} ended`;
        default:
          return `-- talk ${m.peer}: ${m.event}`;
      }
    case 'TALKLIST':
      return `-- in the voice of ${m.channel}: ${m.nicks.join(', ')}`;
    case 'TALKJOIN':
      return `-- ${m.nick} joined the voice of ${m.channel}`;
    case 'TALKLEAVE':
      return `-- ${m.nick} left the voice of ${m.channel}`;
    case 'ERROR':
      return `!! ${m.code}: ${m.text}`;
    case 'DISCONNECT':
      return `-- disconnected by the server: ${m.reason}`;
  }
}

export const CHAT_COMMANDS_HELP = `Commands:
  <text>                  say it in the current channel (the last one joined)
  /join #channel          join (and make it the current channel)
  /leave [#channel]       leave (default: the current channel)
  /msg <nick|#chan> text  send a message
  /talk <nick>            request a voice call
  /accept [nick]          accept a call request (default: the latest)
  /deny [nick]            deny a call request
  /end [nick|#chan]       hang up a call, or leave a channel's voice
  /voice [#channel]       join the channel's group voice
  /quit                   disconnect and exit
  /help                   this list of commands`;

/** What one line of user input asks for. */
export type ChatInput =
  | { kind: 'send'; command: ClientCommand; current?: string }
  | { kind: 'answer'; keyword: 'ACCEPT' | 'DENY' | 'END'; peer?: string }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'nothing' }
  | { kind: 'error'; text: string };

/** Parses one input line; `current` is the current channel, if any. */
export function parseInput(line: string, current: string | undefined): ChatInput {
  const text = line.replace(/\r$/, '');
  if (text.trim() === '') return { kind: 'nothing' };
  if (!text.startsWith('/')) {
    if (!current) return { kind: 'error', text: 'no current channel: /join #channel first, or /msg nick text' };
    return { kind: 'send', command: { verb: 'MSG', target: current, text } };
  }
  const space = text.indexOf(' ');
  const cmd = (space === -1 ? text.slice(1) : text.slice(1, space)).toLowerCase();
  const rest = space === -1 ? '' : text.slice(space + 1).trim();
  const arg = rest.split(/\s+/)[0] || undefined;
  switch (cmd) {
    case 'join':
      if (!arg) return { kind: 'error', text: 'usage: /join #channel' };
      return { kind: 'send', command: { verb: 'JOIN', channel: arg }, current: arg };
    case 'leave': {
      const ch = arg ?? current;
      if (!ch) return { kind: 'error', text: 'usage: /leave #channel' };
      return { kind: 'send', command: { verb: 'LEAVE', channel: ch } };
    }
    case 'msg': {
      const sp = rest.indexOf(' ');
      if (!arg || sp === -1) return { kind: 'error', text: 'usage: /msg <nick|#channel> text' };
      return { kind: 'send', command: { verb: 'MSG', target: arg, text: rest.slice(sp + 1) } };
    }
    case 'talk':
      if (!arg) return { kind: 'error', text: 'usage: /talk nick' };
      return { kind: 'send', command: { verb: 'TALK', target: arg, keyword: 'REQUEST' } };
    case 'voice': {
      const ch = arg ?? current;
      if (!ch) return { kind: 'error', text: 'usage: /voice #channel' };
      return { kind: 'send', command: { verb: 'TALK', target: ch, keyword: 'JOIN' } };
    }
    case 'accept':
    case 'deny':
    case 'end':
      return { kind: 'answer', keyword: cmd.toUpperCase() as 'ACCEPT' | 'DENY' | 'END', ...(arg ? { peer: arg } : {}) };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'error', text: `unknown command /${cmd} (try /help)` };
  }
}
