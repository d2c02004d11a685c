/**
 * The ramp and setup phases of a run: connects a scenario's long-lived clients
 * at the ramp rate, then sets them all up at once.
 */
import { MAX_CONNECTING } from './defaults.js';
import type { LoadClient } from './load-client.js';
import { bump, type LoadMetrics } from './metrics.js';
import type { Scenario, ScenarioEnv } from './scenarios/index.js';
import { within } from './scenarios/scenario.js';

export interface RampHooks {
  readonly m: LoadMetrics;
  /** Aborting stops the ramp; the clients connected so far are set up. */
  readonly signal: AbortSignal | undefined;
  /** Every connection of the run: those that could not be set up are destroyed. */
  readonly all: ReadonlySet<LoadClient>;
  /** Called when every connection has settled and setup begins. */
  onSetup(): void;
}

/**
 * Connects the scenario's clients at the ramp rate, then sets them all up at
 * once. Setting up after connecting matters for channels: JOINs that arrive
 * together are answered together, so the server coalesces the O(clients²)
 * USERJOIN notices into one write per member per turn instead of one each.
 * @returns client `i` of the scenario, or undefined where it could not connect or be set up
 */
export async function rampUp(scenario: Scenario, env: ScenarioEnv, hooks: RampHooks): Promise<(LoadClient | undefined)[]> {
  const n = scenario.clients;
  const m = hooks.m;
  const conns: LoadClient[] = [];
  let connecting = 0;
  let settled = 0;
  let wake: () => void = () => {};
  const t0 = performance.now();
  const launch = (): void => {
    const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * env.ramp) + 1);
    while (conns.length < due && connecting < MAX_CONNECTING) {
      const c = env.connect(env.nick(conns.length));
      conns.push(c);
      connecting++;
      let over = false;
      const settle = (): void => {
        if (over) return;
        over = true;
        connecting--;
        settled++;
        wake();
      };
      c.onAccept = settle;
      c.socket.once('close', settle);
      // A connection that never gets ACCEPT counts as a timeout, and is dropped.
      setTimeout(() => {
        if (!over) {
          bump(m.errors, 'TIMEOUT');
          c.destroy();
        }
      }, env.setupTimeoutMs).unref();
    }
  };
  const timer = setInterval(launch, 10);
  const signal = hooks.signal;
  try {
    launch();
    while (settled < n && !signal?.aborted) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
      launch();
    }
  } finally {
    clearInterval(timer);
  }
  hooks.onSetup();
  const accepted = conns.map((c, i) => ({ c, i })).filter(({ c }) => c.state === 'accepted');
  const acceptedSet = new Set(accepted.map(({ i }) => i));
  const clients: (LoadClient | undefined)[] = [];
  clients.length = n;
  await Promise.all(
    accepted.map(({ c, i }) =>
      within(scenario.prepare(i, c, acceptedSet), env.setupTimeoutMs, 'setup').then(
        () => {
          if (c.state === 'accepted') clients[i] = c;
        },
        (err: Error) => {
          if (/^tim(ed )?out/.test(err.message)) bump(m.errors, 'TIMEOUT');
        },
      ),
    ),
  );
  // Clients that could not be set up take no part: drop them so they do not count as receivers.
  const ready = new Set(clients);
  for (const c of hooks.all) if (!ready.has(c)) c.destroy();
  return clients;
}
