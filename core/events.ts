/** Events the host application observes on `server.events$`. */
import type { Session } from './session.js';

export type ServerEvent =
  | { type: 'connected'; nick: string; session: Session }
  | { type: 'joined'; nick: string; channel: string }
  | { type: 'left'; nick: string; channel: string; reason: string }
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
