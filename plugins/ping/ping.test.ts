// Keepalive end to end, with short timers.
import test, { type ExecutionContext } from 'ava';
import { ParleyError } from '../../core/index.js';
import { pingPlugin } from './index.js';
import { connectInLobby, sleep, startServer, textPlugins, within } from '../../test/helpers.js';

const fastPing = { plugins: textPlugins({ ping: { intervalMs: 50, timeoutMs: 200 } }) };

test('PING - a client that does not PONG is closed with `ping timeout` and leaves its channels', async (t) => {
  const { server, port } = await startServer(t, fastPing);
  const closed: string[] = [];
  server.events$.subscribe((e) => e.type === 'closed' && closed.push(`${e.nick}: ${e.reason}`));
  const sleeper = await connectInLobby(t, port, 'sleeper', { autoPong: false });
  const awake = await connectInLobby(t, port, 'awake');
  await sleeper.join('#room');
  await awake.join('#room');
  const started = Date.now();
  t.is(await within(sleeper.done, 2000, 'ping timeout'), 'ping timeout');
  const took = Date.now() - started;
  // First PING after 50 ms, then 200 ms without an answer.
  t.true(took >= 150 && took < 1500, `closed after ${took} ms`);
  t.true(sleeper.inbox().some((m) => m.type === 'PING'));
  const left = [await awake.waitFor('USERLEAVE'), await awake.waitFor('USERLEAVE')].map((m) => `${m.channel} ${m.nick}`).sort();
  t.deepEqual(left, ['#lobby sleeper', '#room sleeper']);
  t.deepEqual(closed, ['sleeper: ping timeout']);
});

test('PING - a client that answers every PING stays connected', async (t) => {
  const { port } = await startServer(t, fastPing);
  const c = await connectInLobby(t, port, 'awake');
  const pings: string[] = [];
  c.messages$.subscribe((m) => m.type === 'PING' && pings.push(m.value));
  await sleep(600);
  t.false(c.closed);
  t.true(pings.length >= 4, `${pings.length} PINGs`);
  t.is(new Set(pings).size, pings.length, 'every PING carries a new value');
  c.say('awake', 'still here');
  t.is((await c.waitFor('MSG')).text, 'still here');
});

test('PING - a PONG with a stale or unknown value does not keep a client alive', async (t) => {
  const { port } = await startServer(t, fastPing);
  const c = await connectInLobby(t, port, 'liar', { autoPong: false });
  const timer = setInterval(() => {
    if (!c.closed) c.sendRaw('PONG: 12345\n');
  }, 20);
  t.teardown(() => clearInterval(timer));
  t.is(await within(c.done, 2000, 'ping timeout'), 'ping timeout');
  t.false(
    c.inbox().some((m) => m.type === 'ERROR'),
    'an unknown PONG is ignored, not an error',
  );
});

test('ping options - unknown keys and bad values are refused at creation with PARLEY_ERR_INVALID_OPTION', (t) => {
  const unknown = t.throws(() => pingPlugin({ nope: 1 } as never), { instanceOf: ParleyError });
  t.is(unknown?.code, 'PARLEY_ERR_INVALID_OPTION');
  t.regex(unknown!.message, /ping\.nope: unknown option/);
  pingBadValues(t);
});

function pingBadValues(t: ExecutionContext): void {
  for (const bad of [{ intervalMs: 0 }, { timeoutMs: -1 }, { intervalMs: Number.NaN }]) {
    t.is(t.throws(() => pingPlugin(bad), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
  }
}
