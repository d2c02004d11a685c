// The embedding API end to end: several servers per process, close, events, send,
// broadcast, dispatch and the authentication hook.
import test from 'ava';
import { ParleyError, type AuthRequest, type ServerEvent, type PluginEvent } from '../index.js';
import { ParleyClient } from '../harness/client/index.js';
import { connect, connectInLobby, openClient, sleep, startServer, textPlugins, within } from './helpers.js';

test('embedding - two servers in one process share nothing', async (t) => {
  const one = await startServer(t, { hostname: 'one' });
  const two = await startServer(t, { hostname: 'two' });
  t.not(one.port, two.port);
  const a1 = await connectInLobby(t, one.port, 'alice');
  const a2 = await connectInLobby(t, two.port, 'alice'); // the same nick on both
  const b1 = await connectInLobby(t, one.port, 'bob');
  await a1.join('#shared');
  t.deepEqual(await a2.join('#shared'), ['alice'], 'channels are per server');
  t.deepEqual(await b1.join('#shared'), ['alice', 'bob']);
  a1.say('#shared', 'on one');
  t.is((await b1.waitFor('MSG')).text, 'on one');
  a2.say('bob', 'anyone called bob on two?');
  t.is((await a2.waitForError()).code, 'NO_SUCH_USER');
  t.is(one.server.connectionCount, 2);
  t.is(two.server.connectionCount, 1);
  t.not(one.server.container, two.server.container);
  await one.server.close();
  t.is(await a1.done, 'server shutting down');
  a2.say('alice', 'two still serves');
  t.is((await a2.waitFor('MSG')).text, 'two still serves');
});

test('embedding - close() sends `DISCONNECT: server shutting down` to every client and resolves once sockets closed', async (t) => {
  const { server, port } = await startServer(t);
  const clients = await Promise.all(['a', 'b', 'c'].map((n) => connect(t, port, n)));
  const handshaking = await openClient(t, port);
  await within(server.close(), 5000, 'close');
  t.is(server.connectionCount, 0);
  const reasons = await within(Promise.all([...clients, handshaking].map((c) => c.done)), 2000, 'client sockets closing');
  t.deepEqual(reasons, ['server shutting down', 'server shutting down', 'server shutting down', 'server shutting down']);
  await server.close(); // idempotent
  await t.throwsAsync(server.listen({ port: 0 }), { instanceOf: ParleyError, message: /PARLEY_ERR_CLOSED/ });
  await t.throwsAsync(ParleyClient.connect({ port, nick: 'late', timeoutMs: 1000 }), { message: /CLOSED/ });
});

test('embedding - events$ reports connected, joined, message, left and closed', async (t) => {
  const { server, port } = await startServer(t);
  const events: string[] = [];
  server.events$.subscribe((e: ServerEvent | PluginEvent) => {
    switch (e.type) {
      case 'connected':
        return events.push(`connected ${e.nick} ${e.session.nick}`);
      case 'joined':
        return events.push(`joined ${e.nick} ${e.channel}`);
      case 'left':
        return events.push(`left ${e.nick} ${e.channel} (${e.reason})`);
      case 'message':
        return events.push(`message ${e.from} -> ${e.to}: ${e.text}`);
      case 'closed':
        return events.push(`closed ${e.nick} (${e.reason})`);
    }
  });
  const alice = await connectInLobby(t, port, 'alice');
  await alice.join('#dev');
  alice.say('#dev', 'hello');
  alice.say('alice', 'note to self');
  await alice.waitFor('MSG');
  await alice.leave('#dev');
  await alice.close();
  t.deepEqual(events, [
    'connected alice alice',
    'joined alice #lobby',
    'joined alice #dev',
    'message alice -> #dev: hello',
    'message alice -> alice: note to self',
    'left alice #dev (left)',
    'left alice #lobby (quit)',
    'closed alice (quit)',
  ]);
});

