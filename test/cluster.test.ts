// A 3-node cluster over one real redis-server, clients on chosen nodes over
// real TCP: nick clashes, directory, fan-out counts, DMs, a graceful close, a
// Redis outage, and a node killed with SIGKILL.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createServer, redisCluster, type ParleyServer } from '../index.js';
import { connectInLobby, RawSocket, startCluster, textPlugins, until } from './helpers.js';
import { RedisServer } from './redis-server.js';
import type { ParleyClient } from '../harness/client/index.js';

async function barrier(c: ParleyClient): Promise<void> {
  const marker = `barrier-${Math.random()}`;
  c.say(c.nick, marker);
  await c.waitFor('MSG', (m) => m.text === marker);
}

test('cluster - two CONNECTs racing for one nick on two nodes: exactly one ACCEPT', async (t) => {
  const { ports } = await startCluster(t);
  for (let round = 0; round < 5; round++) {
    const [a, b] = await Promise.all([RawSocket.open(t, ports[0]!), RawSocket.open(t, ports[1]!)]);
    a.write(`CONNECT: "Racer${round}" "" 1.1.0\n`);
    b.write(`CONNECT: "racer${round}" "" 1.1.0\n`);
    const first = (l: string): boolean => l.startsWith('ACCEPT') || l.startsWith('ERROR');
    const answers = [await a.waitLine(first), await b.waitLine(first)];
    t.is(answers.filter((l) => l.startsWith('ACCEPT')).length, 1, answers.join(' | '));
    t.is(answers.filter((l) => l.startsWith('ERROR NICK_IN_USE')).length, 1, answers.join(' | '));
  }
});

test('cluster - USERLIST, USERJOIN and USERLEAVE span the nodes; one publish per chat message; a node with no member receives none', async (t) => {
  const { ports, servers } = await startCluster(t);
  const alice = await connectInLobby(t, ports[0]!, 'alice');
  const bob = await connectInLobby(t, ports[1]!, 'bob');
  const carl = await connectInLobby(t, ports[0]!, 'carl');
  const idle = await connectInLobby(t, ports[2]!, 'idle');
  t.deepEqual(await alice.join('#room'), ['alice']);
  t.deepEqual(await bob.join('#room'), ['alice', 'bob']);
  t.deepEqual(await alice.waitFor('USERJOIN', (m) => m.channel === '#room'), { type: 'USERJOIN', channel: '#room', nick: 'bob' });
  t.deepEqual(await carl.join('#ROOM'), ['alice', 'bob', 'carl']);
  t.is((await bob.waitFor('USERJOIN', (m) => m.channel === '#room')).nick, 'carl');
  const [n0, n2] = [servers[0]!.cluster.stats, servers[2]!.cluster.stats];
  const before = { published: n0.published, idleReceived: n2.channelReceived };
  const N = 100;
  for (let i = 0; i < N; i++) alice.say('#room', `m${i} ünï: ${'x'.repeat(i % 7)}`);
  for (let i = 0; i < N; i++) {
    const want = `m${i} ünï: ${'x'.repeat(i % 7)}`;
    t.is((await bob.waitFor('MSG', (m) => m.recipient === '#room')).text, want);
    t.is((await carl.waitFor('MSG', (m) => m.recipient === '#room')).text, want);
  }
  const published = n0.published - before.published;
  const idleReceived = n2.channelReceived - before.idleReceived;
  t.log(`bus publishes per chat message: ${published / N} (${published} for ${N}); channel messages received by the node with no member: ${idleReceived}`);
  t.is(published, N);
  t.is(idleReceived, 0);
  await barrier(bob);
  await barrier(carl);
  t.false(
    [...bob.inbox(), ...carl.inbox()].some((m) => m.type === 'MSG'),
    'exactly once',
  );
  t.false(idle.inbox().some((m) => m.type === 'MSG'));
  await bob.leave('#room');
  t.deepEqual(await alice.waitFor('USERLEAVE', (m) => m.channel === '#room'), { type: 'USERLEAVE', channel: '#room', nick: 'bob' });
  t.deepEqual(await carl.waitFor('USERLEAVE', (m) => m.channel === '#room'), { type: 'USERLEAVE', channel: '#room', nick: 'bob' });
});

