/**
 * `voice`: 1:1 calls. Client 2k of the part calls 2k+1 (`TALK: REQUEST`, then
 * `ACCEPT`); both bind a UDP socket with an empty frame and, once the load
 * starts, both send paced frames.
 */
import type { LoadClient } from '../load-client.js';
import { LoadVoice } from '../load-voice.js';
import { alive, Latch, within, type Part, type ScenarioEnv } from './scenario.js';
import type { Talker } from './voice-load.js';

export function voicePart(env: ScenarioEnv, offset: number, count: number): Part {
  const accepted = new Map<number, Latch>();
  const latch = (i: number): Latch => {
    let l = accepted.get(i);
    if (!l) accepted.set(i, (l = new Latch()));
    return l;
  };
  const timeout = env.setupTimeoutMs;

  async function call(i: number, client: LoadClient, accepted: ReadonlySet<number>): Promise<void> {
    const k = i - offset;
    if (k % 2 === 1) {
      if (!accepted.has(i - 1)) return; // no caller: stays idle
      // Callee: wait for the request, bind, accept. (waitFor is registered before any await.)
      const peer = env.nick(i - 1);
      const req = client.waitFor((m) => m.type === 'TALK' && m.event === 'REQUEST' && m.peer === peer, timeout);
      latch(i).done();
      const msg = await req;
      if (msg.type !== 'TALK') return;
      client.voice = await LoadVoice.open(env.ctx, msg.key, client.nick, client.node);
      client.voice.bind();
      client.write(`TALK ${peer} ${msg.key}: ACCEPT\n`);
      return;
    }
    if (k + 1 >= count || !accepted.has(i + 1)) return; // odd one out, or nobody to call: stays idle
    const peer = env.nick(i + 1);
    await within(latch(i + 1).promise, timeout, `${peer} to connect`);
    const echo = client.waitFor((m) => m.type === 'TALK' && m.event === 'REQUEST' && m.peer === peer, timeout);
    client.write(`TALK ${peer}: REQUEST\n`);
    const msg = await echo;
    if (msg.type !== 'TALK') return;
    const key = msg.key;
    client.voice = await LoadVoice.open(env.ctx, key, client.nick, client.node);
    client.voice.bind();
    await client.waitFor((m) => m.type === 'TALK' && m.event === 'ACCEPTED' && m.key === key, timeout);
  }

  return {
    offset,
    count,
    prepare: call,
    textSenders: () => [],
    talkers(clients) {
      const out: Talker[] = [];
      for (let k = 0; k + 1 < count; k += 2) {
        const a = clients[offset + k];
        const b = clients[offset + k + 1];
        if (!alive(a) || !alive(b) || !a.voice || !b.voice) continue;
        // Bind again: the first empty frame went out over UDP, unacknowledged.
        a.voice.bind();
        b.voice.bind();
        out.push({ voice: a.voice, fanout: () => (b.state === 'accepted' ? 1 : 0) });
        out.push({ voice: b.voice, fanout: () => (a.state === 'accepted' ? 1 : 0) });
      }
      return out;
    },
  };
}
