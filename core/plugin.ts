/**
 * The plugin contract. A plugin is metadata plus a class resolved from the
 * server's child container, so its constructor gets the kernel, its options and
 * other plugins' services by injection.
 */
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { Lifecycle } from 'tsyringe';
import type { Session } from './session.js';

/** Lifecycle hooks a plugin class may implement. */
export interface PluginHooks {
  /**
   * Once per server, after every plugin is resolved and the TCP port is bound,
   * before any client line is processed. Subscribe to actions, open sockets.
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

/** What `createServer({ plugins })` takes; built by a plugin's factory function. */
export interface Plugin {
  /** Unique per server. */
  readonly name: string;
  /** Upper-case verbs this plugin owns; a verb has one owner per server. */
  readonly verbs: readonly string[];
  /** Names of plugins that must be registered too. */
  readonly dependencies: readonly string[];
  /** Synchronous: registers the plugin's services in the server's child container. */
  register(container: DependencyContainer): void;
  /** The token of the class implementing the hooks; resolved after every plugin registered. */
  readonly token: InjectionToken<PluginHooks>;
}

export interface PluginDefinition<T extends PluginHooks> {
  name: string;
  verbs?: readonly string[];
  dependencies?: readonly string[];
  /** The plugin's class, registered container-scoped (one instance per server). */
  useClass: new (...args: never[]) => T;
  /** Extra registrations: options values, services other plugins inject. */
  register?(container: DependencyContainer): void;
}

/**
 * Builds a {@link Plugin} from a class and its metadata.
 * @example
 * export function helloPlugin(): Plugin {
 *   return definePlugin({ name: 'hello', verbs: ['HELLO'], useClass: HelloPlugin });
 * }
 */
export function definePlugin<T extends PluginHooks>(def: PluginDefinition<T>): Plugin {
  const cls = def.useClass as unknown as new (...args: unknown[]) => T;
  return {
    name: def.name,
    verbs: (def.verbs ?? []).map((v) => v.toUpperCase()),
    dependencies: def.dependencies ?? [],
    token: cls,
    register(container) {
      container.register(cls, { useClass: cls }, { lifecycle: Lifecycle.ContainerScoped });
      def.register?.(container);
    },
  };
}
