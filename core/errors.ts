/**
 * The one table of error codes.
 *
 * Wire codes travel to clients as `ERROR <CODE>: <text>`; `PARLEY_ERR_*` codes are
 * programmer and configuration errors thrown by the embedding API. A retired code
 * is never reused.
 */
import { format } from 'node:util';

/** Every `ERROR <CODE>` a server may send, with its printf-style default text. */
export const WireErrors = {
  BAD_SYNTAX: 'malformed command: %s',
  UNKNOWN_COMMAND: '%s',
  NOT_CONNECTED: 'send CONNECT first',
  ALREADY_CONNECTED: 'already connected as %s',
  VERSION_UNSUPPORTED: 'protocol version %s is not supported (server speaks %s)',
  AUTH_FAILED: 'authentication failed',
  NICK_INVALID: 'invalid nickname: %s',
  NICK_IN_USE: 'nickname is already in use: %s',
  CHANNEL_INVALID: 'invalid channel name: %s',
  NOT_IN_CHANNEL: 'you are not in %s',
  NO_SUCH_USER: 'no such user: %s',
  NO_SUCH_TALK: 'no such talk: %s',
  BUSY: '%s is busy',
  LINE_TOO_LONG: 'line exceeds %d bytes',
  INTERNAL: 'internal error in %s; nothing changed',
  /** Extension: a JOIN beyond the per-user channel limit. */
  TOO_MANY_CHANNELS: 'you are already in %d channels',
  /** Extension: the cluster's shared state cannot be reached (nick claims, remote lookups); try again later. */
  UNAVAILABLE: 'cluster unavailable, try again later',
} as const;

export type WireErrorCode = keyof typeof WireErrors;
export const WIRE_ERROR_CODES = Object.keys(WireErrors) as WireErrorCode[];

/** An error a handler throws to answer its client `ERROR <code>: <text>`. */
export class ProtocolError extends Error {
  readonly code: WireErrorCode;
  constructor(code: WireErrorCode, ...args: unknown[]) {
    super(format(WireErrors[code], ...args));
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** Configuration and programming errors of the embedding API. */
export const ParleyErrors = {
  PARLEY_ERR_DUPLICATE_PLUGIN: 'plugin "%s" is registered twice',
  PARLEY_ERR_VERB_CONFLICT: 'verb %s is owned by both plugin "%s" and plugin "%s"',
  PARLEY_ERR_MISSING_DEPENDENCY: 'plugin "%s" requires plugin "%s", which is not registered',
  PARLEY_ERR_RESERVED_VERB: 'plugin "%s" cannot own verb %s: it belongs to the kernel',
  PARLEY_ERR_INVALID_OPTION: 'invalid option %s: %s',
  PARLEY_ERR_NOT_LISTENING: 'server is not listening',
  PARLEY_ERR_ALREADY_LISTENING: 'server is already listening',
  PARLEY_ERR_CLOSED: 'server is closed',
  PARLEY_ERR_NO_SUCH_USER: 'no such user: %s',
  PARLEY_ERR_NO_PROVIDER: 'no plugin provides %s (enable the "%s" plugin)',
  PARLEY_ERR_INVALID_PLUGIN: 'plugin "%s" is malformed: %s',
  PARLEY_ERR_INJECTION: 'plugin "%s" cannot be created: constructor %s %s',
  PARLEY_ERR_VERB_NOT_OWNED: 'plugin "%s" routes verb %s, which it does not own (owner: %s)',
} as const;

export type ParleyErrorCode = keyof typeof ParleyErrors;

/** Thrown by the embedding API; `code` is one of {@link ParleyErrors}. */
export class ParleyError extends Error {
  readonly code: ParleyErrorCode;
  constructor(code: ParleyErrorCode, ...args: unknown[]) {
    super(`${code}: ${format(ParleyErrors[code], ...args)}`);
    this.name = 'ParleyError';
    this.code = code;
  }
}
