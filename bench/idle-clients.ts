// Holds many idle, logged-in connections to one server for the memory benchmark.
//
//   node dist/bench/idle-clients.js --kind parley|bare|socket.io|parley-ws|bare-ws --port P [--host 127.0.0.1]
//     [--count 2500] [--first 0] [--concurrency 200] [--channel #lobby] [--local-addrs 1]
//     [--timeout 300] [--barrier [--wave W]] [--parent-stdin]
//
//   parley:    `CONNECT: "m<i>" "r" 1.0.0`, logged in once `JOINED: #lobby` (the default
//              channel) arrives
//   bare:      `CONNECT: ...`, then `JOIN: #lobby`, logged in at `JOINED`
//   socket.io: socket.io-client, websocket transport, one connection each (forceNew),
//              logged in at the server's 'joined' event (it joined the room)
//   parley-ws: a `ws` WebSocket to ws://host:port/parley, lines in text messages,
//              `CONNECT: "m<i>" "" 1.1.0`, then as parley (ACCEPT, logged in at `JOINED: #lobby`)
//   bare-ws:   the same WebSocket and CONNECT to bare-ws-server.js, then as bare
//
// Every client reads and discards its input (parley's USERLIST / USERJOIN traffic for
// #lobby is O(n^2) over n joins) and answers `PING` with `PONG`. Prints
// `CONNECTED <count> <ms>` on stdout once all are logged in, `PROGRESS <n>` on stderr
// every second until then, `FAILED <reason>` on stdout on a failure. Then it stays
// connected until killed or, with --parent-stdin, until its stdin closes.
//
// --barrier (all but socket.io): first open every TCP connection (WebSocket: until 'open'), print `OPEN <count>` on
// stdout and wait for a `LOGIN` line on stdin; then send all the CONNECTs at once. Logins
// that arrive together are handled in the same event-loop turns, so the server's writes to
// the members of #lobby are batched (a reconnect storm rather than a trickle of joins).
// With --wave W the CONNECTs go out W at a time, the next wave once the previous one is
// logged in (smaller bursts: less transient memory in the server).
// --local-addrs k spreads the connections over source addresses 127.0.0.1..127.0.0.k.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { io, type Socket as IoSocket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { LineSplitter } from './line-splitter.js';

const args = parseArgs(process.argv.slice(2));
const kind = strFlag(args, 'kind', 'parley');
const host = strFlag(args, 'host', '127.0.0.1');
const port = numFlag(args, 'port', 0, { min: 1 });
const count = numFlag(args, 'count', 2500, { min: 1 });
const first = numFlag(args, 'first', 0);
const concurrency = numFlag(args, 'concurrency', 200, { min: 1 });
const channel = strFlag(args, 'channel', '#lobby');
const localAddrs = numFlag(args, 'local-addrs', 1, { min: 1 });
const timeoutS = numFlag(args, 'timeout', 300, { min: 1, int: false });
const barrier = boolFlag(args, 'barrier') && kind !== 'socket.io';
const wave = numFlag(args, 'wave', 0);
/** Logged in at ACCEPT, joining no channel (the server puts none in: parley with `--default-channel none`). */
const noChannel = boolFlag(args, 'no-channel');
if (!['parley', 'bare', 'socket.io', 'parley-ws', 'bare-ws'].includes(kind)) {
  process.stderr.write('idle-clients: --kind must be parley, bare, socket.io, parley-ws or bare-ws\n');
  process.exit(1);
}
/** bare and bare-ws join the channel themselves; parley's clients are put in #lobby at ACCEPT. */
const joinsItself = kind === 'bare' || kind === 'bare-ws';
const overWs = kind === 'parley-ws' || kind === 'bare-ws';

let loggedIn = 0;
let opened = 0;
let started = 0;
let loginSent = false;
const loginQueue: (() => void)[] = [];
let failed = false;
const t0 = performance.now();
const tcp: net.Socket[] = [];
const ios: IoSocket[] = [];
const wss: WebSocket[] = [];

function fail(reason: string): void {
  if (failed) return;
  failed = true;
  process.stdout.write(`FAILED ${reason}\n`);
}

function onLoggedIn(): void {
  loggedIn++;
  if (loggedIn === count) {
    clearInterval(progress);
    clearTimeout(timer);
    process.stdout.write(`CONNECTED ${count} ${Math.round(performance.now() - t0)}\n`);
  } else if (!barrier) {
    startMore();
  } else if (loggedIn === waveEnd) {
    nextWave();
  }
}

function onOpen(): void {
  opened++;
  if (opened === count) process.stdout.write(`OPEN ${count}\n`);
  else startMore();
}

let waveEnd = 0;

function login(): void {
  if (loginSent) return;
  loginSent = true;
  nextWave();
}

function nextWave(): void {
  const end = wave > 0 ? Math.min(loginQueue.length, waveEnd + wave) : loginQueue.length;
  for (let i = waveEnd; i < end; i++) loginQueue[i]!();
  waveEnd = end;
}

/**
 * One client's line protocol over any transport: `write` sends text. Returns the byte
 * sink for what the server sends and the function that sends CONNECT.
 */
