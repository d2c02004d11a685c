// The load harness end to end: every scenario at small N against an embedded
// server, with exact delivery accounting; a remote server's limits; aborting.
import test, { type ExecutionContext } from 'ava';
import { createServer, builtinPlugins } from '../../index.js';
import { formatReport, Harness, run, type LoadOptions } from './harness.js';
import type { LoadResult } from './report.js';

/** Short runs: exact counts do not need long ones. */
const SHORT: LoadOptions = { durationS: 0.6, warmupS: 0.2, drainS: 3 };

function exact(t: ExecutionContext, r: LoadResult): void {
  t.deepEqual(r.errors, {}, `errors: ${JSON.stringify(r.errors)}`);
  t.is(r.clientsReady, r.scenario === 'churn' ? 1 : r.clients);
  t.is(r.received, r.expected, 'every expected delivery arrived');
  t.is(r.lost, 0);
  t.is(r.duplicates, 0);
  t.is(r.outOfOrder, 0);
}

function voiceExact(t: ExecutionContext, r: LoadResult): void {
  const v = r.voice;
  if (!v) return void t.fail('no voice result');
  t.true(v.framesExpected > 0, 'frames were expected');
  t.is(v.framesReceived, v.framesExpected, 'every expected frame arrived');
  t.is(v.framesLost, 0);
  t.is(v.duplicates, 0);
  t.is(v.outOfOrder, 0);
  t.true(v.latencyMs.count === v.framesReceived);
}

/** The relay's frames add up, and match what the clients sent: every datagram in is accounted for. */
function relayAddsUp(t: ExecutionContext, r: LoadResult): void {
  const v = r.voice!;
  const rl = v.relay!;
  t.is(rl.framesIn, rl.framesForwarded + rl.framesBinding + rl.framesNoPeer + rl.dropped, `relay: ${JSON.stringify(rl)}`);
  t.is(rl.framesBinding, v.bindingSent!, 'every binding frame sent is counted as one');
  t.is(rl.framesIn, v.framesSentAll! + v.bindingSent!, 'every datagram the clients sent reached the relay');
  t.true(rl.framesBinding > 0);
}

test.serial('chat - every member receives every measured message of every sender, once and in order', async (t) => {
  const r = await run({ ...SHORT, scenario: 'chat', clients: 12, senders: 3, rate: 300 });
  exact(t, r);
  t.is(r.senders, 3);
  t.true(r.sent > 0);
  t.is(r.expected, r.sent * 11, 'each message goes to the other 11 members');
  t.is(r.latencyMs.count, r.received);
  t.is(r.target.kind, 'embedded');
  t.regex(r.target.tuning ?? '', /no rate limit, no per-IP limit/);
});

test.serial('chat - open loop keeps each sender within its window and loses nothing', async (t) => {
  const r = await run({ ...SHORT, scenario: 'chat', clients: 8, senders: 2, rate: 0, window: 5 });
  exact(t, r);
  t.true(r.sent > 100, `open loop sent ${r.sent}`);
  t.is(r.expected, r.sent * 7);
});

test.serial('chat - an embedded server on the main thread works the same', async (t) => {
  const r = await run({ ...SHORT, scenario: 'chat', clients: 6, senders: 2, rate: 200, embedded: { thread: 'main' } });
  exact(t, r);
  t.is(r.server?.source, 'in-process');
  t.true(r.server?.cpuIncludesHarness);
});

test.serial('chat and dm over WebSocket (--transport ws) - every message arrives exactly once, through /parley of the same port', async (t) => {
  const server = createServer({ logger: 'silent', plugins: builtinPlugins(['ping', 'channels', 'im']) });
  t.teardown(() => server.close());
  const { host, port } = await server.listen({ port: 0 });
  let overWs = 0;
  server.events$.subscribe((e) => e.type === 'connected' && server.sessions.byNick(e.nick)?.binary === true && overWs++);
  const chat = await run({ ...SHORT, scenario: 'chat', clients: 6, senders: 2, rate: 200, transport: 'ws', target: { host, port } });
  exact(t, chat);
  t.is(chat.transport, 'ws');
  t.is(overWs, 6, 'every client came over WebSocket');
  t.true(chat.received > 0);
  const dm = await run({ ...SHORT, scenario: 'dm', clients: 6, rate: 300, transport: 'ws', embedded: { thread: 'main' } });
  exact(t, dm);
  t.true(dm.received > 0);
});

test.serial('dm - every message reaches the partner exactly once', async (t) => {
  const r = await run({ ...SHORT, scenario: 'dm', clients: 10, rate: 500 });
  exact(t, r);
  t.is(r.senders, 10, 'every client sends by default');
  t.is(r.expected, r.sent);
});

