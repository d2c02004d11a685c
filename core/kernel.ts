/**
 * The kernel: turns lines into actions, owns the handshake, routes every action
 * through one RxJS stream to the plugins' handlers, and isolates their failures
 * per action. Plugins never see it: they get a PluginContext from the plugin host.
 */
import { isUtf8 } from 'node:buffer';
import { Subject, type OperatorFunction, type Subscription } from 'rxjs';
import { splitLine, parseCommand, isProtocolVerb, formatServer } from './codec.js';
import type { CommandMap } from './actions.js';
import { ProtocolError, WireErrors, type WireErrorCode } from './errors.js';
import { PROTOCOL_VERSION, type Limits } from './defaults.js';
import type { Logger } from './logger.js';
import type { Action, CustomAction } from './of-verb.js';
import type { ServerEvent, PluginEvent, PluginFailure, SessionSummary } from './events.js';
import { SessionRegistry } from './session-registry.js';
import type { Session, UpgradeRequestInfo } from './session.js';
import { format } from 'node:util';
import type { Cluster, ClusterFactory, ClaimResult } from './cluster/types.js';
import { memoryCluster } from './cluster/memory-cluster.js';
import { DeadlineQueue, type Deadline } from './deadline-queue.js';

/** Verbs the kernel itself handles; no plugin may own them. */
export const KERNEL_VERBS: readonly string[] = ['CONNECT', 'DISCONNECT'];

export interface AuthRequest {
  nick: string;
  realname: string;
  version: string;
  /** The optional fourth `CONNECT` token. */
  token?: string;
  remoteAddress: string;
  /** The HTTP upgrade request (headers, cookies, url) of a WebSocket client; absent on TCP. */
  request?: UpgradeRequestInfo;
}

/** What an authentication hook may answer besides true/false. */
export type AuthResult = { ok: true; data?: unknown } | { ok: false; reason?: string };

/**
 * Decides whether a `CONNECT` may proceed. `true` or `{ ok: true, data }` accepts
 * (`data` is kept as `session.data`); `false`, `{ ok: false, reason }` or a throw
 * answers `ERROR AUTH_FAILED` (with the reason, when given).
 */
export type AuthHook = (req: AuthRequest) => boolean | AuthResult | Promise<boolean | AuthResult>;

export interface KernelConfig {
  /** Sent in `ACCEPT: <hostname>`. */
  readonly hostname: string;
  readonly limits: Readonly<Limits>;
  readonly authenticate?: AuthHook | undefined;
}

/** What the kernel asks of whoever hosts the plugins. */
export interface KernelPlugins {
  ownerOf(verb: string): string | undefined;
  opened(session: Session): void;
  closed(session: Session, reason: string): void;
}

export class Kernel {
  /** Every action, after parsing, with its session. */
  readonly actions$ = new Subject<Action>();
  readonly events$ = new Subject<ServerEvent | PluginEvent>();
  readonly errors$ = new Subject<PluginFailure>();
  readonly sessions = new SessionRegistry();

  readonly #subscriptions: Subscription[] = [];
  /** Sessions still in the handshake are closed at their deadline (one timer for all). */
  readonly #handshakes: DeadlineQueue<Session>;
  /** Each session's handshake deadline, until it is accepted or closes. */
  readonly #deadlines = new Map<Session, Deadline<Session>>();
  readonly #serverMajor = PROTOCOL_VERSION.slice(0, PROTOCOL_VERSION.indexOf('.'));

  /** The kernel's own logger (`parley:kernel`). */
  readonly log: Logger;
  /** Nick claims and everything else that may cross nodes. */
  readonly cluster: Cluster;