test('cluster - DMs cross nodes; NO_SUCH_USER only for a nick on no node; server.send and broadcast reach every node', async (t) => {
  const { ports, servers } = await startCluster(t);
  const alice = await connectInLobby(t, ports[0]!, 'alice');
  const bob = await connectInLobby(t, ports[2]!, 'Bob');
  alice.say('BOB', 'psst');
  t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'alice', recipient: 'Bob', text: 'psst' });
  alice.say('nobody', 'hello?');
  t.is((await alice.waitFor('ERROR')).code, 'NO_SUCH_USER');
  await servers[1]!.send('bob', 'from node 1', { from: 'ops' });
  t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'ops', recipient: 'Bob', text: 'from node 1' });
  await t.throwsAsync(Promise.resolve(servers[1]!.send('nobody', 'x')), { message: /PARLEY_ERR_NO_SUCH_USER/ });
  servers[1]!.broadcast('to all', { from: 'ops' });
  t.is((await alice.waitFor('MSG')).text, 'to all');
  t.is((await bob.waitFor('MSG')).text, 'to all');
  servers[1]!.broadcast('to the lobby', { from: 'ops', channel: '#lobby' });
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'ops', recipient: '#lobby', text: 'to the lobby' });
});

test('cluster - a node closed gracefully: its clients get DISCONNECT, the others see USERLEAVE at once and the nicks are free', async (t) => {
  const { ports, servers } = await startCluster(t, {}, 3, 60_000);
  const alice = await connectInLobby(t, ports[0]!, 'alice');
  const raw = await RawSocket.open(t, ports[1]!);
  raw.write('CONNECT: "bob" "" 1.1.0\nJOIN: #x\n');
  await raw.waitLine((l) => l.startsWith('USERLIST #x'));
  await alice.join('#x');
  const started = Date.now();
  await servers[1]!.close();
  await raw.waitLine((l) => l === 'DISCONNECT: server shutting down');
  t.deepEqual((await alice.waitFor('USERLEAVE', (m) => m.nick === 'bob' && m.channel === '#x')).channel, '#x');
  await alice.waitFor('USERLEAVE', (m) => m.nick === 'bob' && m.channel === '#lobby');
  t.true(Date.now() - started < 10_000, 'long before the 60 s lease');
  const bob2 = await connectInLobby(t, ports[2]!, 'bob');
  t.deepEqual(await bob2.join('#x'), ['alice', 'bob']);
});

test('cluster - Redis stopped: local service goes on, new CONNECTs get UNAVAILABLE; restarted: sessions re-announced without duplicates or ghosts', async (t) => {
  const redis = await RedisServer.start(t);
  const { ports, servers } = await startClusterOn(t, redis.url, 'outage', 1500);
  const alice = await connectInLobby(t, ports[0]!, 'alice');
  const ann = await connectInLobby(t, ports[0]!, 'ann');
  const bob = await connectInLobby(t, ports[1]!, 'bob');
  const ghost = await connectInLobby(t, ports[1]!, 'ghost');
  await redis.stop();
  t.true(await until(() => !servers[0]!.cluster.available && !servers[1]!.cluster.available, 5000));
  // Local service continues.
  alice.say('#lobby', 'still here');
  t.is((await ann.waitFor('MSG', (m) => m.recipient === '#lobby')).text, 'still here');
  alice.say('ann', 'dm');
  t.is((await ann.waitFor('MSG', (m) => m.recipient === 'ann')).text, 'dm');
  // The nick cannot be checked: refused with a clear error, connection kept.
  const late = await RawSocket.open(t, ports[0]!);
  late.write('CONNECT: "late" "" 1.1.0\n');
  t.is(await late.waitLine((l) => l.startsWith('ERROR')), 'ERROR UNAVAILABLE: cluster unavailable, try again later');
  ghost.destroy(); // leaves while Redis is away
  await bob.waitFor('USERLEAVE', (m) => m.nick === 'ghost');
  await redis.restart();
  t.true(await until(() => servers[0]!.cluster.available && servers[1]!.cluster.available, 10_000), 'reconnected');
  // After the re-announce, a newcomer sees every member once and no ghost.
  let list: string[] = [];
  t.true(
    await until(() => {
      late.write('CONNECT: "late" "" 1.1.0\n');
      const u = late.lines.find((l) => l.startsWith('USERLIST #lobby'));
      if (u) list = u.slice('USERLIST #lobby: '.length).split(', ');
      return u !== undefined;
    }, 10_000),
    late.lines.join(' | '),
  );
  t.deepEqual([...list].sort(), ['alice', 'ann', 'bob', 'late']);
  t.is(new Set(list).size, list.length, 'no duplicates');
  // Cross-node traffic works again.
  alice.say('#lobby', 'back');
  t.is((await bob.waitFor('MSG', (m) => m.text === 'back')).sender, 'alice');
});

