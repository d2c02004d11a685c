/** The kernel driven through in-memory transports: no sockets. */
import test from 'ava';
import 'reflect-metadata';
import { ParleyServer } from './server.js';
import { MemoryTransport } from './test-transport.js';
import { definePlugin, PLUGIN_CONTEXT, type PluginContext, type PluginHooks } from './plugin.js';
import { ofVerb } from './of-verb.js';
import { ProtocolError } from './errors.js';
import type { Session } from './session.js';

class Shout implements PluginHooks {
  opened: string[] = [];
  closed: string[] = [];
  constructor(private readonly ctx: PluginContext) {}
  start(): void {
    this.ctx.handle(ofVerb('SHOUT'), (a) => {
      if (a.payload === 'boom') throw new Error('boom');
      if (a.payload === 'nope') throw new ProtocolError('NO_SUCH_USER', 'nope');
      a.session.send({ type: 'MSG', sender: 'server', recipient: a.session.nick, text: (a.payload ?? '').toUpperCase() });
    });
  }
  onSessionOpen(s: Session): void {
    this.opened.push(s.nick);
  }
  onSessionClose(s: Session, reason: string): void {
    this.closed.push(`${s.nick}:${reason}`);
  }
}

async function setup(): Promise<ParleyServer> {
  const server = new ParleyServer({
    hostname: 'test.local',
    logger: 'silent',
    plugins: [definePlugin({ name: 'shout', verbs: ['shout'], inject: [PLUGIN_CONTEXT], useClass: Shout })],
  });
  await server.start();
  return server;
}

test('CONNECT - accepted with the hostname and the session opened in plugins', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  await a.send('CONNECT: "alice" "Alice A" 1.0.0');
  t.deepEqual(a.take(), ['ACCEPT: test.local']);
  t.deepEqual(server.resolve(Shout).opened, ['alice']);
  await server.close();
});

test('kernel - verbs before CONNECT: owned get NOT_CONNECTED, unowned UNKNOWN_COMMAND', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  await a.send('SHOUT: hi');
  await a.send('WHAT: hi');
  await a.send(': no verb');
  t.deepEqual(a.take(), ['ERROR NOT_CONNECTED: send CONNECT first', 'ERROR UNKNOWN_COMMAND: WHAT', 'ERROR BAD_SYNTAX: malformed command: missing verb']);
  await server.close();
});

test('kernel - a user plugin verb is routed case-insensitively with its payload', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  await a.send('CONNECT: "alice" "" 1.0.0');
  a.take();
  await a.send('shout: hello');
  t.deepEqual(a.take(), ['MSG server alice: HELLO']);
  await server.close();
});

test('kernel - a throwing plugin answers INTERNAL to that client only, and others are still served', async (t) => {
  const server = await setup();
  const failures: string[] = [];
  server.errors$.subscribe((f) => failures.push(`${f.plugin}:${f.during}:${f.nick}`));
  const a = MemoryTransport.attach(server);
  const b = MemoryTransport.attach(server);
  await a.send('CONNECT: "alice" "" 1.0.0');
  await b.send('CONNECT: "bob" "" 1.0.0');
  a.take();
  b.take();
  await a.send('SHOUT: boom');
  t.deepEqual(a.take(), ['ERROR INTERNAL: internal error in shout; nothing changed']);
  t.deepEqual(b.take(), []);
  t.deepEqual(failures, ['shout:SHOUT:alice']);
  await b.send('SHOUT: still here');
  await a.send('SHOUT: me too');
  t.deepEqual(b.take(), ['MSG server bob: STILL HERE']);
  t.deepEqual(a.take(), ['MSG server alice: ME TOO']);
  await server.close();
});

test('kernel - a ProtocolError thrown by a handler becomes that ERROR', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  await a.send('CONNECT: "alice" "" 1.0.0');
  a.take();
  await a.send('SHOUT: nope');
  t.deepEqual(a.take(), ['ERROR NO_SUCH_USER: no such user: nope']);
  await server.close();
});

test('CONNECT - nick in use is case-insensitive and a refused CONNECT can be retried', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  const b = MemoryTransport.attach(server);
  await a.send('CONNECT: "Alice" "" 1.0.0');
  await b.send('CONNECT: "aLICE" "" 1.0.0');
  await b.send('CONNECT: "bob" "" 2.0.0');
  await b.send('CONNECT: "bob" "" 1.9.3');
  t.deepEqual(b.take(), [
    'ERROR NICK_IN_USE: nickname is already in use: aLICE',
    'ERROR VERSION_UNSUPPORTED: protocol version 2.0.0 is not supported (server speaks 1.1.0)',
    'ACCEPT: test.local',
  ]);
  await server.close();
});

test('DISCONNECT - closes the session and plugins see onSessionClose once', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  await a.send('CONNECT: "alice" "" 1.0.0');
  await a.send('DISCONNECT: bye');
  t.is(a.closedWith?.reason, 'quit');
  const shout = server.resolve(Shout);
  t.deepEqual(shout.closed, ['alice:quit']);
  t.is(server.sessions.connectedCount, 0);
  await server.close();
  t.deepEqual(shout.closed, ['alice:quit']);
});

test('authentication - lines sent while the hook runs wait, then run in order', async (t) => {
  let release: (ok: boolean) => void = () => {};
  const server = new ParleyServer({
    logger: 'silent',
    hostname: 'h',
    authenticate: (req) => new Promise<boolean>((r) => (release = (ok) => r(ok && req.token === 'secret'))),
  });
  await server.start();
  const a = MemoryTransport.attach(server);
  const pending = a.send('CONNECT: "alice" "" 1.0.0 secret');
  t.truthy(pending);
  release(true);
  await pending;
  t.deepEqual(a.take(), ['ACCEPT: h']);
  await server.close();
});

test('close - every attached session gets DISCONNECT: server shutting down', async (t) => {
  const server = await setup();
  const a = MemoryTransport.attach(server);
  await a.send('CONNECT: "alice" "" 1.0.0');
  a.take();
  const shout = server.resolve(Shout);
  await server.close();
  t.deepEqual(a.take(), ['DISCONNECT: server shutting down']);
  t.deepEqual(shout.closed, ['alice:server shutting down']);
});
