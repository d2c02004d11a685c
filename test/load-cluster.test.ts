// parley load against a 2-node cluster: clients spread round robin, every delivery exact.
import test from 'ava';
import { run } from '../harness/load/harness.js';
import { loadOptionsFrom } from '../cli/load.js';
import { startCluster } from './helpers.js';

test('parley load --target with two nodes spreads clients round robin, and chat and DMs across nodes arrive exactly', async (t) => {
  const { servers, ports } = await startCluster(t, {}, 2);
  const perNode = servers.map(() => 0);
  for (const [i, s] of servers.entries()) {
    s.events$.subscribe((e) => {
      if (e.type === 'connected') perNode[i]!++;
    });
  }
  const target = ports.map((port) => ({ host: '127.0.0.1', port }));
  for (const scenario of ['chat', 'dm'] as const) {
    perNode.fill(0);
    const r = await run({ target, scenario, clients: 6, senders: 2, rate: 40, durationS: 0.6, warmupS: 0.2, drainS: 3 });
    t.deepEqual(r.errors, {}, scenario);
    t.is(r.clientsReady, 6);
    t.true(r.expected > 0);
    t.is(r.received, r.expected, `${scenario}: every expected delivery arrived`);
    t.is(r.lost + r.duplicates + r.outOfOrder, 0);
    t.deepEqual(perNode, [3, 3], `${scenario}: three clients on each node`);
    t.deepEqual(
      r.target.nodes?.map((n) => n.port),
      ports,
    );
  }
});

test('parley load parses --target as a comma-separated list of nodes', (t) => {
  t.deepEqual(loadOptionsFrom(['--target', '127.0.0.1:7001,127.0.0.1:7002']).options.target, [
    { host: '127.0.0.1', port: 7001 },
    { host: '127.0.0.1', port: 7002 },
  ]);
  t.like(loadOptionsFrom(['--target', '127.0.0.1:7001']).options.target, { host: '127.0.0.1', port: 7001 });
  t.throws(() => loadOptionsFrom(['--target', '127.0.0.1:7001,127.0.0.1:7002', '--udp-port', '9']), { message: /single --target/ });
});