test('embedding - send and broadcast speak as the hostname or as a named system user', async (t) => {
  const { server, port } = await startServer(t, { hostname: 'chat.example.org' });
  const alice = await connectInLobby(t, port, 'alice');
  const bob = await connectInLobby(t, port, 'bob');
  await alice.join('#ops');
  server.send('ALICE', 'just for you');
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'chat.example.org', recipient: 'alice', text: 'just for you' });
  t.is(server.broadcast('to everyone', { from: 'system' }), 2);
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'system', recipient: 'alice', text: 'to everyone' });
  t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'system', recipient: 'bob', text: 'to everyone' });
  t.is(server.broadcast('ops only', { channel: '#OPS', from: 'ops-bot' }), 1);
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'ops-bot', recipient: '#ops', text: 'ops only' });
  t.is(server.broadcast('nobody', { channel: '#empty' }), 0);
  t.is(t.throws(() => server.send('ghost', 'x'), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_NO_SUCH_USER');
  t.is(t.throws(() => server.send('alice', 'x', { from: 'two words' }), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
  bob.say('bob', 'barrier');
  await bob.waitFor('MSG', (m) => m.text === 'barrier');
  t.false(
    bob.inbox().some((m) => m.type === 'MSG'),
    'bob is not in #ops',
  );
});

test('embedding - dispatch runs a command as if the user had sent it', async (t) => {
  const { server, port } = await startServer(t);
  const alice = await connectInLobby(t, port, 'alice');
  await connectInLobby(t, port, 'bob'); // the session dispatch acts for
  server.dispatch('alice', { verb: 'JOIN', channel: '#ops' });
  t.deepEqual(await alice.waitFor('JOINED', (m) => m.channel === '#ops'), { type: 'JOINED', channel: '#ops' });
  server.dispatch('bob', 'JOIN: #ops');
  t.deepEqual(await alice.waitFor('USERJOIN', (m) => m.channel === '#ops'), { type: 'USERJOIN', channel: '#ops', nick: 'bob' });
  server.dispatch('bob', { verb: 'MSG', target: '#ops', text: 'sent for bob' });
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'bob', recipient: '#ops', text: 'sent for bob' });
  // Errors go to the user the command ran as.
  server.dispatch('alice', 'MSG ghost: boo');
  t.is((await alice.waitForError()).code, 'NO_SUCH_USER');
  t.is(t.throws(() => server.dispatch('ghost', 'MSG alice: x'), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_NO_SUCH_USER');
});

test('embedding - the authentication hook gets the token and may accept, refuse or throw', async (t) => {
  const seen: AuthRequest[] = [];
  const { port } = await startServer(t, {
    authenticate: (req) => {
      seen.push(req);
      if (req.token === 'boom') throw new Error('hook failure');
      return req.token === `secret-${req.nick}`;
    },
  });
  const c = await openClient(t, port);
  await t.throwsAsync(c.hello('alice', 'A', '1.0.0', 'wrong'), { message: /^AUTH_FAILED/ });
  await t.throwsAsync(c.hello('alice', 'A', '1.0.0'), { message: /^AUTH_FAILED/ });
  await t.throwsAsync(c.hello('alice', 'A', '1.0.0', 'boom'), { message: /^AUTH_FAILED/ });
  t.is(await c.hello('alice', 'A', '1.2.3', 'secret-alice'), 'test.parley');
  t.deepEqual(
    seen.map((r) => r.token),
    ['wrong', undefined, 'boom', 'secret-alice'],
  );
  t.like(seen[3], { nick: 'alice', realname: 'A', version: '1.2.3', remoteAddress: '127.0.0.1' });
});

test('embedding - an async authentication hook holds the connection lines until it answers', async (t) => {
  const { port } = await startServer(t, {
    plugins: textPlugins(),
    authenticate: async (req) => {
      await sleep(100);
      if (req.token === 'reject') throw new Error('async refusal');
      return req.token === 'ok';
    },
  });
  const c = await openClient(t, port);
  await t.throwsAsync(c.hello('alice', '', '1.0.0', 'nope'), { message: /^AUTH_FAILED/ });
  await t.throwsAsync(c.hello('alice', '', '1.0.0', 'reject'), { message: /^AUTH_FAILED/ });
  // A command right behind CONNECT runs after the hook accepted.
  c.sendRaw('CONNECT: "alice" "" 1.0.0 ok\nJOIN: #after\n');
  t.is((await c.waitFor('ACCEPT')).hostname, 'test.parley');
  t.deepEqual((await c.waitFor('USERLIST', (m) => m.channel === '#after')).nicks, ['alice']);
  // A nick taken while the hook ran is refused when the hook accepts.
  const d = await openClient(t, port);
  const e = await openClient(t, port);
  const [rd, re] = await Promise.allSettled([d.hello('bob', '', '1.0.0', 'ok'), e.hello('BOB', '', '1.0.0', 'ok')]);
  t.deepEqual([rd.status, re.status].sort(), ['fulfilled', 'rejected']);
  const rejected = [rd, re].find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.regex(String(rejected.reason), /NICK_IN_USE/);
});

test('embedding - the auth hook may return claims the host app reads on the session, and a reason the client sees', async (t) => {
  const { server, port } = await startServer(t, {
    plugins: textPlugins(),
    authenticate: (req) => (req.token === 'ok' ? { ok: true, data: { role: 'admin', user: 42 } } : { ok: false, reason: 'token expired\r\nDISCONNECT: x' }),
  });
  const summaries: unknown[] = [];
  server.events$.subscribe((e) => e.type === 'connected' && summaries.push(e.session));
  const c = await openClient(t, port);
  const refused = await t.throwsAsync(c.hello('alice', 'A', '1.0.0', 'old'));
  t.regex(refused!.message, /^AUTH_FAILED: authentication failed: token expired DISCONNECT: x$/);
  await c.hello('alice', 'A', '1.0.0', 'ok');
  t.deepEqual(server.sessions.byNick('ALICE')?.data, { role: 'admin', user: 42 });
  // The connected event is a plain summary: it survives a JSON round trip unchanged.
  t.is(summaries.length, 1);
  t.deepEqual(JSON.parse(JSON.stringify(summaries[0])), summaries[0]);
  t.like(summaries[0], { nick: 'alice', realname: 'A', remoteAddress: '127.0.0.1', data: { role: 'admin', user: 42 } });
});

test('embedding - broadcast to everyone emits a message event to *, as a channel broadcast emits one', async (t) => {
  const { server, port } = await startServer(t, { plugins: textPlugins() });
  const events: unknown[] = [];
  server.events$.subscribe((e) => e.type === 'message' && events.push(e));
  const alice = await connectInLobby(t, port, 'alice');
  t.is(server.broadcast('hello all', { from: 'ops' }), 1);
  t.is((await alice.waitFor('MSG')).text, 'hello all');
  t.is(server.broadcast('lobby only', { channel: '#lobby', from: 'ops' }), 1);
  t.deepEqual(events, [
    { type: 'message', from: 'ops', to: '*', text: 'hello all' },
    { type: 'message', from: 'ops', to: '#lobby', text: 'lobby only' },
  ]);
});
