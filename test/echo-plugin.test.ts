// A user plugin registered beside the built-ins.
import test from 'ava';
import { builtinPlugins, definePlugin, ofVerb, PLUGIN_CONTEXT, type PluginContext } from '../index.js';
import { echoPlugin } from './fixtures/echo-plugin.js';
import { connect, connectInLobby, openClient, startServer } from './helpers.js';

test('ECHO - a user plugin beside the built-ins answers with its injected options', async (t) => {
  const { port } = await startServer(t, { plugins: [...builtinPlugins(), echoPlugin({ prefix: 'echo: ' })] });
  const alice = await connectInLobby(t, port, 'alice');
  alice.sendRaw('ECHO: hello: world\necho :lower case\n');
  t.deepEqual(await alice.waitFor('MSG'), { type: 'MSG', sender: 'server', recipient: 'alice', text: 'echo: hello: world' });
  t.is((await alice.waitFor('MSG')).text, 'echo: lower case');
  alice.sendRaw('ECHO\nECHO x: y\n');
  t.is((await alice.waitForError()).code, 'BAD_SYNTAX');
  t.is((await alice.waitForError()).code, 'BAD_SYNTAX');
  // The built-ins are unaffected.
  t.deepEqual(await alice.join('#dev'), ['alice']);
});

test('ECHO - the added verb is NOT_CONNECTED before CONNECT, like every owned verb', async (t) => {
  const { port } = await startServer(t, { plugins: [...builtinPlugins(['ping', 'channels', 'im']), echoPlugin()] });
  const c = await openClient(t, port);
  c.sendRaw('ECHO: too early\n');
  t.is((await c.waitForError()).code, 'NOT_CONNECTED');
  await c.hello('alice');
  c.sendRaw('ECHO: now\n');
  t.is((await c.waitFor('MSG')).text, 'now');
});

test('ECHO - two servers with different options each keep their own', async (t) => {
  const one = await startServer(t, { plugins: [echoPlugin({ prefix: '1:' })] });
  const two = await startServer(t, { plugins: [echoPlugin({ prefix: '2:' })] });
  const a = await connect(t, one.port, 'x');
  const b = await connect(t, two.port, 'x');
  a.sendRaw('ECHO: hi\n');
  b.sendRaw('ECHO: hi\n');
  t.is((await a.waitFor('MSG')).text, '1:hi');
  t.is((await b.waitFor('MSG')).text, '2:hi');
});

test('custom verbs - client.command sends a plugin verb, and the plugin replies with its own verb as a typed CUSTOM message', async (t) => {
  const shout = definePlugin({
    name: 'shout',
    verbs: ['SHOUT'],
    inject: [PLUGIN_CONTEXT],
    useFactory: (ctx: PluginContext) => ({
      start: () =>
        ctx.handle(ofVerb('SHOUT'), ({ session, args, payload }) =>
          session.send({ type: 'CUSTOM', verb: 'SHOUTED', args: [session.nick, ...args], payload: (payload ?? '').toUpperCase() }),
        ),
    }),
  });
  const { port } = await startServer(t, { plugins: [...builtinPlugins(['channels']), shout] });
  const alice = await connectInLobby(t, port, 'alice');
  alice.command('shout', ['#dev'], 'hello: there');
  const m = await alice.waitFor('CUSTOM', (x) => x.verb === 'SHOUTED');
  t.deepEqual(m, { type: 'CUSTOM', verb: 'SHOUTED', args: ['alice', '#dev'], payload: 'HELLO: THERE' });
  t.throws(() => alice.command('SHOUT', ['two words']), { instanceOf: TypeError });
  t.throws(() => alice.command('SHOUT', [], 'a\nJOIN: #x'), { instanceOf: TypeError });
});
