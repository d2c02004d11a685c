/**
 * The plugin host owns every plugin's lifecycle: it checks the set (unique
 * names, one owner per verb, kernel verbs reserved, dependencies present),
 * registers their services, creates each instance with what it injects (at
 * `createServer`, so a missing injection fails there, naming the plugin and the
 * parameter), starts them, runs their session hooks and stops them.
 */
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { filter } from 'rxjs';
import { ParleyError } from './errors.js';
import { KERNEL_VERBS, type Kernel } from './kernel.js';
import type { Logger } from './logger.js';
import { routeVerbs, type Action } from './of-verb.js';
import type { Plugin, PluginHooks } from './plugin.js';
import { PLUGIN_CONTEXT, type BinaryHandler, type BoundAddress, type PluginContext } from './plugin-context.js';
import type { Session } from './session.js';

export function validatePlugins(plugins: readonly Plugin[]): void {
  const names = new Set<string>();
  const owners = new Map<string, string>();
  for (const p of plugins) {
    if (names.has(p.name)) throw new ParleyError('PARLEY_ERR_DUPLICATE_PLUGIN', p.name);
    names.add(p.name);
    for (const verb of p.verbs) {
      if (KERNEL_VERBS.includes(verb)) throw new ParleyError('PARLEY_ERR_RESERVED_VERB', p.name, verb);
      const owner = owners.get(verb);
      if (owner !== undefined) throw new ParleyError('PARLEY_ERR_VERB_CONFLICT', verb, owner, p.name);
      owners.set(verb, p.name);
    }
    const def = p.definition;
    if ((def.useClass === undefined) === (def.useFactory === undefined)) {
      throw new ParleyError('PARLEY_ERR_INVALID_PLUGIN', p.name, 'give exactly one of useClass and useFactory');
    }
    if (def.useFactory && !def.inject && def.useFactory.length > 0) {
      throw new ParleyError('PARLEY_ERR_INVALID_PLUGIN', p.name, 'a useFactory that takes parameters needs an inject list');
    }
  }
  for (const p of plugins) {
    for (const dep of p.dependencies) {
      if (!names.has(dep)) throw new ParleyError('PARLEY_ERR_MISSING_DEPENDENCY', p.name, dep);
    }
  }
}

interface Entry {
  readonly plugin: Plugin;
  readonly context: PluginContext;
  hooks: PluginHooks | undefined;
  creating: boolean;
}

/** tsyringe's metadata key for `@inject()` parameter tokens (its `reflection-helpers`). */
const TSYRINGE_PARAM_TOKENS = 'injectionTokens';

export class PluginHost {
  readonly #entries: Entry[];
  readonly #owners = new Map<string, string>();
  #address: BoundAddress | undefined;
  #binary: { plugin: string; handler: BinaryHandler } | undefined;
  #started: Promise<void> | undefined;

  /**
   * @param plugins in start order
   * @param container the server's child container
   * @param kernel routes actions and publishes events for the plugins
   */
  constructor(
    plugins: readonly Plugin[],
    private readonly container: DependencyContainer,
    private readonly kernel: Kernel,
    private readonly log: Logger,
  ) {
    validatePlugins(plugins);
    for (const p of plugins) for (const v of p.verbs) this.#owners.set(v, p.name);
    this.#entries = plugins.map((plugin) => ({ plugin, context: this.#context(plugin), hooks: undefined, creating: false }));
    for (const e of this.#entries) {
      const def = e.plugin.definition;
      const create = (): PluginHooks => this.#instance(e);
      if (def.useClass) container.register(def.useClass as InjectionToken<PluginHooks>, { useFactory: create });
      for (const token of def.provides ?? []) container.register(token, { useFactory: create });
      def.register?.(container);
    }
    for (const e of this.#entries) this.#instance(e);
  }

  /** The plugin owning `verb` (upper case), or undefined. */
  ownerOf(verb: string): string | undefined {
    return this.#owners.get(verb);
  }

  /** Set once the server is bound; plugins read it in `start`. */
  set address(address: BoundAddress) {
    this.#address = address;
  }

  get started(): boolean {
    return this.#started !== undefined;
  }

  /** Starts the plugins in order (once). */
  start(): Promise<void> {
    this.#started ??= (async () => {
      for (const e of this.#entries) await e.hooks!.start?.();
    })();
    return this.#started;
  }

