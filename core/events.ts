/** Events the host application observes on `server.events$`. */

/** A plain, serialisable picture of a connected session (the `connected` event carries it). */
export interface SessionSummary {
  id: number;
  nick: string;
  realname: string;
  remoteAddress: string;
  remotePort: number;
  /** Milliseconds since the epoch when `CONNECT` succeeded. */
  connectedAt: number;
  /** What the authentication hook returned as claims, if anything. */
  data?: unknown;
}

/** An event a plugin emits through its context; its type is `<plugin>:<name>`. */
export interface PluginEventInit {
  type: `${string}:${string}`;
  [key: string]: unknown;
}

/** A plugin's event as `server.events$` publishes it, stamped with the plugin's name. */
export interface PluginEvent extends PluginEventInit {
  plugin: string;
}

export type ServerEvent =
  | { type: 'connected'; nick: string; session: SessionSummary }
  | { type: 'joined'; nick: string; channel: string }
  | { type: 'left'; nick: string; channel: string; reason: string }
  /** `to` is a channel, a nick, or `*` for `server.broadcast` to everyone. */
  | { type: 'message'; from: string; to: string; text: string }
  | { type: 'closed'; nick: string; reason: string };

/** A plugin threw while handling an action or a hook; published on `server.errors$`. */
export interface PluginFailure {
  plugin: string;
  error: unknown;
  /** The verb being handled, or the hook name. */
  during: string;
  nick?: string;
}
