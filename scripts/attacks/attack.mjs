// Runs the issue 8 attacks (items 1 and 4) against a server child process and prints fds, RSS and
// the worst round trip of an unrelated client.
//   node scripts/attacks/attack.mjs <repo root> tls|fanout|dm
// TLS needs TLS_KEY and TLS_CERT (a self-signed pair). Everything bounded in count and time.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import * as tls from 'node:tls';

const [root, what] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const child = spawn(
  process.execPath,
  [
    ...(process.env.ATTACK_NODE_ARGS ?? '').split(' ').filter(Boolean),
    process.env.ATTACK_SERVER ?? join(here, 'server.mjs'),
    root,
    what === 'tls' ? 'tls' : '',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = Number(await new Promise((r) => child.stdout.once('data', (d) => r(String(d).trim()))));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fds = () => readdirSync(`/proc/${child.pid}/fd`).length;
const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024);
const stat = (label) => console.log(`${label}: fds ${fds()}, RSS ${rss()} MB`);
const open = (opts = {}) =>
  new Promise((resolve, reject) => {
    const s = (opts.tls ? tls : net).connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s));
    s.on('error', reject);
  });
/** A line client: `wait(pred)` resolves with the first new line matching. */
function lines(s) {
  let buf = '';
  const waiters = [];
  s.setEncoding('utf8');
  s.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      for (const w of waiters.splice(0))
        if (!w.pred(l)) waiters.push(w);
        else w.resolve(l);
    }
  });
  return { wait: (pred) => new Promise((resolve) => waiters.push({ pred, resolve })) };
}

stat('idle');
if (what === 'tls') {
  const t0 = Date.now();
  let n = 0;
  while (n < 20_000 && Date.now() - t0 < 30_000) {
    const batch = await Promise.allSettled(Array.from({ length: 100 }, () => open()));
    for (const r of batch) if (r.status === 'fulfilled') n++, r.value.end();
  }
  console.log(`${n} TCP connect-and-close cycles in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  stat('right after');
  await sleep(3000);
  stat('3 s later');
  const c = await open({ tls: true });
  const l = lines(c);
  c.write('CONNECT: "late" "" 1.1.0\n');
  console.log(`a TLS client afterwards: ${await Promise.race([l.wait(() => true), sleep(5000).then(() => 'no answer')])}`);
  c.destroy();
} else if (what === 'fanout') {
  // The members and attackers run in a process of their own (fanout-crowd.mjs): the
  // probe, an unrelated user, must not share an event loop with 3,000 readers.
  const crowd = spawn(process.execPath, [join(here, 'fanout-crowd.mjs'), String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const said = lines(crowd.stdout);
  await said.wait((l) => l === 'members joined');
  await sleep(2000);
  stat('3000 members in #big');
  const probe = await open();
  const pl = lines(probe);
  probe.write('CONNECT: "probe" "" 1.0.0\n');
  await pl.wait((l) => l.startsWith('ACCEPT'));
  crowd.stdin.write('attack\n');
  await said.wait((l) => l === 'attacking');
  const stop = Date.now() + 10_000;
  const rtts = [];
  let n = 0;
  while (Date.now() < stop) {
    const t0 = performance.now();
    probe.write(`MSG probe: ${n}\n`);
    await pl.wait((l) => l === `MSG probe probe: ${n}`);
    rtts.push(performance.now() - t0);
    n++;
    await sleep(50);
  }
  crowd.kill();
  rtts.sort((a, b) => a - b);
  const q = (p) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))].toFixed(1);
  console.log(`20 attackers JOIN/LEAVE for 10 s: probe ${n} round trips, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, worst ${rtts[rtts.length - 1].toFixed(1)} ms`);
  stat('after 10 s of attack');
} else if (what === 'dm') {
  const victim = await open();
  const vl = lines(victim);
  let closedWith = 'still connected';
  vl.wait((l) => l.startsWith('DISCONNECT')).then((l) => (closedWith = l));
  victim.write('CONNECT: "victim" "" 1.0.0\n');
  await vl.wait((l) => l.startsWith('ACCEPT'));
  let tick = 0;
  victim.on('data', (d) => {
    tick += d.length;
    if (tick >= 15_000) victim.pause();
  });
  const pacer = setInterval(() => {
    tick = 0;
    victim.resume();
  }, 50);
  const text = 'd'.repeat(8192 - 'MSG s0 victim: '.length - 1);
  const senders = await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      const s = await open();
      s.write(`CONNECT: "s${i}" "" 1.0.0\n`);
      s.resume();
      return s;
    }),
  );
  await sleep(300);
  const t0 = Date.now();
  const feed = setInterval(() => {
    for (const s of senders) if (s.writableLength < 256 * 1024) s.write(`MSG victim: ${text}\n`.repeat(20));
  }, 50);
  while (Date.now() - t0 < 10_000 && closedWith === 'still connected') await sleep(20);
  clearInterval(feed);
  clearInterval(pacer);
  console.log(`4 DM senders vs a 300 KB/s reader: ${closedWith} after ${Date.now() - t0} ms`);
  stat('after');
}
child.kill();
process.exit(0);
