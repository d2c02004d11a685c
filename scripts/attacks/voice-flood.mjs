// node scripts/attacks/voice-flood.mjs <repo root with dist/> [floodSeconds=2]  (issue 8 item 2)
// Server in this process; victim 1:1 call paced at 50 frames/s both ways; a child process floods
// as fast as it can from the other party of another call for floodSeconds.
import { fork } from 'node:child_process';
import * as path from 'node:path';
const root = path.resolve(process.argv[2]);
const floodS = Number(process.argv[3] ?? 2);
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
const [kf, kg] = await call('fay', 'gus');
const va = await VoiceClient.open({ port: udpPort, key: ka, nick: 'alice' });
const vb = await VoiceClient.open({ port: udpPort, key: kb, nick: 'bob' });
const vg = await VoiceClient.open({ port: udpPort, key: kg, nick: 'gus' });
va.bind();
vb.bind();
vg.bind();
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
    gusReceived: vg.stats().totals.received + vg.stats().totals.duplicates,
    dropped: Object.fromEntries(
      Object.entries(after.dropped)
        .map(([k, v]) => [k, v - before.dropped[k]])
        .filter(([, v]) => v),
    ),
  }),
);
await Promise.all([va.close(), vb.close(), vg.close()]);
for (const x of Object.values(c)) x.destroy();
await server.close();