test.serial('voice - both parties of each call receive every measured frame of the other', async (t) => {
  const r = await run({ ...SHORT, scenario: 'voice', clients: 6 });
  exact(t, r);
  t.is(r.talkers, 6);
  voiceExact(t, r);
  t.is(r.voice!.framesExpected, r.voice!.framesSent, 'a frame reaches the one peer');
  t.true(r.voice!.relay!.framesRelayed >= r.voice!.framesReceived);
  t.is(r.voice!.relay!.dropped, 0);
  relayAddsUp(t, r);
  // One peer per frame: the frames relayed are the datagrams sent.
  t.is(r.voice!.relay!.framesRelayed, r.voice!.relay!.framesForwarded);
  t.regex(formatReport(r), /Relay \(whole run\): [\d,]+ in, [\d,]+ relayed, 0 dropped, [\d,]+ binding/);
});

test.serial('group-voice - every frame reaches the other members of its group', async (t) => {
  const r = await run({ ...SHORT, scenario: 'group-voice', clients: 7, groupSize: 3 });
  exact(t, r);
  voiceExact(t, r);
  // Groups of 3, 3 and 1: the lone member's frames reach nobody.
  t.true(r.voice!.framesExpected < r.voice!.framesSent * 2);
  t.true(r.voice!.framesExpected > r.voice!.framesSent);
  relayAddsUp(t, r);
  t.true(r.voice!.relay!.framesNoPeer > 0, 'the lone member talks to nobody');
});

test.serial('mixed - chat, dm and voice populations all deliver exactly', async (t) => {
  const r = await run({ ...SHORT, scenario: 'mixed', clients: 20, senders: 2, rate: 300, mix: { chat: 50, dm: 30, voice: 20 } });
  exact(t, r);
  voiceExact(t, r);
  // 10 chat clients (2 senders), 6 dm clients (all send), 4 voice clients.
  t.is(r.senders, 2 + 6);
  t.is(r.talkers, 4);
});

test.serial('churn - every completed cycle reaches the observer as one USERJOIN and one USERLEAVE', async (t) => {
  const r = await run({ ...SHORT, scenario: 'churn', clients: 4, rate: 100 });
  exact(t, r);
  t.true(r.churn!.cycles > 10, `${r.churn!.cycles} cycles`);
  t.is(r.churn!.failed, 0);
  t.true(r.expected >= 2 * r.churn!.cycles);
  t.is(r.churn!.cycleMs.count, r.churn!.cycles);
});

test.serial('remote - refused connections are counted with the reason and the limit to raise', async (t) => {
  const server = createServer({ plugins: builtinPlugins(['ping', 'channels', 'im']), limits: { maxConnectionsPerIp: 4, closeGraceMs: 200 }, logger: 'silent' });
  t.teardown(async () => {
    // The server never reads a refused socket, so it waits out closeGraceMs on an
    // unref'd timer before close() resolves: hold the event loop open meanwhile.
    const hold = setInterval(() => {}, 50);
    await server.close();
    clearInterval(hold);
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const r = await run({ ...SHORT, target: { host: '127.0.0.1', port }, scenario: 'chat', clients: 6, senders: 1, rate: 50 });
  t.is(r.target.kind, 'remote');
  t.is(r.clientsReady, 4);
  t.is(r.errors.REFUSED, 2);
  t.is(r.disconnects['too many connections from your address'], 2);
  t.true(r.hints.some((h) => h.includes('--max-per-ip')));
  t.is(r.received, r.expected, 'the clients that got in still receive everything');
  t.is(r.expected, r.sent * 3);
});

test.serial('remote - the server default channel is left, so only the scenario channel fans out', async (t) => {
  const server = createServer({ plugins: builtinPlugins(['ping', 'channels', 'im']), limits: { maxConnectionsPerIp: 0 }, logger: 'silent' });
  t.teardown(() => server.close());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const r = await run({ ...SHORT, target: { host: '127.0.0.1', port }, scenario: 'chat', clients: 5, senders: 1, rate: 50 });
  exact(t, r);
  t.is(r.expected, r.sent * 4);
});

test.serial('Harness - emits start, a tick a second and done; aborting ends the measured window early', async (t) => {
  const abort = new AbortController();
  const h = new Harness({ scenario: 'chat', clients: 4, senders: 1, rate: 100, durationS: 30, warmupS: 0, signal: abort.signal });
  const events: string[] = [];
  h.on('start', (s) => events.push(`start ${s.scenario}`));
  h.on('tick', (tk) => {
    events.push(`tick ${tk.phase}`);
    if (tk.phase === 'measure') abort.abort();
  });
  let done: LoadResult | undefined;
  h.on('done', (r) => (done = r));
  const r = await h.run();
  t.is(events[0], 'start chat');
  t.true(events.includes('tick measure'));
  t.is(done, r);
  t.true(r.durationS < 5, `measured ${r.durationS} s`);
  exact(t, r);
  await t.throwsAsync(() => h.run(), { message: /runs once/ });
});

test('Harness - rejects bad options at construction', (t) => {
  t.throws(() => new Harness({ clients: 0 }), { instanceOf: RangeError });
  t.throws(() => new Harness({ scenario: 'voice', clients: 1 }), { message: /at least 2 clients/ });
  t.throws(() => new Harness({ mix: { chat: 0, dm: 0, voice: 0 } }), { message: /mix/ });
});
