/**
 * What a plugin sees of its server: routing for the verbs it owns, events,
 * sessions, configuration, a logger, optional services, the bound address.
 * One context per plugin, with the plugin's name bound in.
 */
import type { OperatorFunction } from 'rxjs';
import type { InjectionToken } from 'tsyringe';
import type { Limits } from './defaults.js';
import type { WireErrorCode } from './errors.js';
import type { PluginEventInit, ServerEvent } from './events.js';
import type { Logger } from './logger.js';
import type { Action } from './of-verb.js';
import type { Session } from './session.js';
import type { SessionLookup } from './session-registry.js';

export type { SessionLookup };
import type { Cluster } from './cluster/types.js';

/** The server settings a plugin may read. */
export interface ServerConfig {
  /** Sent in `ACCEPT: <hostname>`. */
  readonly hostname: string;
  readonly limits: Readonly<Limits>;
}

/** The bound TCP address, once listening. */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  /** True when `listen` was asked for port 0: any port will do for a plugin's own sockets too. */
  readonly ephemeral: boolean;
}

export interface PluginContext {
  /** The plugin's own name. */
  readonly plugin: string;
  readonly config: ServerConfig;
  /** Logs as `parley:<plugin>`. */
  readonly log: Logger;
  readonly sessions: SessionLookup;
  /**
   * The cluster this server is a node of: nick owners, the channel directory
   * on every node, delivery across nodes. A single in-memory node by default.
   */
  readonly cluster: Cluster;
  /** The bound address; undefined before `listen` (and for servers that never listen). */
  readonly address: BoundAddress | undefined;
  /**
   * Routes the actions `route` selects (`ofVerb(...)`) to `handler`. Only verbs
   * this plugin owns reach it; naming another verb in `ofVerb` is an error.
   * A throw answers only that client: a `ProtocolError` as `ERROR <code>`,
   * anything else as `ERROR INTERNAL` (published on `server.errors$`).
   */
  handle<A extends Action>(route: OperatorFunction<Action, A>, handler: (action: A) => void | Promise<void>): void;
  /** Publishes on `server.events$`; a plugin's own event types are `<plugin>:<name>`. */
  emit(event: ServerEvent | PluginEventInit): void;
  /** Answers `session` with `ERROR <code>: <text from the error table>`. */
  reply(session: Session, code: WireErrorCode, ...args: unknown[]): void;
  /** A service another plugin may or may not provide. */
  optional<T>(token: InjectionToken<T>): T | undefined;
  /**
   * Takes the binary messages of connected sessions whose transport has them
   * (WebSocket): the voice plugin's frames. One handler per server; a second
   * registration throws. Without one, a binary message is answered `BAD_SYNTAX`.
   */
  onBinary(handler: BinaryHandler): void;
}

/** Receives one binary message of a connected session; the Buffer is the handler's own. */
export type BinaryHandler = (session: Session, data: Buffer) => void;

/** Inject this to receive the plugin's {@link PluginContext}. */
export const PLUGIN_CONTEXT: InjectionToken<PluginContext> = Symbol.for('parley.PluginContext');
