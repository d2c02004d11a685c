/**
 * `group-voice`: groups of `groupSize` clients; each group joins its own channel
 * and that channel's group voice (`TALK #c: JOIN`), then every member talks and
 * the relay forwards each frame to the other members.
 */
import type { LoadClient } from '../load-client.js';
import { LoadVoice } from '../load-voice.js';
import { joinChannel, liveCounter } from './chat.js';
import { alive, type Part, type ScenarioEnv } from './scenario.js';
import type { Talker } from './voice-load.js';

export function groupVoicePart(env: ScenarioEnv, offset: number, count: number, groupSize: number): Part {
  const channel = (g: number): string => `#gv-${env.ctx.tag}-${g}`;
  const timeout = env.setupTimeoutMs;

  async function enter(i: number, client: LoadClient): Promise<void> {
    const ch = channel(Math.floor((i - offset) / groupSize));
    await joinChannel(client, ch, timeout);
    const lower = ch.toLowerCase();
    const joined = client.waitFor((m) => m.type === 'TALK' && m.event === 'JOINED' && m.peer.toLowerCase() === lower, timeout);
    client.write(`TALK ${ch}: JOIN\n`);
    const msg = await joined;
    if (msg.type !== 'TALK') return;
    client.voice = await LoadVoice.open(env.ctx, msg.key, client.nick, client.node);
    client.voice.bind();
  }

  return {
    offset,
    count,
    prepare: enter,
    textSenders: () => [],
    talkers(clients) {
      const out: Talker[] = [];
      for (let g = 0; g * groupSize < count; g++) {
        const from = offset + g * groupSize;
        const members = clients.slice(from, Math.min(from + groupSize, offset + count)).filter((c) => alive(c) && c.voice !== undefined) as LoadClient[];
        const live = liveCounter(members);
        for (const c of members) {
          c.voice!.bind();
          out.push({ voice: c.voice!, fanout: () => live.n - 1 });
        }
      }
      return out;
    },
  };
}
