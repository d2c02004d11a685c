/** `chat`: channel fan-out. Every client joins one channel; `senders` of them send to it. */
import type { LoadClient } from '../load-client.js';
import { alive, type Part, type ScenarioEnv } from './scenario.js';
import type { TextSender } from './text-load.js';

/** Counts the live clients of a group: decremented when one closes. */
export function liveCounter(members: readonly LoadClient[]): { n: number } {
  const live = { n: members.length };
  for (const c of members) c.onClosed = () => live.n--;
  return live;
}

/** Joins `channel` and waits for `JOINED`. */
export async function joinChannel(client: LoadClient, channel: string, timeoutMs: number): Promise<void> {
  const lower = channel.toLowerCase();
  const joined = client.waitFor((m) => m.type === 'JOINED' && m.channel.toLowerCase() === lower, timeoutMs);
  client.write(`JOIN: ${channel}\n`);
  await joined;
}

/**
 * Clients `[offset, offset + count)` in one channel.
 * @param senders how many of them send (the first ones); default 10
 */
export function chatPart(env: ScenarioEnv, offset: number, count: number, senders: number): Part {
  const channel = `#load-${env.ctx.tag}`;
  return {
    offset,
    count,
    prepare: (_i, client) => joinChannel(client, channel, env.setupTimeoutMs),
    textSenders(clients) {
      const members = clients.slice(offset, offset + count).filter(alive);
      const nSenders = Math.min(senders, members.length);
      const live = liveCounter(members);
      for (const c of members) c.seqs = new Int32Array(nSenders);
      // Observers are receivers that do not send, in turn, so no one client watches every window.
      const quiet = members.slice(nSenders);
      const out: TextSender[] = [];
      for (let k = 0; k < nSenders; k++) {
        const observer = quiet.length > 0 ? quiet[k % quiet.length] : members.length > 1 ? members[(k + 1) % members.length] : undefined;
        out.push({ client: members[k]!, head: `MSG ${channel}: `, slot: k, observer, fanout: () => live.n - 1 });
      }
      return out;
    },
    talkers: () => [],
  };
}
