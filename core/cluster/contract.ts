/**
 * The conformance suite every cluster implementation passes (socket.io
 * redis-adapter's `test/index.ts` is the model): N nodes of one cluster,
 * sessions without sockets, every cross-node promise of the seam.
 * @example clusterContract(test, 'memory', async (t, n) => ...)
 */
import type { ExecutionContext, TestFn } from 'ava';
import { SessionRegistry } from '../session-registry.js';
import { Session } from '../session.js';
import { MemoryTransport } from '../test-transport.js';
import { createLogger } from '../logger.js';
import type { Cluster, ClusterFactory } from './types.js';

/** What a suite run needs of an implementation. */
export interface ContractCluster {
  /** Factories of `n` nodes of one (fresh, empty) cluster. */
  factories: ClusterFactory[];
  /** Upper bound for a vanished node's users to vanish everywhere, in ms. */
  leaseMs: number;
}

/** One node under test: its cluster and its sessions. */
class Node {
  readonly sessions = new SessionRegistry();
  readonly cluster: Cluster;
  #id = 1;
  constructor(factory: ClusterFactory) {
    this.cluster = factory({ sessions: this.sessions, log: createLogger('silent'), maxLineBytes: 8192 });
  }
  /** A connected session with `nick` (claimed through the cluster). */
  async connect(t: ExecutionContext, nick: string): Promise<{ session: Session; lines: string[] }> {
    t.is(await this.cluster.claimNick(nick), 'ok', `claim ${nick}`);
    const transport = new MemoryTransport();
    const session = new Session(this.#id++, transport, 8192);
    session.nick = nick;
    session.state = 'connected';
    this.sessions.add(session);
    this.sessions.claimNick(session, nick);
    return { session, lines: transport.lines };
  }
  disconnect(session: Session): void {
    for (const ch of [...this.cluster.channelsOf(session)]) this.cluster.leave(session, ch.name);
    session.state = 'closed';
    this.sessions.remove(session);
    this.cluster.releaseNick(session.nick);
  }
}

async function eventually(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Registers the suite's tests.
 * @param test ava's `test`
 * @param name shown in each title
 * @param make builds a fresh cluster of `n` nodes for one test
 */
export function clusterContract(test: TestFn, name: string, make: (t: ExecutionContext, n: number) => Promise<ContractCluster>): void {
  async function nodes(t: ExecutionContext, n: number): Promise<{ nodes: Node[]; leaseMs: number }> {
    const c = await make(t, n);
    const list = c.factories.map((f) => new Node(f));
    for (const node of list) await node.cluster.start();
    t.teardown(async () => {
      for (const node of list) await node.cluster.stop();
    });
    return { nodes: list, leaseMs: c.leaseMs };
  }

  test(`${name} cluster - a nick is claimed once cluster-wide, case-insensitively, and freed by its holder`, async (t) => {
    const {
      nodes: [a, b],
    } = await nodes(t, 2);
    t.is(await a!.cluster.claimNick('Alice'), 'ok');
    t.is(await b!.cluster.claimNick('aLICE'), 'taken');
    t.is(await a!.cluster.claimNick('alice'), 'taken');
    t.is(await b!.cluster.ownerOf('ALICE'), a!.cluster.nodeId);
    b!.cluster.releaseNick('alice'); // not its holder: nothing happens
    t.is(await b!.cluster.claimNick('alice'), 'taken');
    a!.cluster.releaseNick('alice');
    t.true(await eventually(async () => (await a!.cluster.ownerOf('alice')) === undefined, 2000));
    t.is(await b!.cluster.claimNick('ALICE'), 'ok');
    t.is(await a!.cluster.ownerOf('alice'), b!.cluster.nodeId);
  });

  test(`${name} cluster - claims racing on three nodes for one nick: exactly one wins`, async (t) => {
    const { nodes: list } = await nodes(t, 3);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(list.map((n) => n.cluster.claimNick(`racer${round}`)));
      t.is(results.filter((r) => r === 'ok').length, 1, results.join());
      t.is(results.filter((r) => r === 'taken').length, 2);
    }
  });

  test(`${name} cluster - membership is global: creator's spelling, members of every node in join order, empty channels vanish`, async (t) => {
    const {
      nodes: [a, b, c],
    } = await nodes(t, 3);
    const alice = await a!.connect(t, 'alice');
    const bob = await b!.connect(t, 'bob');
    const carol = await c!.connect(t, 'carol');
    const r1 = await a!.cluster.join(alice.session, '#Dev');
    t.deepEqual([r1.channel, r1.already], ['#Dev', false]);
    const r2 = await b!.cluster.join(bob.session, '#DEV');
    t.deepEqual([r2.channel, r2.already], ['#Dev', false]);
    r2.userlist.writeTo(bob.session);
    t.deepEqual(bob.lines, ['USERLIST #Dev: alice, bob']);
    t.is((await b!.cluster.join(bob.session, '#dev')).already, true);
    t.deepEqual([...(await c!.cluster.nodesOf('#dev'))].sort(), [a!.cluster.nodeId, b!.cluster.nodeId].sort());
    t.true(b!.cluster.isMember(bob.session, '#dEv'));
    t.is(c!.cluster.channel('#dev'), undefined, 'no local member on c');
    t.is(a!.cluster.leave(alice.session, '#dev'), '#Dev');
    t.is(a!.cluster.leave(alice.session, '#dev'), undefined);
    t.is(b!.cluster.leave(bob.session, '#DEV'), '#Dev');
    // Empty everywhere: the next JOIN creates it anew, in the joiner's spelling.
    t.true(await eventually(async () => (await c!.cluster.nodesOf('#dev')).length === 0, 2000));
    const r3 = await c!.cluster.join(carol.session, '#dEV');
    t.is(r3.channel, '#dEV');
  });

  test(`${name} cluster - a channel line reaches every member on every node once, in order, with one publish; a node without members receives none`, async (t) => {
    const {
      nodes: [a, b, c],
    } = await nodes(t, 3);
    const alice = await a!.connect(t, 'alice');
    const ann = await a!.connect(t, 'ann');
    const bob = await b!.connect(t, 'bob');
    const carol = await c!.connect(t, 'carol');
    for (const [n, s] of [
      [a, alice],
      [a, ann],
      [b, bob],
    ] as const)
      await n!.cluster.join(s.session, '#room');
    await c!.cluster.join(carol.session, '#elsewhere');
    const before = { published: a!.cluster.stats.published, c: c!.cluster.stats.channelReceived };
    const N = 50;
    for (let i = 0; i < N; i++) a!.cluster.toChannel('#room', Buffer.from(`MSG alice #room: ${i}\n`), alice.session);
    const want = Array.from({ length: N }, (_, i) => `MSG alice #room: ${i}`);
    t.true(await eventually(() => bob.lines.length >= N, 5000), `bob got ${bob.lines.length}`);
    // A barrier: a line c does see, sent after the others on the same path.
    a!.cluster.toChannel('#elsewhere', Buffer.from('MSG alice #elsewhere: end\n'));
    t.true(await eventually(() => carol.lines.length === 1, 5000));
    t.deepEqual(bob.lines, want);
    t.deepEqual(ann.lines, want);
    t.deepEqual(alice.lines, [], 'the sender is excluded');
    t.deepEqual(carol.lines, ['MSG alice #elsewhere: end']);
    t.is(a!.cluster.stats.published - before.published, N + 1, 'one publish per line');
    t.is(c!.cluster.stats.channelReceived - before.c, 1, 'c received only #elsewhere');
    t.is(c!.cluster.stats.subscriptions >= 0, true);
  });

  test(`${name} cluster - direct messages reach the user's node only; an unknown nick is nobody's`, async (t) => {
    const {
      nodes: [a, b, c],
    } = await nodes(t, 3);
    await a!.connect(t, 'alice');
    const bob = await b!.connect(t, 'Bob');
    const cBefore = c!.cluster.stats.received;
    t.true(await a!.cluster.sendMessage('alice', 'BOB', 'psst'));
    t.true(await eventually(() => bob.lines.length === 1, 5000));
    t.deepEqual(bob.lines, ['MSG alice Bob: psst']);
    t.false(await a!.cluster.sendMessage('alice', 'nobody', 'hello?'));
    t.is(c!.cluster.stats.received, cBefore, 'c received nothing');
  });

  test(`${name} cluster - broadcasts and node messages reach other nodes`, async (t) => {
    const {
      nodes: [a, b],
    } = await nodes(t, 2);
    const alice = await a!.connect(t, 'alice');
    const bob = await b!.connect(t, 'bob');
    const got: [unknown, string][] = [];
    b!.cluster.onNode('test', (data, from) => got.push([data, from]));
    t.is(a!.cluster.broadcastAll('server', 'hello all'), 1);
    a!.cluster.toNode(b!.cluster.nodeId, 'test', { n: 1, s: 'x' });
    t.true(await eventually(() => bob.lines.length === 1 && got.length === 1, 5000));
    t.deepEqual(alice.lines, ['MSG server alice: hello all']);
    t.deepEqual(bob.lines, ['MSG server bob: hello all']);
    t.deepEqual(got, [[{ n: 1, s: 'x' }, a!.cluster.nodeId]]);
  });

  test(`${name} cluster - a node that vanishes loses its users everywhere within the lease: USERLEAVE, nicks free`, async (t) => {
    const {
      nodes: [a, b],
      leaseMs,
    } = await nodes(t, 2);
    const alice = await a!.connect(t, 'alice');
    const bob = await b!.connect(t, 'bob');
    await a!.cluster.join(alice.session, '#x');
    await b!.cluster.join(bob.session, '#x');
    const gone: string[] = [];
    a!.cluster.onRemoteLeave((l) => gone.push(`${l.channel} ${l.nick} ${l.node}`));
    const started = Date.now();
    (b!.cluster as Cluster & { abandon(): void }).abandon();
    t.true(await eventually(() => alice.lines.includes('USERLEAVE #x: bob'), leaseMs * 3), alice.lines.join('|'));
    t.log(`${name}: USERLEAVE after ${Date.now() - started} ms (lease ${leaseMs} ms)`);
    t.deepEqual(gone, [`#x bob ${b!.cluster.nodeId}`]);
    t.is(await a!.cluster.claimNick('bob'), 'ok');
    const r = await a!.cluster.join(alice.session, '#x');
    r.userlist.writeTo(alice.session);
    t.is(alice.lines.at(-1), 'USERLIST #x: alice');
  });

  test(`${name} cluster - a node that leaves gracefully loses its users everywhere at once`, async (t) => {
    const {
      nodes: [a, b],
      leaseMs,
    } = await nodes(t, 2);
    const alice = await a!.connect(t, 'alice');
    const bob = await b!.connect(t, 'bob');
    await a!.cluster.join(alice.session, '#x');
    await b!.cluster.join(bob.session, '#x');
    const started = Date.now();
    await b!.cluster.stop();
    t.true(await eventually(() => alice.lines.includes('USERLEAVE #x: bob'), 2000));
    t.true(Date.now() - started < Math.max(2000, leaseMs), 'before any lease expiry');
    t.is(await a!.cluster.claimNick('bob'), 'ok');
  });

  test(`${name} cluster - a disconnecting user leaves every channel and frees the nick`, async (t) => {
    const {
      nodes: [a, b],
    } = await nodes(t, 2);
    const alice = await a!.connect(t, 'alice');
    const bob = await b!.connect(t, 'bob');
    await a!.cluster.join(alice.session, '#x');
    await b!.cluster.join(bob.session, '#x');
    b!.disconnect(bob.session);
    t.true(await eventually(async () => (await a!.cluster.ownerOf('bob')) === undefined, 2000));
    t.deepEqual(await a!.cluster.nodesOf('#x'), [a!.cluster.nodeId]);
    t.is(b!.cluster.channelsOf(bob.session).size, 0);
  });

  test(`${name} cluster - what a node advertises is readable on every node while it lives; its end reaches every other node once`, async (t) => {
    const {
      nodes: [a, b, c],
      leaseMs,
    } = await nodes(t, 3);
    await b!.cluster.advertise('voip.link', '127.0.0.1:4242');
    t.is(await a!.cluster.nodeInfo(b!.cluster.nodeId, 'voip.link'), '127.0.0.1:4242');
    t.is(await b!.cluster.nodeInfo(b!.cluster.nodeId, 'voip.link'), '127.0.0.1:4242');
    t.is(await a!.cluster.nodeInfo(b!.cluster.nodeId, 'other'), undefined);
    t.is(await a!.cluster.nodeInfo('no-such-node', 'voip.link'), undefined);
    const seen: string[] = [];
    a!.cluster.onNodeGone((n) => seen.push(`a ${n}`));
    c!.cluster.onNodeGone((n) => seen.push(`c ${n}`));
    // A node without any channel member is reported too.
    (b!.cluster as Cluster & { abandon(): void }).abandon();
    t.true(await eventually(() => seen.length === 2, leaseMs * 3), seen.join('|'));
    t.deepEqual(seen.sort(), [`a ${b!.cluster.nodeId}`, `c ${b!.cluster.nodeId}`]);
    t.is(await a!.cluster.nodeInfo(b!.cluster.nodeId, 'voip.link'), undefined);
    await c!.cluster.stop();
    t.true(await eventually(() => seen.length === 3, 2000), seen.join('|'));
    t.is(seen[2], `a ${c!.cluster.nodeId}`);
  });
}
