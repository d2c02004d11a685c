// Issue 8 hardening, over real sockets: line content, caps, fan-out cost, slow readers.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { parseServerLine } from '../core/codec.js';
import { channelsPlugin } from '../plugins/channels/index.js';
import { imPlugin } from '../plugins/im/index.js';
import { pingPlugin } from '../plugins/ping/index.js';
import { connectInLobby, RawSocket, sleep, startServer, until, within } from './helpers.js';

test('line content - NUL and a bare CR make a line BAD_SYNTAX and nothing is relayed; CR before LF is dropped', async (t) => {
  const { port } = await startServer(t);
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connectInLobby(t, port, 'bob');
  await alice.waitFor('USERJOIN');
  alice.sendRaw('MSG #lobby: H\rMSG admin #lobby: spoofed\n');
  t.is((await alice.waitForError()).code, 'BAD_SYNTAX');
  alice.sendRaw('MSG #lobby: a\0b\n');
  t.is((await alice.waitForError()).code, 'BAD_SYNTAX');
  alice.sendRaw('MSG #lobby: crlf\r\n');
  t.is((await bob.waitFor('MSG')).text, 'crlf');
  t.false(
    bob.inbox().some((m) => m.type === 'MSG'),
    'the refused lines were not relayed',
  );
});

test('line content - a valid 8192-byte MSG line to a channel is delivered, longer by its prefix', async (t) => {
  const { port } = await startServer(t, { limits: { rateLimit: 0 } });
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connectInLobby(t, port, 'bob');
  const head = 'MSG #lobby: ';
  const text = 'z'.repeat(8192 - head.length - 1);
  t.is(Buffer.byteLength(`${head}${text}\n`), 8192);
  alice.sendRaw(`${head}${text}\n`);
  t.is((await bob.waitFor('MSG')).text, text);
  t.false(alice.inbox().some((m) => m.type === 'ERROR'));
});

test('caps - maxConnections: the connection beyond it is told `server full`', async (t) => {
  const { port } = await startServer(t, { limits: { maxConnections: 2 } });
  await connectInLobby(t, port, 'one');
  await connectInLobby(t, port, 'two');
  const third = await RawSocket.open(t, port);
  t.is(await third.waitLine(() => true), 'DISCONNECT: server full');
  await third.waitClosed();
});

test('caps - maxChannels: a JOIN that would create one channel too many is TOO_MANY_CHANNELS', async (t) => {
  const plugins = [pingPlugin(), channelsPlugin({ maxChannels: 3 }), imPlugin()];
  const { port } = await startServer(t, { plugins });
  const alice = await connectInLobby(t, port, 'alice'); // #lobby is the first
  await alice.join('#two');
  await alice.join('#three');
  alice.sendRaw('JOIN #four\n');
  t.is((await alice.waitForError()).code, 'TOO_MANY_CHANNELS');
  await alice.leave('#three');
  t.deepEqual(await alice.join('#four'), ['alice']);
});

