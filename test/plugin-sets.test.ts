// Servers with subsets of the built-in plugins, and the startup checks of a plugin set.
import test from 'ava';
import { builtinPlugins, createServer, definePlugin, imPlugin, ParleyError, pingPlugin, type PluginHooks } from '../index.js';
import { connect, startServer } from './helpers.js';

test('plugins - ping,im: no auto-join, JOIN is UNKNOWN_COMMAND, DMs work, channel MSG is NOT_IN_CHANNEL', async (t) => {
  const { port } = await startServer(t, { plugins: builtinPlugins(['ping', 'im']) });
  const alice = await connect(t, port, 'alice');
  const bob = await connect(t, port, 'bob');
  alice.sendRaw('JOIN: #lobby\nLEAVE: #lobby\n');
  t.deepEqual(await alice.waitForError(), { type: 'ERROR', code: 'UNKNOWN_COMMAND', text: 'JOIN' });
  t.deepEqual(await alice.waitForError(), { type: 'ERROR', code: 'UNKNOWN_COMMAND', text: 'LEAVE' });
  alice.say('#lobby', 'anyone?');
  t.is((await alice.waitForError()).code, 'NOT_IN_CHANNEL');
  alice.say('bob', 'direct');
  t.deepEqual(await bob.waitFor('MSG'), { type: 'MSG', sender: 'alice', recipient: 'bob', text: 'direct' });
  t.deepEqual(alice.inbox(), [], 'no JOINED, USERLIST or USERJOIN without the channels plugin');
  t.deepEqual(bob.inbox(), []);
});

test('plugins - ping,channels,im: channels and messages, TALK unknown without voip', async (t) => {
  const { port } = await startServer(t, { plugins: builtinPlugins(['ping', 'channels', 'im']) });
  const alice = await connect(t, port, 'alice');
  t.deepEqual((await alice.waitFor('USERLIST')).nicks, ['alice']);
  const bob = await connect(t, port, 'bob');
  bob.say('#lobby', 'hi all');
  t.is((await alice.waitFor('MSG')).text, 'hi all');
  alice.sendRaw('TALK bob: REQUEST\n');
  t.deepEqual(await alice.waitForError(), { type: 'ERROR', code: 'UNKNOWN_COMMAND', text: 'TALK' });
});

test('plugins - ping only: MSG and JOIN are unknown, PONG is served', async (t) => {
  const { port } = await startServer(t, { plugins: builtinPlugins(['ping']) });
  const alice = await connect(t, port, 'alice');
  alice.sendRaw('MSG alice: x\nPONG: 1\nJOIN: #a\n');
  t.is((await alice.waitForError()).text, 'MSG');
  t.is((await alice.waitForError()).text, 'JOIN');
  t.deepEqual(alice.inbox(), []);
});

class Nothing implements PluginHooks {}

test('plugins - two plugins owning one verb fail at startup, naming both', (t) => {
  const rival = definePlugin({ name: 'rival-im', verbs: ['msg'], useClass: Nothing });
  const err = t.throws(() => createServer({ plugins: [...builtinPlugins(['im']), rival] }), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_VERB_CONFLICT');
  t.is(err?.message, 'PARLEY_ERR_VERB_CONFLICT: verb MSG is owned by both plugin "im" and plugin "rival-im"');
});

test('plugins - a missing dependency fails at startup, naming both plugins', (t) => {
  const needy = definePlugin({ name: 'needy', dependencies: ['channels'], useClass: Nothing });
  const err = t.throws(() => createServer({ plugins: [pingPlugin(), needy] }), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_MISSING_DEPENDENCY');
  t.is(err?.message, 'PARLEY_ERR_MISSING_DEPENDENCY: plugin "needy" requires plugin "channels", which is not registered');
});

test('plugins - a plugin name registered twice fails at startup', (t) => {
  const err = t.throws(() => createServer({ plugins: [imPlugin(), pingPlugin(), imPlugin()] }), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_DUPLICATE_PLUGIN');
  t.regex(err?.message ?? '', /"im"/);
});

test('plugins - a kernel verb cannot be owned by a plugin', (t) => {
  const greedy = definePlugin({ name: 'greedy', verbs: ['CONNECT'], useClass: Nothing });
  const err = t.throws(() => createServer({ plugins: [greedy] }), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_RESERVED_VERB');
});

test('plugins - invalid plugin options fail when the plugin is built', (t) => {
  t.is(t.throws(() => pingPlugin({ intervalMs: 0 }), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
  t.is(t.throws(() => builtinPlugins(['channels'], { channels: { defaultChannel: 'lobby' } }), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
  t.is(t.throws(() => createServer({ limits: { maxLineBytes: 10 } }), { instanceOf: ParleyError })?.code, 'PARLEY_ERR_INVALID_OPTION');
});