  /** A session completed `CONNECT`: `onSessionOpen` in plugin order, until one closes it. */
  opened(session: Session): void {
    for (const e of this.#entries) {
      const h = e.hooks!;
      if (h.onSessionOpen) this.#hook(e, 'onSessionOpen', session, () => h.onSessionOpen!(session));
      if (session.state !== 'connected') return;
    }
  }

  /** A connected session ended: `onSessionClose` in reverse plugin order. */
  closed(session: Session, reason: string): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      const h = e.hooks!;
      if (h.onSessionClose) this.#hook(e, 'onSessionClose', session, () => h.onSessionClose!(session, reason));
    }
  }

  /**
   * A binary message from a connected session: to the plugin that took them
   * (`ctx.onBinary`). False when none did. A throw is that plugin's failure.
   */
  binary(session: Session, data: Buffer): boolean {
    const b = this.#binary;
    if (!b) return false;
    try {
      b.handler(session, data);
    } catch (error) {
      this.log.error(`plugin ${b.plugin} failed on a binary message from ${session}`, error);
      this.kernel.fail(b.plugin, 'onBinary', session, error);
    }
    return true;
  }

  /** Stops started plugins in reverse order; a failing `stop` is logged and the rest still stop. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    await this.#started.catch(() => {});
    for (const e of [...this.#entries].reverse()) {
      try {
        await e.hooks!.stop?.();
      } catch (err) {
        this.log.error(`plugin ${e.plugin.name} failed to stop`, err);
      }
    }
  }

  #instance(e: Entry): PluginHooks {
    if (e.hooks) return e.hooks;
    const { name, definition: def } = e.plugin;
    if (e.creating) throw new ParleyError('PARLEY_ERR_INJECTION', name, 'its own service', 'is part of an injection cycle');
    e.creating = true;
    try {
      const tokens = def.inject ?? decoratorTokens(def.useClass!);
      const declared = def.useClass ? def.useClass.length : def.useFactory!.length;
      if (tokens.length < declared) {
        throw new ParleyError('PARLEY_ERR_INJECTION', name, `parameter ${tokens.length + 1} of ${declared}`, 'has no token: list it in `inject`');
      }
      const args = tokens.map((token, i) => this.#resolve(e, token, i));
      const hooks = (def.useClass ? new def.useClass(...(args as never[])) : def.useFactory!(...(args as never[]))) as PluginHooks;
      if (hooks === null || typeof hooks !== 'object') throw new ParleyError('PARLEY_ERR_INVALID_PLUGIN', name, 'useFactory must return an object');
      e.hooks = hooks;
      return hooks;
    } finally {
      e.creating = false;
    }
  }

  #resolve(e: Entry, token: InjectionToken<unknown> | undefined, i: number): unknown {
    const where = `parameter ${i + 1} (${describe(token)})`;
    if (token === undefined || token === Object) {
      throw new ParleyError('PARLEY_ERR_INJECTION', e.plugin.name, where, 'has no token: list it in `inject`');
    }
    if (token === PLUGIN_CONTEXT) return e.context;
    if (typeof token !== 'function' && !this.container.isRegistered(token, true)) {
      throw new ParleyError('PARLEY_ERR_INJECTION', e.plugin.name, where, 'is not registered by any plugin');
    }
    let value: unknown;
    try {
      value = this.container.resolve(token);
    } catch (err) {
      if (err instanceof ParleyError) throw err;
      throw new ParleyError('PARLEY_ERR_INJECTION', e.plugin.name, where, `cannot be resolved: ${(err as Error).message}`);
    }
    if (value === undefined || value === null) throw new ParleyError('PARLEY_ERR_INJECTION', e.plugin.name, where, 'resolved to nothing');
    return value;
  }

  #context(plugin: Plugin): PluginContext {
    const kernel = this.kernel;
    const owned = new Set(plugin.verbs);
    const host = this;
    const name = plugin.name;
    const log = this.log.child(name);
    return Object.freeze({
      plugin: name,
      config: kernel.config,
      log,
      sessions: kernel.sessions,
      cluster: kernel.cluster,
      get address(): BoundAddress | undefined {
        return host.#address;
      },
      handle<A extends Action>(route: Parameters<PluginContext['handle']>[0], handler: (a: A) => void | Promise<void>): void {
        for (const verb of routeVerbs(route) ?? []) {
          if (!owned.has(verb)) throw new ParleyError('PARLEY_ERR_VERB_NOT_OWNED', name, verb, host.ownerOf(verb) ?? 'no plugin');
        }
        const mine = filter((a: Action) => owned.has(a.verb));
        kernel.handle(name, (source) => route(mine(source)), handler as (a: Action) => void | Promise<void>);
      },
      emit(event: Parameters<PluginContext['emit']>[0]): void {
        if (event.type.includes(':')) {
          if (!event.type.startsWith(`${name}:`))
            throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'event.type', `a plugin's events are named "${name}:<name>", got "${event.type}"`);
          kernel.emit({ ...event, plugin: name } as Parameters<Kernel['emit']>[0]);
        } else kernel.emit(event as Parameters<Kernel['emit']>[0]);
      },
      reply: (session, code, ...args) => kernel.reply(session, code, ...args),
      optional: <T>(token: InjectionToken<T>): T | undefined => (this.container.isRegistered(token, true) ? this.container.resolve(token) : undefined),
      onBinary(handler: BinaryHandler): void {
        if (host.#binary) throw new ParleyError('PARLEY_ERR_INVALID_PLUGIN', name, `binary messages are already taken by plugin "${host.#binary.plugin}"`);
        host.#binary = { plugin: name, handler };
      },
    } satisfies PluginContext);
  }

  #hook(e: Entry, during: string, session: Session, fn: () => unknown): void {
    try {
      const r = fn();
      // A hook that crosses nodes (the default channel's JOIN) holds the session's next lines.
      if (r instanceof Promise) {
        session.hold(
          r.catch((error: unknown) => {
            this.log.error(`plugin ${e.plugin.name} failed in ${during} for ${session}`, error);
            this.kernel.fail(e.plugin.name, during, session, error);
          }),
        );
      }
    } catch (error) {
      this.log.error(`plugin ${e.plugin.name} failed in ${during} for ${session}`, error);
      this.kernel.fail(e.plugin.name, during, session, error);
    }
  }
}

/** Parameter tokens from `@injectable()`/`@inject()` metadata, for those who compile with decorators. */
function decoratorTokens(cls: abstract new (...args: never[]) => unknown): (InjectionToken<unknown> | undefined)[] {
  const reflect = Reflect as unknown as { getMetadata?(key: string, target: object): unknown; getOwnMetadata?(key: string, target: object): unknown };
  const types = (reflect.getMetadata?.('design:paramtypes', cls) as (InjectionToken<unknown> | undefined)[] | undefined) ?? [];
  const explicit = (reflect.getOwnMetadata?.(TSYRINGE_PARAM_TOKENS, cls) as Record<string, unknown> | undefined) ?? {};
  const tokens = [...types];
  for (const [i, t] of Object.entries(explicit)) tokens[Number(i)] = unwrapDescriptor(t);
  return tokens;
}

/** `@inject(token)` stores the token; `@injectAll`/transform store a descriptor holding it. */
function unwrapDescriptor(t: unknown): InjectionToken<unknown> | undefined {
  if (t && typeof t === 'object' && 'token' in t) return (t as { token: InjectionToken<unknown> }).token;
  return t as InjectionToken<unknown> | undefined;
}

function describe(token: unknown): string {
  if (token === undefined) return 'undefined';
  if (typeof token === 'function') return token.name || 'anonymous class';
  return String(token);
}