test('caps - near the open-file limit connections are refused as `server full`, logged once, and the server recovers', async (t) => {
  // `parley serve` under `ulimit -n 400`: with reservedFds 320 that leaves room for ~55 clients.
  const main = join(__dirname, '..', 'cli', 'main.js');
  const args = ['serve', '--port', '0', '--max-per-ip', '0', '--plugins', 'ping,channels,im', '--log-level', 'warn'];
  const child = spawn('bash', ['-c', 'ulimit -n 400 && exec "$0" "$@"', process.execPath, main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  t.true(await until(() => /listening on .*:\d+ /.test(out) || child.exitCode !== null, 10_000), `${out}\n${err}`);
  const port = Number(/listening on .*:(\d+) /.exec(out)?.[1]);
  t.regex(err, /open-file limit \(ulimit -n 400\) leaves room for \d+ connections/);
  const room = Number(/leaves room for (\d+) connections/.exec(err)?.[1]);
  t.true(room > 10 && room < 80, `room ${room}`);
  const socks = await Promise.all(Array.from({ length: room + 20 }, () => RawSocket.open(t, port)));
  const first = await Promise.all(
    socks.map((s, i) => {
      s.write(`CONNECT: "u${i}" "" 1.1.0\n`);
      return s.waitLine(() => true, 10_000);
    }),
  );
  const full = first.filter((l) => l === 'DISCONNECT: server full').length;
  const accepted = first.filter((l) => l.startsWith('ACCEPT')).length;
  t.is(full + accepted, room + 20, first.filter((l) => !l.startsWith('ACCEPT') && l !== 'DISCONNECT: server full').join('; '));
  t.is(accepted, room);
  t.true(await until(() => /near the open-file limit: \d+ connection\(s\) refused/.test(err), 3000), err);
  t.is(err.match(/near the open-file limit/g)?.length, 1, 'rate-limited to one line');
  // Every client leaves; the server takes new ones again.
  for (const s of socks) s.socket.destroy();
  await sleep(500);
  const late = await RawSocket.open(t, port);
  late.write('CONNECT: "late" "" 1.1.0\n');
  t.regex(await late.waitLine(() => true, 5000), /^ACCEPT/);
});

test('caps - the per-IP connection rate is throttled (loopback not exempt here)', async (t) => {
  const { port } = await startServer(t, { exemptLoopback: false, limits: { connectRatePerIp: 1, connectBurstPerIp: 3, maxConnectionsPerIp: 0 } });
  const socks = await Promise.all(Array.from({ length: 6 }, () => RawSocket.open(t, port)));
  const refused: string[] = [];
  for (const s of socks) {
    s.write(`CONNECT: "u${socks.indexOf(s)}" "" 1.0.0\n`);
    const first = await s.waitLine(() => true);
    if (first.startsWith('DISCONNECT')) refused.push(first);
  }
  t.is(refused.length, 3);
  t.true(refused.every((l) => l === 'DISCONNECT: too many connections from your address'));
});

test('fan-out cost - JOIN/LEAVE loops on a big channel are throttled by how many members they reach', async (t) => {
  const { server, port } = await startServer(t, { limits: { maxConnectionsPerIp: 0, coalesceAboveSockets: 0 } });
  // 300 cheap members (the attack used 3,000; scripts/attacks/ runs that size) that CONNECT, JOIN #big and read everything.
  const members: net.Socket[] = [];
  for (let batch = 0; batch < 3; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('error', () => {});
        t.teardown(() => s.destroy());
        members.push(s);
        return new Promise<void>((r) =>
          s.once('connect', () => {
            s.write(`CONNECT: "m${batch * 100 + i}" "" 1.0.0\nJOIN #big\n`);
            s.resume();
            r();
          }),
        );
      }),
    );
  }
  t.true(await until(() => server.connectionCount === 300, 60_000), `${server.connectionCount} members`);
  const probe = await connectInLobby(t, port, 'probe');
  const attackers = await Promise.all(Array.from({ length: 20 }, (_, i) => connectInLobby(t, port, `att${i}`)));
  let joins = 0;
  const sub = server.events$.subscribe((e) => e.type === 'joined' && e.channel === '#big' && e.nick.startsWith('att') && joins++);
  t.teardown(() => sub.unsubscribe());
  // Each attacker sends 100 JOIN/LEAVE pairs at once; the rate limit alone would let 50/s through.
  for (const a of attackers) a.sendRaw('JOIN #big\nLEAVE #big\n'.repeat(100));
  const windowMs = 2000;
  let worst = 0;
  const started = performance.now();
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    const t0 = performance.now();
    probe.say('probe', 'rtt');
    await within(probe.waitFor('MSG'), 5000, 'probe round trip');
    worst = Math.max(worst, performance.now() - t0);
    await sleep(20);
  }
  const got = joins;
  const elapsed = (performance.now() - started) / 1000;
  // A JOIN or LEAVE reaching 300+ members costs 1 + 3 (recipients) + ~7 (bytes) tokens: the
  // burst of 200 allows ~10 pairs per attacker, then ~2.5 pairs/s. Without the cost: 100 each (2000 in all).
  // Bound from the bucket (burst + rate x elapsed) at a conservative 18 tokens a pair.
  const bound = 20 * Math.ceil((200 + 50 * elapsed) / 18);
  t.true(got <= bound, `${got} JOINs went through in ${elapsed.toFixed(1)} s (bound ${bound})`);
  t.log(`attackers' JOINs in ${elapsed.toFixed(1)} s: ${got} (bound ${bound}); probe worst round trip ${worst.toFixed(1)} ms`);
});

