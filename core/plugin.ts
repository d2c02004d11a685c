/**
 * The plugin contract. A plugin is metadata plus a class (or factory) that the
 * plugin host creates once per server, handing it what its `inject` list names:
 * its {@link PluginContext}, its options, other plugins' services. Nothing here
 * needs decorators or emitted metadata, so a plugin compiles under `tsc --init`
 * defaults and can be written in plain JavaScript.
 */
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Session } from './session.js';

export type { PluginContext } from './plugin-context.js';
export { PLUGIN_CONTEXT } from './plugin-context.js';

/** Lifecycle hooks a plugin may implement. */
export interface PluginHooks {
  /**
   * Once per server, after every plugin is created and the TCP port is bound,
   * before any client line is processed. Route verbs (`ctx.handle`), open sockets.
   */
  start?(): void | Promise<void>;
  /** Once at `close()`, after every client socket closed; plugins stop in reverse order. */
  stop?(): void | Promise<void>;
  /** Right after a successful `CONNECT` (once `ACCEPT` is sent), in plugin order. */
  onSessionOpen?(session: Session): void;
  /**
   * Once when a connected session ends (DISCONNECT, socket closed, ping or
   * handshake timeout, send queue exceeded, shutdown), in reverse plugin order.
   */
  onSessionClose?(session: Session, reason: string): void;
}

/** What `createServer({ plugins })` takes; built by {@link definePlugin}. */
export interface Plugin {
  /** Unique per server. */
  readonly name: string;
  /** Upper-case verbs this plugin owns; a verb has one owner per server. */
  readonly verbs: readonly string[];
  /** Names of plugins that must be registered too. */
  readonly dependencies: readonly string[];
  /** How the host creates the plugin's instance. */
  readonly definition: PluginDefinition<PluginHooks>;
}

/** Any parameter list: the host checks at `createServer` that `inject` covers it. */
type AnyArgs = never[];

export interface PluginDefinition<T extends object> {
  name: string;
  verbs?: readonly string[];
  dependencies?: readonly string[];
  /**
   * What the constructor (or factory) takes, in order: `PLUGIN_CONTEXT`, option
   * tokens, services of other plugins. Without it the host reads tsyringe's
   * decorator metadata (`@injectable()`/`@inject()`), for those who compile with it.
   */
  inject?: readonly InjectionToken<unknown>[];
  /** The plugin's class; one instance per server, also resolvable by the class itself. */
  useClass?: new (
    ...args: AnyArgs
  ) => T;
  /** Or a function building the instance from the injected values. */
  useFactory?: (...args: AnyArgs) => T;
  /** Tokens the instance also answers to (a service it provides to other plugins). */
  provides?: readonly InjectionToken<unknown>[];
  /** Extra registrations in the server's container (option values, other services). */
  register?(container: DependencyContainer): void;
}

/**
 * Builds a {@link Plugin}.
 * @example
 * const ECHO_OPTIONS = Symbol('echo.options');
 * class EchoPlugin {
 *   constructor(ctx, options) { this.ctx = ctx; this.options = options; }
 *   start() { this.ctx.handle(ofVerb('ECHO'), (a) => a.session.send({ type: 'MSG', sender: 'server', recipient: a.session.nick, text: a.payload ?? '' })); }
 * }
 * export const echoPlugin = (options = {}) =>
 *   definePlugin({ name: 'echo', verbs: ['ECHO'], inject: [PLUGIN_CONTEXT, ECHO_OPTIONS], useClass: EchoPlugin,
 *     register: (c) => c.register(ECHO_OPTIONS, { useValue: options }) });
 */
export function definePlugin<T extends object>(def: PluginDefinition<T>): Plugin {
  return {
    name: def.name,
    verbs: (def.verbs ?? []).map((v) => v.toUpperCase()),
    dependencies: def.dependencies ?? [],
    definition: def,
  };
}