  constructor(
    readonly config: KernelConfig,
    rootLog: Logger,
    private readonly plugins: KernelPlugins,
    cluster: ClusterFactory = memoryCluster(),
  ) {
    this.log = rootLog.child('kernel');
    this.cluster = cluster({ sessions: this.sessions, log: rootLog.child('cluster'), maxLineBytes: config.limits.maxLineBytes });
    this.#handshakes = new DeadlineQueue(config.limits.handshakeTimeoutMs, (session) => {
      this.#deadlines.delete(session);
      if (session.state === 'handshake') session.close('handshake timeout');
    });
  }

  /**
   * Subscribes a plugin's handler to the actions `route` selects. A handler's
   * throw (or rejected promise) answers only that client: a {@link ProtocolError}
   * as `ERROR <code>`, anything else as `ERROR INTERNAL`, published on `errors$`.
   */
  handle<A extends Action>(plugin: string, route: OperatorFunction<Action, A>, handler: (action: A) => void | Promise<void>): void {
    const sub = this.actions$.pipe(route).subscribe((action) => {
      try {
        const r = handler(action);
        if (r !== undefined) action.session.hold(r.catch((err: unknown) => this.#fail(plugin, action, err)));
      } catch (err) {
        this.#fail(plugin, action, err);
      }
    });
    this.#subscriptions.push(sub);
    this.log.debug(`plugin ${plugin} subscribed`);
  }

  emit(event: ServerEvent | PluginEvent): void {
    if (this.events$.observed) this.events$.next(event);
  }

  /** Answers `session` with `ERROR <code>: <text formatted from the error table>`. */
  reply(session: Session, code: WireErrorCode, ...args: unknown[]): void {
    session.error(code, format(WireErrors[code], ...args));
  }

  /** A new transport-backed session: starts its handshake deadline. */
  open(session: Session): void {
    this.sessions.add(session);
    if (this.#handshakes.ms > 0) this.#deadlines.set(session, this.#handshakes.add(session));
  }

  /** The transport closed: clean up; plugins see `onSessionClose` if it was connected. */
  closed(session: Session, reason: string): void {
    if (session.state === 'closed') return;
    const wasConnected = session.state === 'connected';
    session.state = 'closed';
    this.#handshakeDone(session);
    this.sessions.remove(session);
    if (!wasConnected) return;
    this.plugins.closed(session, reason);
    // After the plugins' cleanup, so that nobody can take the nick before the USERLEAVEs.
    this.cluster.releaseNick(session.nick);
    this.log.debug(`${session.nick} left: ${reason}`);
    this.emit({ type: 'closed', nick: session.nick, reason });
  }

  /** One raw line from a transport. A returned promise holds the session's next lines. */
  line(session: Session, buf: Buffer): void | Promise<void> {
    if (!isUtf8(buf)) {
      this.reply(session, 'BAD_SYNTAX', 'line is not valid UTF-8');
      return;
    }
    return this.text(session, buf.toString('utf8'));
  }

  /** One decoded line, from a transport or injected by the host application. */
  text(session: Session, line: string): void | Promise<void> {
    // NUL and a bare CR are refused on every transport (PROTOCOL.md section 1): relayed,
    // a CR lets one client forge the look of another's line on a terminal.
    if (line.indexOf('\0') !== -1 || line.indexOf('\r') !== -1) {
      this.reply(session, 'BAD_SYNTAX', line.indexOf('\0') !== -1 ? 'NUL byte in line' : 'CR in line (only before LF)');
      return;
    }
    const raw = splitLine(line);
    if (raw === undefined) return;
    const verb = raw.verb;
    if (verb === '') {
      this.reply(session, 'BAD_SYNTAX', 'missing verb');
      return;
    }
    const kernelVerb = verb === 'CONNECT' || verb === 'DISCONNECT';
    if (!kernelVerb && this.plugins.ownerOf(verb) === undefined) {
      this.reply(session, 'UNKNOWN_COMMAND', verb);
      return;
    }
    if (verb === 'DISCONNECT' && session.state !== 'connected') {
      session.transport.close();
      return;
    }
    if (session.state !== 'connected' && verb !== 'CONNECT') {
      this.reply(session, 'NOT_CONNECTED');
      return;
    }
    if (verb === 'CONNECT' && session.state === 'connected') {
      this.reply(session, 'ALREADY_CONNECTED', session.nick);
      return;
    }
    let action: Action;
    if (isProtocolVerb(verb)) {
      const cmd = parseCommand(raw);
      if (cmd instanceof ProtocolError) {
        session.error(cmd.code, cmd.message);
        return;
      }
      if (cmd.verb === 'CONNECT') return this.#connect(session, cmd);
      if (cmd.verb === 'DISCONNECT') {
        session.transport.close(undefined, 'quit');
        return;
      }
      (cmd as { session?: Session }).session = session;
      action = cmd as Action;
    } else {
      action = { verb, args: raw.args, payload: raw.payload, session } satisfies CustomAction;
    }
    this.actions$.next(action);
    return this.#pending(session);
  }

  /** What a handler left pending for this session, if anything: the caller holds its next lines. */
  #pending(session: Session): Promise<void> | undefined {
    const p = session.pending;
    if (p === undefined) return undefined;
    session.pending = undefined;
    return p;
  }

  /** Stops plugin subscriptions and completes the streams. */
  shutdown(): void {
    this.#handshakes.clear();
    this.#deadlines.clear();
    for (const s of this.#subscriptions) s.unsubscribe();
    this.actions$.complete();
    this.events$.complete();
    this.errors$.complete();
  }

  #connect(session: Session, cmd: CommandMap['CONNECT']): void | Promise<void> {
    const major = cmd.version.slice(0, cmd.version.indexOf('.'));
    if (Number(major) !== Number(this.#serverMajor)) {
      this.reply(session, 'VERSION_UNSUPPORTED', cmd.version, PROTOCOL_VERSION);
      return;
    }
    if (this.sessions.isNickInUse(cmd.nick)) {
      this.reply(session, 'NICK_IN_USE', cmd.nick);
      return;
    }
    const auth = this.config.authenticate;
    if (!auth) return this.#accept(session, cmd);
    const req: AuthRequest = { nick: cmd.nick, realname: cmd.realname, version: cmd.version, remoteAddress: session.remoteAddress };
    if (cmd.token !== undefined) req.token = cmd.token;
    if (session.transport.request !== undefined) req.request = session.transport.request;
    return (async () => {
      let result: AuthResult = { ok: false };
      try {
        const r = await auth(req);
        result =
          typeof r === 'boolean'
            ? { ok: r }
            : r && typeof r === 'object' && r.ok === true
              ? r
              : { ok: false, ...(r && typeof r === 'object' ? { reason: r.reason } : {}) };
      } catch (err) {
        this.log.warn(`authentication hook threw for ${cmd.nick}`, err);
      }
      if (session.state !== 'handshake') return;
      if (result.ok) return this.#accept(session, cmd, result.data);
      else if (typeof result.reason === 'string' && result.reason !== '') session.error('AUTH_FAILED', `${WireErrors.AUTH_FAILED}: ${oneLine(result.reason)}`);
      else this.reply(session, 'AUTH_FAILED');
    })();
  }

  #accept(session: Session, cmd: CommandMap['CONNECT'], data?: unknown): void | Promise<void> {
    // Checked again: another session may have taken the nick during authentication.
    if (this.sessions.isNickInUse(cmd.nick)) {
      this.reply(session, 'NICK_IN_USE', cmd.nick);
      return;
    }
    const claim = this.cluster.claimNick(cmd.nick);
    if (typeof claim === 'string') return this.#claimed(session, cmd, data, claim);
    return claim.then(
      (r) => this.#claimed(session, cmd, data, r),
      () => this.#claimed(session, cmd, data, 'unavailable'),
    );
  }

  #claimed(session: Session, cmd: CommandMap['CONNECT'], data: unknown, claim: ClaimResult): void | Promise<void> {
    if (claim !== 'ok') {
      if (claim === 'taken') this.reply(session, 'NICK_IN_USE', cmd.nick);
      else this.reply(session, 'UNAVAILABLE');
      return;
    }
    // The session closed, or another local session took the nick, while the cluster answered.
    if (session.state !== 'handshake' || !this.sessions.claimNick(session, cmd.nick)) {
      this.cluster.releaseNick(cmd.nick);
      if (session.state === 'handshake') this.reply(session, 'NICK_IN_USE', cmd.nick);
      return;
    }
    session.nick = cmd.nick;
    session.realname = cmd.realname;
    session.state = 'connected';
    session.connectedAt = Date.now();
    if (data !== undefined) session.data = data;
    this.#handshakeDone(session);
    // Only the handshake needed the upgrade request: let the transport drop it.
    session.transport.accepted?.();
    session.write(Buffer.from(formatServer({ type: 'ACCEPT', hostname: this.config.hostname })));
    this.log.debug(`${session.nick} connected from ${session.remoteAddress}`);
    // Before the hooks, so that observers see `connected` before the auto-join's `joined`.
    if (this.events$.observed) this.events$.next({ type: 'connected', nick: session.nick, session: summarise(session) });
    this.plugins.opened(session);
    return this.#pending(session);
  }

  #handshakeDone(session: Session): void {
    const d = this.#deadlines.get(session);
    if (d === undefined) return;
    this.#handshakes.cancel(d);
    this.#deadlines.delete(session);
  }

  /** A plugin failed outside an action (a session hook): published on `errors$`. */
  fail(plugin: string, during: string, session: Session, error: unknown): void {
    this.errors$.next({ plugin, error, during, nick: session.nick });
  }

  #fail(plugin: string, action: Action, err: unknown): void {
    const session = action.session;
    if (err instanceof ProtocolError) {
      session.error(err.code, err.message);
      return;
    }
    this.log.error(`plugin ${plugin} failed on ${action.verb} from ${session}`, err);
    this.reply(session, 'INTERNAL', plugin);
    this.errors$.next({ plugin, error: err, during: action.verb, nick: session.nick });
  }
}

/** A reason from the host app goes on one line: control characters become spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ');
}

function summarise(s: Session): SessionSummary {
  const summary: SessionSummary = {
    id: s.id,
    nick: s.nick,
    realname: s.realname,
    remoteAddress: s.remoteAddress,
    remotePort: s.transport.remotePort,
    connectedAt: s.connectedAt,
  };
  if (s.data !== undefined) summary.data = s.data;
  return summary;
}
