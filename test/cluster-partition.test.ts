// A partition: one node loses Redis (its connection runs through a TCP relay
// the test cuts) while the other keeps it.
import test, { type ExecutionContext } from 'ava';
import * as net from 'node:net';
import { createServer, redisCluster, type ParleyServer } from '../index.js';
import { connectInLobby, RawSocket, textPlugins, until } from './helpers.js';
import { RedisServer } from './redis-server.js';

/** A TCP relay to `port` that can be cut (every connection dropped, new ones refused) and restored. */
async function cuttableRelay(t: ExecutionContext, port: number): Promise<{ port: number; cut(): void; restore(): void }> {
  let open = true;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = net.connect({ port, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      open = true;
    },
  };
}

test('cluster - a node partitioned from Redis serves its own clients and refuses CONNECT; restored, it re-announces with no duplicates and no ghosts', async (t) => {
  const redis = await RedisServer.start(t);
  const relay = await cuttableRelay(t, redis.port);
  const urls = [`redis://127.0.0.1:${relay.port}`, redis.url];
  const servers: ParleyServer[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const server = createServer({
      hostname: 'test.parley',
      logger: 'silent',
      plugins: textPlugins(),
      cluster: redisCluster({ url: urls[i]!, prefix: 'part', nodeId: `n${i}`, leaseMs: 1500 }),
    });
    t.teardown(() => server.close());
    ports.push((await server.listen({ port: 0 })).port);
    servers.push(server);
  }
  const [a, b] = servers as [ParleyServer, ParleyServer];
  const alice = await connectInLobby(t, ports[0]!, 'alice');
  const ann = await connectInLobby(t, ports[0]!, 'ann');
  const bob = await connectInLobby(t, ports[1]!, 'bob');

  relay.cut();
  t.true(await until(() => !a.cluster.available, 5000), 'node 0 sees Redis gone');
  t.true(b.cluster.available, 'node 1 still has Redis');
  // Node 0 goes on serving its own clients: channel messages and DMs.
  alice.say('#lobby', 'cut off');
  t.is((await ann.waitFor('MSG', (m) => m.recipient === '#lobby')).text, 'cut off');
  alice.say('ann', 'still here');
  t.is((await ann.waitFor('MSG', (m) => m.recipient === 'ann')).text, 'still here');
  // A new CONNECT there cannot have its nick checked: the documented error, connection kept.
  const late = await RawSocket.open(t, ports[0]!);
  late.write('CONNECT: "late" "" 1.1.0\n');
  t.is(await late.waitLine((l) => l.startsWith('ERROR')), 'ERROR UNAVAILABLE: cluster unavailable, try again later');
  // Node 1 reaps node 0 once its lease runs out: its users leave for the rest of the cluster.
  await bob.waitFor('USERLEAVE', (m) => m.nick === 'alice', 10_000);
  await bob.waitFor('USERLEAVE', (m) => m.nick === 'ann', 10_000);
  // Meanwhile ann leaves on the cut-off node (a ghost if re-announced) and carol arrives on node 1.
  ann.destroy();
  t.true(await until(() => a.sessions.byNick('ann') === undefined));
  const carol = await connectInLobby(t, ports[1]!, 'carol');

  relay.restore();
  t.true(await until(() => a.cluster.available, 10_000), 'node 0 reconnected');
  // The re-announce brings alice back to the others, once.
  await bob.waitFor('USERJOIN', (m) => m.nick === 'alice' && m.channel === '#lobby', 10_000);
  // A newcomer on either node sees every member once and no ghost.
  const want = ['alice', 'bob', 'carol'];
  for (const [i, nick] of [
    [0, 'late2'],
    [1, 'late3'],
  ] as const) {
    const c = await connectInLobby(t, ports[i]!, nick);
    want.push(nick);
    const lobby = (await c.join('#lobby')) as string[];
    t.deepEqual([...lobby].sort(), [...want].sort(), `USERLIST #lobby on node ${i}`);
  }
  t.false(
    bob.inbox().some((m) => m.type === 'USERJOIN' && m.nick === 'ann'),
    'ann, who left during the cut, never comes back',
  );
  t.is(bob.inbox().filter((m) => m.type === 'USERJOIN' && m.nick === 'alice').length, 0, 'alice rejoined exactly once');
  // Cross-node traffic is back, both ways.
  alice.say('#lobby', 'back');
  t.is((await carol.waitFor('MSG', (m) => m.text === 'back')).sender, 'alice');
  bob.say('alice', 'welcome back');
  t.is((await alice.waitFor('MSG', (m) => m.text === 'welcome back')).sender, 'bob');
  // The nick of a user who left during the cut is free cluster-wide.
  const ann2 = await connectInLobby(t, ports[1]!, 'ann');
  t.is(ann2.nick, 'ann');
});
