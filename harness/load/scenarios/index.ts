/** One constructor per scenario name. */
import type { LoadMix, LoadScenario } from '../defaults.js';
import { chatPart } from './chat.js';
import { ChurnScenario } from './churn.js';
import { dmPart } from './dm.js';
import { groupVoicePart } from './group-voice.js';
import { mixedScenario } from './mixed.js';
import { PartsScenario, type Scenario, type ScenarioEnv } from './scenario.js';
import { voicePart } from './voice.js';

export type { Scenario, ScenarioEnv } from './scenario.js';

export function createScenario(name: LoadScenario, env: ScenarioEnv, clients: number, mix: LoadMix, defaultSenders: number): Scenario {
  const senders = env.senders ?? defaultSenders;
  switch (name) {
    case 'chat':
      return new PartsScenario(env, [chatPart(env, 0, clients, senders)]);
    case 'dm':
      return new PartsScenario(env, [dmPart(0, clients, env.senders ?? clients)]);
    case 'voice':
      return new PartsScenario(env, [voicePart(env, 0, clients)]);
    case 'group-voice':
      return new PartsScenario(env, [groupVoicePart(env, 0, clients, env.groupSize)]);
    case 'mixed':
      return mixedScenario(env, clients, mix, senders);
    case 'churn':
      return new ChurnScenario(env, clients);
  }
}