test('fan-out cost - four senders of max-size DMs do not overflow a victim reading at 300 KB/s', async (t) => {
  const { server, port } = await startServer(t);
  const closed: string[] = [];
  server.events$.subscribe((e) => e.type === 'closed' && closed.push(`${e.nick}: ${e.reason}`));
  const victim = await RawSocket.open(t, port);
  victim.write('CONNECT: "victim" "" 1.0.0\n');
  await victim.waitLine((l) => l.startsWith('USERLIST #lobby'));
  // Read ~300 KB/s: at most 15 KB per 50 ms tick, paused for the rest of it.
  let read = 0;
  let tick = 0;
  victim.socket.on('data', (c: Buffer) => {
    read += c.length;
    tick += c.length;
    if (tick >= 15_000) victim.socket.pause();
  });
  const pacer = setInterval(() => {
    tick = 0;
    victim.socket.resume();
  }, 50);
  t.teardown(() => clearInterval(pacer));
  const senders = await Promise.all(Array.from({ length: 4 }, (_, i) => connectInLobby(t, port, `s${i}`)));
  // Max-size for a 1.0.0 server too (whose relay refused lines past the limit by their prefix).
  const text = 'd'.repeat(8192 - 'MSG s0 victim: '.length - 1);
  for (const s of senders) s.sendRaw(`MSG victim: ${text}\n`.repeat(150)); // 1.2 MB each, offered at once
  await sleep(2500);
  clearInterval(pacer);
  t.deepEqual(closed, [], 'nobody was disconnected');
  t.false(victim.socket.destroyed);
  t.log(`victim read ${(read / 1024).toFixed(0)} KB in 2.5 s`);
});

test('slow reader - disconnected for its send queue, it receives whole lines only, the last being DISCONNECT', async (t) => {
  const { server, port } = await startServer(t, { limits: { sendQueueBytes: 256 * 1024, rateLimit: 0, closeGraceMs: 500 } });
  const closed = new Map<string, string>();
  server.events$.subscribe((e) => e.type === 'closed' && closed.set(e.nick, e.reason));
  const sink = await RawSocket.open(t, port);
  sink.write('CONNECT: "sink" "" 1.0.0\n');
  await sink.waitLine((l) => l.startsWith('USERLIST #lobby'));
  // Stop reading, byte-accurately: collect raw chunks ourselves.
  sink.socket.removeAllListeners('data');
  sink.socket.pause();
  const chunks: Buffer[] = [];
  const flooder = await connectInLobby(t, port, 'flooder');
  const text = 'f'.repeat(7000);
  for (let round = 0; round < 200 && !closed.has('sink'); round++) {
    flooder.sendRaw(`MSG sink: ${text}\n`.repeat(20));
    await sleep(10);
  }
  t.is(closed.get('sink'), 'send queue exceeded');
  // Read in small steps (one chunk every 20 ms): longer than the 500 ms grace period for all that is queued.
  sink.socket.on('data', (c: Buffer) => {
    chunks.push(c);
    sink.socket.pause();
    setTimeout(() => sink.socket.resume(), 20);
  });
  sink.socket.resume();
  await within(sink.closed, 30_000, 'the sink closing');
  const all = Buffer.concat(chunks).toString('latin1');
  t.true(all.endsWith('\n'), `the stream ends mid-line: ...${JSON.stringify(all.slice(-40))}`);
  const lines = all.split('\n').slice(0, -1);
  t.is(lines.at(-1), 'DISCONNECT: send queue exceeded');
  for (const l of lines.slice(0, -1)) {
    const whole = l.startsWith('MSG ') ? l === `MSG flooder sink: ${text}` : parseServerLine(l) !== undefined;
    if (!whole) t.fail(`a cut line: ${JSON.stringify(l.slice(0, 60))} (${l.length})`);
  }
  t.log(`sink read ${all.length} bytes: ${lines.length} whole lines`);
});
