/** `mixed`: the clients split by weight into a chat channel, dm pairs and 1:1 calls. */
import type { LoadMix } from '../defaults.js';
import { chatPart } from './chat.js';
import { dmPart } from './dm.js';
import { PartsScenario, type ScenarioEnv } from './scenario.js';
import { voicePart } from './voice.js';

/** Sizes of the three populations: dm and voice rounded down to pairs, the rest to chat. */
export function splitMix(clients: number, mix: LoadMix): LoadMix {
  const total = mix.chat + mix.dm + mix.voice;
  if (!(total > 0)) throw new RangeError('mix weights must add up to more than 0');
  const pairs = (w: number): number => 2 * Math.floor((clients * w) / total / 2);
  const dm = pairs(mix.dm);
  const voice = pairs(mix.voice);
  return { chat: clients - dm - voice, dm, voice };
}

export function mixedScenario(env: ScenarioEnv, clients: number, mix: LoadMix, senders: number): PartsScenario {
  const n = splitMix(clients, mix);
  return new PartsScenario(env, [chatPart(env, 0, n.chat, Math.min(senders, n.chat)), dmPart(n.chat, n.dm), voicePart(env, n.chat + n.dm, n.voice)]);
}
