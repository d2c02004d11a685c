// The protocol subset of the bare fan-out servers (bare-fanout-server over `net`,
// bare-ws-server over `ws`), shared so that both lower bounds do the same work:
//
//   CONNECT: "nick" ...   -> ACCEPT: bare
//   JOIN: #c              -> JOINED: #c and USERLIST #c: <members> (split within 8192 bytes)
//                            to the joiner, USERJOIN #c <nick> to the other members, as
//                            parley does (membership is kept; USERLEAVE when one closes)
//   MSG #c: text          -> MSG <nick> #c: text to every other member of #c
//   DISCONNECT            -> close
//
// Hot path: lines are found with indexOf on the received Buffer, each MSG is formatted
// once into one Buffer shared by all recipients, and writes are batched per connection:
// appended to a pending array and flushed for every dirty connection once per event-loop
// turn (setImmediate) with a single write.
import { LineSplitter } from './line-splitter.js';

/** How a connection's bytes leave, and how it is closed: the transport's part. */
export interface BareTransport {
  write(chunk: Buffer): void;
  close(): void;
}

/** One connection: feed it what the client sent; call `closed` once when the transport closes. */
export interface BareConnection {
  push(chunk: Buffer): void;
  closed(): void;
}

interface Channel {
  readonly name: string;
  readonly members: Conn[];
}

interface Conn {
  readonly transport: BareTransport;
  nick: string | null;
  /** `MSG <nick> ` as bytes, built once at CONNECT. */
  prefix: Buffer | null;
  readonly channels: Channel[];
  pending: Buffer[];
  pendingBytes: number;
  dirty: boolean;
  closed: boolean;
}

const SP = 32;
/** parley's default line limit, newline included. */
const MAX_LINE = 8192;
const COLON = 58;

const channels = new Map<string, Channel>();
const dirty: Conn[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (let i = 0; i < dirty.length; i++) {
    const c = dirty[i]!;
    c.dirty = false;
    const p = c.pending;
    if (!c.closed) c.transport.write(p.length === 1 ? p[0]! : Buffer.concat(p, c.pendingBytes));
    p.length = 0;
    c.pendingBytes = 0;
  }
  dirty.length = 0;
}

function send(c: Conn, buf: Buffer): void {
  c.pending.push(buf);
  c.pendingBytes += buf.length;
  if (!c.dirty) {
    c.dirty = true;
    dirty.push(c);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }
}

function handleMsg(c: Conn, buf: Buffer, start: number, end: number): void {
  if (c.prefix === null) return;
  let i = start + 4;
  while (i < end && buf[i] === SP) i++;
  const tStart = i;
  while (i < end && buf[i] !== COLON && buf[i] !== SP) i++;
  const tEnd = i;
  while (i < end && buf[i] !== COLON) i++;
  if (i >= end || tEnd === tStart) return; // malformed: ignore
  let pStart = i + 1;
  if (pStart < end && buf[pStart] === SP) pStart++;
  const chan = channels.get(buf.toString('latin1', tStart, tEnd));
  if (chan === undefined || !c.channels.includes(chan)) return;

  const prefix = c.prefix;
  const tLen = tEnd - tStart;
  const pLen = end - pStart;
  const out = Buffer.allocUnsafe(prefix.length + tLen + 2 + pLen + 1);
  let o = prefix.copy(out, 0);
  o += buf.copy(out, o, tStart, tEnd);
  out[o++] = COLON;
  out[o++] = SP;
  o += buf.copy(out, o, pStart, end);
  out[o] = 10;

  const members = chan.members;
  for (let k = 0; k < members.length; k++) {
    const m = members[k]!;
    if (m !== c) send(m, out);
  }
}

function handleOther(c: Conn, line: string): void {
  let m: RegExpExecArray | null;
  if ((m = /^CONNECT\s*:\s*"([^"]*)"/i.exec(line)) !== null) {
    if (c.nick !== null) return;
    c.nick = m[1]!;
    c.prefix = Buffer.from(`MSG ${c.nick} `, 'utf8');
    send(c, Buffer.from('ACCEPT: bare\n'));
  } else if ((m = /^JOIN\s*:\s*(#\S+)/i.exec(line)) !== null) {
    if (c.nick === null) return;
    const name = m[1]!;
    let chan = channels.get(name);
    if (chan === undefined) {
      chan = { name, members: [] };
      channels.set(name, chan);
    }
    if (!c.channels.includes(chan)) {
      const note = Buffer.from(`USERJOIN ${chan.name} ${c.nick}\n`);
      for (const m of chan.members) send(m, note);
      chan.members.push(c);
      c.channels.push(chan);
      send(c, Buffer.from(`JOINED: ${chan.name}\n`));
      for (const l of userList(chan)) send(c, l);
    } else send(c, Buffer.from(`JOINED: ${chan.name}\n`));
  } else if (/^DISCONNECT\b/i.test(line)) {
    c.transport.close();
  }
  // PONG and everything else: ignored.
}

/** `USERLIST #c: a b c` lines of at most MAX_LINE bytes, newline included. */
function userList(chan: Channel): Buffer[] {
  const head = `USERLIST ${chan.name}: `;
  const empty = Buffer.byteLength(head) + 1;
  const lines: Buffer[] = [];
  let nicks: string[] = [];
  let bytes = empty;
  for (const m of chan.members) {
    const nick = m.nick ?? '';
    const add = Buffer.byteLength(nick) + (nicks.length > 0 ? 1 : 0);
    if (nicks.length > 0 && bytes + add > MAX_LINE) {
      lines.push(Buffer.from(`${head}${nicks.join(' ')}\n`));
      nicks = [];
      bytes = empty;
    }
    bytes += Buffer.byteLength(nick) + (nicks.length > 0 ? 1 : 0);
    nicks.push(nick);
  }
  lines.push(Buffer.from(`${head}${nicks.join(' ')}\n`));
  return lines;
}

/** A new client on `transport`. */
export function bareConnection(transport: BareTransport): BareConnection {
  const c: Conn = { transport, nick: null, prefix: null, channels: [], pending: [], pendingBytes: 0, dirty: false, closed: false };
  const splitter = new LineSplitter((buf, start, end) => {
    if (end - start > 4 && buf[start] === 77 && buf[start + 1] === 83 && buf[start + 2] === 71 && buf[start + 3] === SP) {
      handleMsg(c, buf, start, end); // "MSG "
    } else {
      handleOther(c, buf.toString('utf8', start, end));
    }
  }, 65536);
  return {
    push: (chunk) => splitter.push(chunk),
    closed: () => {
      c.closed = true;
      for (const chan of c.channels) {
        const idx = chan.members.indexOf(c);
        if (idx >= 0) chan.members.splice(idx, 1);
        if (chan.members.length === 0) channels.delete(chan.name);
        else if (c.nick !== null) {
          const note = Buffer.from(`USERLEAVE ${chan.name} ${c.nick}\n`);
          for (const m of chan.members) send(m, note);
        }
      }
      c.channels.length = 0;
    },
  };
}
