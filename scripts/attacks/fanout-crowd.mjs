// The crowd of `attack.mjs fanout`: 3,000 members of #big that read everything, and 20
// attackers from the same IP doing JOIN/LEAVE on #big within their rate limit once told.
import * as net from 'node:net';
import * as readline from 'node:readline';
const port = Number(process.argv[2]);
const open = () =>
  new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', reject);
  });
const members = [];
for (let b = 0; b < 30; b++) {
  members.push(
    ...(await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const s = await open();
        s.write(`CONNECT: "m${b * 100 + i}" "" 1.0.0\nJOIN #big\n`);
        s.resume();
        return s;
      }),
    )),
  );
}
process.stdout.write('members joined\n');
await new Promise((r) => readline.createInterface({ input: process.stdin }).once('line', r));
const attackers = await Promise.all(
  Array.from({ length: 20 }, async (_, i) => {
    const s = await open();
    s.write(`CONNECT: "att${i}" "" 1.0.0\n`);
    s.resume();
    return s;
  }),
);
await new Promise((r) => setTimeout(r, 500));
process.stdout.write('attacking\n');
// Bounded: the parent kills this process after 10 s; stop on our own after 30 s regardless.
setInterval(() => {
  for (const a of attackers) if (a.writableLength < 65536) a.write('JOIN #big\nLEAVE #big\n'.repeat(25));
}, 100);
setTimeout(() => process.exit(0), 30_000);