test('cluster - a node killed with SIGKILL: the others see its users leave within the lease, and their nicks are free', async (t) => {
  const redis = await RedisServer.start(t);
  const leaseMs = 1500;
  const { ports } = await startClusterOn(t, redis.url, 'kill', leaseMs);
  const main = join(__dirname, '..', 'cli', 'main.js');
  const child = spawn(
    process.execPath,
    [
      main,
      'serve',
      '--port',
      '0',
      '--plugins',
      'ping,channels,im',
      '--redis',
      redis.url,
      '--redis-prefix',
      'kill',
      '--redis-lease',
      String(leaseMs / 1000),
      '--node-id',
      'doomed',
      '--log-level',
      'silent',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.resume();
  t.true(await until(() => /listening on [\d.]+:\d+/.test(out), 10_000), out);
  const childPort = Number(/listening on [\d.]+:(\d+)/.exec(out)![1]);
  const alice = await connectInLobby(t, ports[0]!, 'alice');
  const victims = [await connectInLobby(t, childPort, 'victim1'), await connectInLobby(t, childPort, 'victim2')];
  await victims[0]!.join('#x');
  await alice.join('#x');
  for (const v of ['victim1', 'victim2']) await alice.waitFor('USERJOIN', (m) => m.nick === v && m.channel === '#lobby');
  const started = Date.now();
  child.kill('SIGKILL');
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const m = await alice.waitFor('USERLEAVE', undefined, 3 * leaseMs + 2000);
    seen.add(`${m.channel} ${m.nick}`);
  }
  const ms = Date.now() - started;
  t.log(`USERLEAVE of the killed node's users after ${ms} ms (lease ${leaseMs} ms)`);
  t.deepEqual([...seen].sort(), ['#lobby victim1', '#lobby victim2', '#x victim1']);
  // The bound: the lease, plus one heartbeat period to notice, plus slack for a loaded machine.
  t.true(ms <= 2 * leaseMs + 1000, `${ms} ms`);
  const again = await connectInLobby(t, ports[0]!, 'victim1');
  t.truthy(again);
  await barrier(alice);
  t.false(
    alice.inbox().some((m) => m.type === 'USERLEAVE'),
    'each USERLEAVE once',
  );
});

/** Two in-process nodes on a given Redis. */
async function startClusterOn(
  t: Parameters<typeof startCluster>[0],
  url: string,
  prefix: string,
  leaseMs: number,
): Promise<{ ports: number[]; servers: ParleyServer[] }> {
  const ports: number[] = [];
  const servers: ParleyServer[] = [];
  for (let i = 0; i < 2; i++) {
    const server = createServer({
      hostname: 'test.parley',
      logger: 'silent',
      plugins: textPlugins(),
      cluster: redisCluster({ url, prefix, nodeId: `live${i}`, leaseMs }),
    });
    t.teardown(() => server.close());
    ports.push((await server.listen({ port: 0 })).port);
    servers.push(server);
  }
  return { ports, servers };
}
