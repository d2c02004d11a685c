// node scripts/attacks/voice-flood.mjs <repo root with dist/> [floodSeconds=2] [group]  (issue 8 item 2)
// Server in this process; victim 1:1 call paced at 50 frames/s both ways; a child process floods
// as fast as it can from the other party of another call for floodSeconds. With `group`, the
// flooder is one talker of a channel's group voice with 10 listeners instead (the issue's
// second attack); their frame counts are printed too.
import { fork } from 'node:child_process';
import * as path from 'node:path';
const root = path.resolve(process.argv[2]);
const floodS = Number(process.argv[3] ?? 2);
const group = process.argv[4] === 'group';
if (process.argv[2] === '--child') {
  // unreachable
}
const { createServer, builtinPlugins } = await import(path.join(root, 'dist/index.js'));
const { ParleyClient, VoiceClient } = await import(path.join(root, 'dist/harness/client/index.js'));
const { VoipPlugin, encodeVoiceFrame } = await import(path.join(root, 'dist/plugins/voip/index.js'));
const server = createServer({ logger: 'error', hostname: 't', plugins: builtinPlugins(undefined, { voip: { udpPort: 0 } }) });
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
const voip = server.resolve(VoipPlugin);
const udpPort = voip.udpAddress().port;
const c = {};
for (const n of ['alice', 'bob', 'fay', 'gus']) c[n] = await ParleyClient.connect({ port, nick: n, timeoutMs: 5000 });
async function call(a, b) {
  const ka = await c[a].talkRequest(b);
  const req = await c[b].waitFor('TALK', (m) => m.event === 'REQUEST');
  c[b].talkAccept(a, req.key);
  await c[a].waitFor('TALK', (m) => m.event === 'ACCEPTED');
  return [ka, req.key];
}
const [ka, kb] = await call('alice', 'bob');
let kf;
const listeners = [];
if (group) {
  // Fay and 10 listeners in #room's group voice.
  for (let i = 0; i < 10; i++) c[`l${i}`] = await ParleyClient.connect({ port, nick: `l${i}`, timeoutMs: 5000 });
  const room = ['fay', ...Array.from({ length: 10 }, (_, i) => `l${i}`)];
  for (const n of room) await c[n].join('#room');
  kf = (await c.fay.talkJoin('#room')).key;
  for (let i = 0; i < 10; i++) {
    const { key } = await c[`l${i}`].talkJoin('#room');
    listeners.push(await VoiceClient.open({ port: udpPort, key, nick: `l${i}` }));
  }
} else {
  const [f, kg] = await call('fay', 'gus');
  kf = f;
  listeners.push(await VoiceClient.open({ port: udpPort, key: kg, nick: 'gus' }));
}
const va = await VoiceClient.open({ port: udpPort, key: ka, nick: 'alice' });
const vb = await VoiceClient.open({ port: udpPort, key: kb, nick: 'bob' });
va.bind();
vb.bind();
for (const l of listeners) l.bind();
await new Promise((r) => setTimeout(r, 200));
const frame = encodeVoiceFrame({ key: kf, nick: 'fay', seq: 1, ts: 0, payload: Buffer.alloc(160, 7) });
const child = fork(new URL('./voice-flooder.mjs', import.meta.url), [String(udpPort), frame.toString('base64'), String(floodS * 1000)]);
const floodDone = new Promise((r) => child.on('message', r));
await new Promise((r) => setTimeout(r, 100));
const before = voip.stats();
const frames = Math.round(floodS * 50);
await Promise.all([va.paced({ payloadBytes: 160, frames }), vb.paced({ payloadBytes: 160, frames })]);
const flood = await floodDone;
await new Promise((r) => setTimeout(r, 500));
const after = voip.stats();
const recv = va.stats().totals.received + vb.stats().totals.received;
const lost = 2 * frames - recv;
console.log(
  JSON.stringify({
    flooderSent: flood.sent,
    flooderFps: Math.round(flood.sent / (flood.ms / 1000)),
    calmSent: 2 * frames,
    calmLost: lost,
    calmLossPct: +((100 * lost) / (2 * frames)).toFixed(3),
    relayFramesIn: after.framesIn - before.framesIn,
    relayFramesRelayed: after.framesRelayed - before.framesRelayed,
    relayBytesRelayed: after.bytesRelayed - before.bytesRelayed,
    listenersReceived: listeners.map((l) => l.stats().totals.received + l.stats().totals.duplicates),
    peerSockets: after.peerSockets,
    dropped: Object.fromEntries(
      Object.entries(after.dropped)
        .map(([k, v]) => [k, v - before.dropped[k]])
        .filter(([, v]) => v),
    ),
  }),
);
await Promise.all([va.close(), vb.close(), ...listeners.map((l) => l.close())]);
for (const x of Object.values(c)) x.destroy();
await server.close();