function lineSession(nick: string, write: (text: string) => void): { push(d: Buffer): void; sendConnect(): void } {
  let state = 0; // 0 connecting, 1 awaiting ACCEPT (bare) / JOINED (parley), 2 awaiting JOINED (bare), 3 in
  const splitter = new LineSplitter((buf, s, e) => {
    const c = buf[s];
    // Only PING, ACCEPT, JOINED, ERROR and DISCONNECT matter; USERLIST / USERJOIN are discarded.
    if (c !== 80 && c !== 65 && c !== 74 && c !== 69 && c !== 68) return;
    const line = buf.toString('latin1', s, e);
    if (c === 80 && line.startsWith('PING')) {
      write(`PONG${line.slice(4)}\n`);
    } else if (c === 74 && state < 3 && line.startsWith('JOINED')) {
      if (
        line
          .slice(line.indexOf(':') + 1)
          .trim()
          .toLowerCase() === channel.toLowerCase()
      ) {
        state = 3;
        onLoggedIn();
      }
    } else if (c === 65 && state === 1 && noChannel && line.startsWith('ACCEPT')) {
      state = 3;
      onLoggedIn();
    } else if (c === 65 && state === 1 && joinsItself && line.startsWith('ACCEPT')) {
      state = 2;
      write(`JOIN: ${channel}\n`);
    } else if ((c === 69 && line.startsWith('ERROR')) || (c === 68 && line.startsWith('DISCONNECT'))) {
      fail(`${nick}: server said: ${line}`);
    }
  }, 1 << 20);
  return {
    push: (d) => splitter.push(d),
    sendConnect: () => {
      state = 1;
      write(overWs ? `CONNECT: "${nick}" "" 1.1.0\n` : `CONNECT: "${nick}" "r" 1.0.0\n`);
    },
  };
}

function localAddressOf(i: number): string | undefined {
  return localAddrs > 1 ? `127.0.0.${1 + (i % localAddrs)}` : undefined;
}

function startTcp(i: number): void {
  const nick = `m${first + i}`;
  const localAddress = localAddressOf(i);
  const sock = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  tcp.push(sock);
  const session = lineSession(nick, (text) => sock.write(text));
  sock.on('connect', () => {
    if (!barrier) return session.sendConnect();
    loginQueue.push(session.sendConnect);
    onOpen();
  });
  sock.on('data', (d: Buffer) => session.push(d));
  sock.on('error', (err) => fail(`${nick}: ${err.message}`));
  sock.on('close', () => fail(`${nick}: connection closed by the server`));
}

const LF = Buffer.from('\n');

/** parley-ws and bare-ws: one `ws` WebSocket at /parley, the line protocol in text messages. */
function startWs(i: number): void {
  const nick = `m${first + i}`;
  const localAddress = localAddressOf(i);
  const ws = new WebSocket(`ws://${host}:${port}/parley`, {
    perMessageDeflate: false,
    handshakeTimeout: timeoutS * 1000,
    ...(localAddress ? { localAddress } : {}),
  });
  wss.push(ws);
  const session = lineSession(nick, (text) => ws.send(text));
  ws.on('open', () => {
    if (!barrier) return session.sendConnect();
    loginQueue.push(session.sendConnect);
    onOpen();
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    session.push(data);
    if (data[data.length - 1] !== 10) session.push(LF); // a message's end ends its line
  });
  ws.on('error', (err) => fail(`${nick}: ${err.message}`));
  ws.on('close', (code, reason) => fail(`${nick}: connection closed by the server (${code} ${reason.toString()})`));
}

function startIo(i: number): void {
  const nick = `m${first + i}`;
  const localAddress = localAddressOf(i);
  const sock = io(`http://${host}:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: timeoutS * 1000,
    ...(localAddress ? { localAddress } : {}),
  } as Parameters<typeof io>[1]);
  ios.push(sock);
  let joined = false;
  sock.on('joined', () => {
    if (joined) return;
    joined = true;
    onLoggedIn();
  });
  sock.on('connect_error', (err: Error) => fail(`${nick}: connect error: ${err.message}`));
  sock.on('disconnect', (reason: string) => fail(`${nick}: disconnected: ${reason}`));
}

function startMore(): void {
  while (started < count && started - (barrier ? opened : loggedIn) < concurrency) {
    const i = started++;
    if (kind === 'socket.io') startIo(i);
    else if (overWs) startWs(i);
    else startTcp(i);
  }
}

const progress = setInterval(() => process.stderr.write(`PROGRESS ${loggedIn}\n`), 1000);
const timer = setTimeout(() => fail(`timed out after ${timeoutS} s with ${loggedIn}/${count} logged in`), timeoutS * 1000);

function quit(): void {
  for (const s of tcp) s.destroy();
  for (const w of wss) {
    w.removeAllListeners('close');
    w.terminate();
  }
  for (const s of ios) {
    s.off('disconnect');
    s.disconnect();
  }
  process.exit(0);
}
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
if (boolFlag(args, 'parent-stdin')) {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    if (/^LOGIN$/m.test(buf)) login();
  });
  process.stdin.on('end', quit);
  process.stdin.on('close', quit);
  process.stdin.on('error', quit);
}
startMore();
