import test from 'ava';
import { validatePlugins } from './plugin-host.js';
import { definePlugin, PLUGIN_CONTEXT, type Plugin, type PluginContext } from './plugin.js';
import { ParleyError } from './errors.js';
import { ParleyServer } from './server.js';
import { MemoryTransport } from './test-transport.js';
import { ofVerb } from './of-verb.js';
import { inject, injectable } from 'tsyringe';

const fake = (name: string, verbs: string[] = [], dependencies: string[] = []): Plugin => definePlugin({ name, verbs, dependencies, useFactory: () => ({}) });

const server = (...plugins: Plugin[]): ParleyServer => new ParleyServer({ plugins, logger: 'silent', hostname: 'h' });

function injectionError(t: import('ava').ExecutionContext, fn: () => unknown): ParleyError {
  const err = t.throws(fn, { instanceOf: ParleyError }) as ParleyError;
  t.is(err.code, 'PARLEY_ERR_INJECTION');
  return err;
}

test('plugin host - two plugins owning one verb is an error naming both', (t) => {
  const err = t.throws(() => validatePlugins([fake('im', ['MSG']), fake('mine', ['MSG'])]), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_VERB_CONFLICT');
  t.regex(err!.message, /"im".*"mine"/);
});

test('plugin host - a missing dependency is an error naming both plugins', (t) => {
  const err = t.throws(() => validatePlugins([fake('voip', ['TALK'], ['channels'])]), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_MISSING_DEPENDENCY');
  t.regex(err!.message, /"voip".*"channels"/);
});

test('plugin host - duplicate names and kernel verbs are refused', (t) => {
  t.is(t.throws(() => validatePlugins([fake('a'), fake('a')]))?.message.startsWith('PARLEY_ERR_DUPLICATE_PLUGIN'), true);
  t.is((t.throws(() => validatePlugins([fake('a', ['CONNECT'])])) as ParleyError).code, 'PARLEY_ERR_RESERVED_VERB');
});

test('plugin host - dependencies may be listed in any order', (t) => {
  t.notThrows(() => validatePlugins([fake('voip', ['TALK'], ['channels']), fake('channels', ['JOIN'])]));
});

test('plugin host - a constructor parameter without a token fails at createServer, naming the plugin and the parameter', (t) => {
  class Needy {
    constructor(
      readonly ctx: PluginContext,
      readonly options: object,
    ) {}
  }
  const err = injectionError(t, () => server(definePlugin({ name: 'needy', inject: [PLUGIN_CONTEXT], useClass: Needy })));
  t.regex(err.message, /"needy".*parameter 2 of 2/);
});

test('plugin host - a token nobody registered fails at createServer, never an undefined at first use', (t) => {
  class Needy {
    constructor(readonly options: object) {}
  }
  const err = injectionError(t, () => server(definePlugin({ name: 'needy', inject: [Symbol('needy.options')], useClass: Needy })));
  t.regex(err.message, /"needy".*parameter 1 \(Symbol\(needy\.options\)\) is not registered/);
  const undef = injectionError(t, () =>
    server(definePlugin({ name: 'u', inject: [Symbol('u')], useClass: Needy, register: (c) => c.register(Symbol('x'), { useValue: 1 }) })),
  );
  t.regex(undef.message, /"u"/);
});

test('plugin host - a value registered as undefined is refused', (t) => {
  const TOKEN = Symbol('opts');
  class P {
    constructor(readonly o: unknown) {}
  }
  const err = injectionError(t, () =>
    server(definePlugin({ name: 'p', inject: [TOKEN], useClass: P, register: (c) => c.register(TOKEN, { useValue: undefined }) })),
  );
  t.regex(err.message, /"p".*parameter 1/);
});

test('plugin host - routing a verb the plugin does not own is an error at start', async (t) => {
  const thief = definePlugin({
    name: 'thief',
    verbs: ['STEAL'],
    inject: [PLUGIN_CONTEXT],
    useFactory: (ctx: PluginContext) => ({ start: () => ctx.handle(ofVerb('STEAL', 'MSG'), () => {}) }),
  });
  const s = server(thief);
  const err = await t.throwsAsync(s.start(), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_VERB_NOT_OWNED');
  t.regex(err!.message, /"thief".*MSG/);
  await s.close();
});

test('plugin host - useFactory plugins get their context with their name bound, and may emit their own events', async (t) => {
  const events: unknown[] = [];
  const hello = definePlugin({
    name: 'hello',
    verbs: ['HELLO'],
    inject: [PLUGIN_CONTEXT],
    useFactory: (ctx: PluginContext) => ({
      start: () =>
        ctx.handle(ofVerb('HELLO'), (a) => {
          a.session.send({ type: 'MSG', sender: ctx.plugin, recipient: a.session.nick, text: 'hi' });
          ctx.emit({ type: 'hello:greeted', nick: a.session.nick });
        }),
    }),
  });
  const s = server(hello);
  s.events$.subscribe((e) => events.push(e));
  await s.start();
  const c = MemoryTransport.attach(s);
  c.send('CONNECT: "ann" "Ann" 1.0.0');
  c.send('HELLO');
  t.deepEqual(c.take(), ['ACCEPT: h', 'MSG hello ann: hi']);
  t.deepEqual(events.at(-1), { type: 'hello:greeted', nick: 'ann', plugin: 'hello' });
  await s.close();
});

test('plugin host - decorators stay an option: @injectable/@inject metadata is read when there is no inject list', async (t) => {
  const OPTS = Symbol('deco.opts');
  class Deco {
    constructor(
      readonly ctx: PluginContext,
      readonly opts: { word: string },
    ) {}
  }
  // What `@injectable()` and `@inject(...)` do when a compiler applies them.
  inject(PLUGIN_CONTEXT)(Deco, undefined, 0);
  inject(OPTS)(Deco, undefined, 1);
  injectable()(Deco);
  const s = server(definePlugin({ name: 'deco', useClass: Deco, register: (c) => c.register(OPTS, { useValue: { word: 'w' } }) }));
  const d = s.resolve(Deco);
  t.is(d.ctx.plugin, 'deco');
  t.is(d.opts.word, 'w');
  await s.close();
});

test('plugin host - one instance per server, shared by its class token and what it provides', async (t) => {
  const SERVICE = Symbol('svc');
  class Svc {
    n = Math.random();
  }
  class User {
    constructor(readonly svc: Svc) {}
  }
  const s = server(
    definePlugin({ name: 'svc', useClass: Svc, provides: [SERVICE] }),
    definePlugin({ name: 'user', inject: [SERVICE], useClass: User, dependencies: ['svc'] }),
  );
  t.is(s.resolve(User).svc, s.resolve(Svc));
  t.is(s.resolve(SERVICE), s.resolve(Svc));
  const other = server(definePlugin({ name: 'svc', useClass: Svc, provides: [SERVICE] }));
  t.not(other.resolve(Svc), s.resolve(Svc));
  await s.close();
  await other.close();
});

test('plugin host - a plugin needs exactly one of useClass and useFactory', (t) => {
  const err = t.throws(() => server(definePlugin({ name: 'none' })), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_INVALID_PLUGIN');
});
