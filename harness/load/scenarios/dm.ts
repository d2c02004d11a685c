/** `dm`: private messages in pairs (client 2k and 2k+1 of the part write to each other). */
import { alive, type Part } from './scenario.js';
import type { TextSender } from './text-load.js';

/**
 * @param senders how many clients send (the first ones); default every client
 */
export function dmPart(offset: number, count: number, senders = count): Part {
  return {
    offset,
    count,
    prepare: async () => {},
    textSenders(clients) {
      const out: TextSender[] = [];
      for (let k = 0; k + 1 < count; k += 2) {
        const a = clients[offset + k];
        const b = clients[offset + k + 1];
        if (!alive(a) || !alive(b)) continue;
        a.seqs = new Int32Array(1);
        b.seqs = new Int32Array(1);
        if (k < senders) out.push({ client: a, head: `MSG ${b.nick}: `, slot: 0, observer: b, fanout: () => (b.state === 'accepted' ? 1 : 0) });
        if (k + 1 < senders) out.push({ client: b, head: `MSG ${a.nick}: `, slot: 0, observer: a, fanout: () => (a.state === 'accepted' ? 1 : 0) });
      }
      return out;
    },
    talkers: () => [],
  };
}
