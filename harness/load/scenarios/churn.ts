/**
 * `churn`: `clients` loops, each repeating connect, `JOIN`, `LEAVE`,
 * `DISCONNECT` as fast as `rate` (cycles/s in aggregate, 0 = flat out) allows.
 * One observer stays in the channel: each cycle that joined must reach it as
 * exactly one `USERJOIN` and one `USERLEAVE`, in that order; their latency is
 * measured from the `JOIN`/`LEAVE` that caused them.
 */
import { bump } from '../metrics.js';
import type { LoadClient } from '../load-client.js';
import { nowUs } from '../load-context.js';
import { joinChannel } from './chat.js';
import type { Scenario, ScenarioEnv } from './scenario.js';

interface Cycle {
  measured: boolean;
  joinUs: number;
  leaveUs: number;
  gotJoin: boolean;
  gotLeave: boolean;
}

export class ChurnScenario implements Scenario {
  readonly clients = 1;
  readonly senders = 0;
  readonly talkers = 0;
  readonly #env: ScenarioEnv;
  readonly #loops: number;
  readonly #channel: string;
  readonly #cycles = new Map<string, Cycle>();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  /** @param loops concurrent connect/leave loops */
  constructor(env: ScenarioEnv, loops: number) {
    this.#env = env;
    this.#loops = loops;
    this.#channel = `#churn-${env.ctx.tag}`;
  }

  async prepare(_i: number, observer: LoadClient): Promise<void> {
    await joinChannel(observer, this.#channel, this.#env.setupTimeoutMs);
    observer.onMember = (line, join) => this.#notice(line, join);
  }

  start(): void {
    const t0 = performance.now();
    for (let w = 0; w < this.#loops; w++) {
      const p = this.#loop(w, t0).finally(() => this.#running.delete(p));
      this.#running.add(p);
    }
  }

  stop(): void {
    this.#stopped = true;
  }

  inFlight(): boolean {
    const m = this.#env.ctx.m;
    return this.#running.size > 0 || m.received < m.expected;
  }

  async finish(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
  }

  async #loop(w: number, t0: number): Promise<void> {
    const env = this.#env;
    // Loops start at the ramp rate; each then keeps its share of the aggregate rate.
    await sleep(t0 + (w / env.ramp) * 1000 - performance.now());
    const period = env.rate > 0 ? (1000 * this.#loops) / env.rate : 0;
    const first = performance.now();
    for (let c = 0; !this.#stopped; c++) {
      if (period > 0) await sleep(first + c * period - performance.now());
      if (this.#stopped) break;
      await this.#cycle(`${env.ctx.tag}${w}_${c}`);
    }
  }

  async #cycle(nick: string): Promise<void> {
    const env = this.#env;
    const m = env.ctx.m;
    const timeout = env.setupTimeoutMs;
    const start = nowUs();
    const cycle: Cycle = { measured: start >= env.ctx.measureStartUs && start < env.ctx.measureEndUs, joinUs: 0, leaveUs: 0, gotJoin: false, gotLeave: false };
    const client = env.connect(nick);
    try {
      await client.waitFor((x) => x.type === 'ACCEPT', timeout);
      m.churn.connectsAll++;
      this.#cycles.set(nick, cycle);
      cycle.joinUs = nowUs();
      await joinChannel(client, this.#channel, timeout);
      // From here the observer must see both notices: LEAVE or a disconnect causes USERLEAVE.
      if (cycle.measured) {
        m.sent += 2;
        m.expected += 2;
      }
      const lower = this.#channel.toLowerCase();
      const left = client.waitFor((x) => x.type === 'LEFT' && x.channel.toLowerCase() === lower, timeout);
      cycle.leaveUs = nowUs();
      client.write(`LEAVE: ${this.#channel}\n`);
      await left;
      await client.close();
      m.churn.disconnectsAll++;
      if (cycle.measured) {
        m.churn.cycles++;
        m.churn.cycle.recordUs(nowUs() - start);
      }
    } catch (err) {
      if ((err as Error).message.startsWith('timeout')) bump(m.errors, 'TIMEOUT');
      if (cycle.measured) m.churn.failed++;
      client.destroy();
    }
  }

  /** `USERJOIN <#c>: <nick>` / `USERLEAVE <#c>: <nick>` at the observer. */
  #notice(line: Buffer, join: boolean): void {
    const colon = line.indexOf(0x3a);
    if (colon < 0) return;
    const nick = line.toString('utf8', line[colon + 1] === 0x20 ? colon + 2 : colon + 1);
    const cycle = this.#cycles.get(nick);
    if (cycle === undefined) return;
    const m = this.#env.ctx.m;
    m.receivedAll++;
    const got = join ? cycle.gotJoin : cycle.gotLeave;
    if (got) {
      if (cycle.measured) m.duplicates++;
      return;
    }
    if (join) cycle.gotJoin = true;
    else cycle.gotLeave = true;
    if (!cycle.measured) return;
    if (!join && !cycle.gotJoin) m.outOfOrder++;
    m.received++;
    const since = join ? cycle.joinUs : cycle.leaveUs;
    if (since > 0) m.latency.recordUs(nowUs() - since);
    if (cycle.gotJoin && cycle.gotLeave) this.#cycles.delete(nick);
  }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
