/**
 * The kernel: turns lines into actions, owns the handshake, routes every action
 * through one RxJS stream to the plugins, and isolates their failures per action.
 * Plugins inject it to reach sessions, replies, events and configuration.
 */
import { isUtf8 } from 'node:buffer';
import { Subject, type OperatorFunction, type Subscription } from 'rxjs';
import { splitLine, parseCommand, isProtocolVerb, formatServer } from './codec.js';
import type { CommandMap } from './actions.js';
import { ProtocolError, WireErrors, type WireErrorCode } from './errors.js';
import { PROTOCOL_VERSION, type Limits } from './defaults.js';
import type { Logger } from './logger.js';
import type { Action, CustomAction } from './of-verb.js';
import type { PluginHooks } from './plugin.js';
import type { ServerEvent, PluginFailure } from './events.js';
import { SessionRegistry } from './session-registry.js';
import type { Session } from './session.js';
import { format } from 'node:util';
import type { DependencyContainer, InjectionToken } from 'tsyringe';

/** Verbs the kernel itself handles; no plugin may own them. */
export const KERNEL_VERBS: readonly string[] = ['CONNECT', 'DISCONNECT'];

export interface AuthRequest {
  nick: string;
  realname: string;
  version: string;
  /** The optional fourth `CONNECT` token. */
  token?: string;
  remoteAddress: string;
}

/** Decides whether a `CONNECT` may proceed; false (or a throw) answers `ERROR AUTH_FAILED`. */
export type AuthHook = (req: AuthRequest) => boolean | Promise<boolean>;

export interface KernelConfig {
  /** Sent in `ACCEPT: <hostname>`. */
  hostname: string;
  limits: Limits;
  authenticate?: AuthHook;
}

export class Kernel {
  /** Every action, after parsing, with its session. */
  readonly actions$ = new Subject<Action>();
  readonly events$ = new Subject<ServerEvent>();
  readonly errors$ = new Subject<PluginFailure>();
  readonly sessions = new SessionRegistry();
  /** The bound TCP address, once listening (plugins read it in `start`). */
  address: { host: string; port: number } | undefined;
  /** True when `listen` was asked for port 0: any port will do, so may a plugin's own. */
  ephemeralPort = false;

  readonly #owners = new Map<string, string>();
  #plugins: { name: string; hooks: PluginHooks }[] = [];
  readonly #subscriptions: Subscription[] = [];
  readonly #handshakeTimers = new Map<Session, NodeJS.Timeout>();
  readonly #serverMajor = PROTOCOL_VERSION.slice(0, PROTOCOL_VERSION.indexOf('.'));

  /** The kernel's own logger (`parley:kernel`). */
  readonly log: Logger;

  /** @param rootLog the server's logger; plugins get children of it through {@link logger} */
  constructor(
    readonly config: KernelConfig,
    private readonly rootLog: Logger,
  ) {
    this.log = rootLog.child('kernel');
  }

  /** A logger for a plugin or service, tagged `parley:<ns>`. */
  logger(ns: string): Logger {
    return this.rootLog.child(ns);
  }

  /** Called by the server once plugins are resolved. */
  setPlugins(plugins: { name: string; verbs: readonly string[]; hooks: PluginHooks }[]): void {
    this.#plugins = plugins;
    for (const p of plugins) for (const v of p.verbs) this.#owners.set(v, p.name);
  }

  /** Set by the server: lets plugins look up optional services. */
  container: DependencyContainer | undefined;

  /** Resolves a service another plugin may or may not provide. */
  optional<T>(token: InjectionToken<T>): T | undefined {
    const c = this.container;
    return c && c.isRegistered(token, true) ? c.resolve(token) : undefined;
  }

  /** The plugin owning `verb` (upper case), or undefined. */
  ownerOf(verb: string): string | undefined {
    return this.#owners.get(verb);
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
        if (r !== undefined) r.catch((err: unknown) => this.#fail(plugin, action, err));
      } catch (err) {
        this.#fail(plugin, action, err);
      }
    });
    this.#subscriptions.push(sub);
    this.log.debug(`plugin ${plugin} subscribed`);
  }

  emit(event: ServerEvent): void {
    if (this.events$.observed) this.events$.next(event);
  }

  /** Answers `session` with `ERROR <code>: <text formatted from the error table>`. */
  reply(session: Session, code: WireErrorCode, ...args: unknown[]): void {
    session.error(code, format(WireErrors[code], ...args));
  }

  /** A new transport-backed session: starts its handshake timer. */
  open(session: Session): void {
    this.sessions.add(session);
    const ms = this.config.limits.handshakeTimeoutMs;
    if (ms > 0) {
      const t = setTimeout(() => {
        if (session.state === 'handshake') session.close('handshake timeout');
      }, ms);
      t.unref();
      this.#handshakeTimers.set(session, t);
    }
  }

  /** The transport closed: clean up; plugins see `onSessionClose` if it was connected. */
  closed(session: Session, reason: string): void {
    if (session.state === 'closed') return;
    const wasConnected = session.state === 'connected';
    session.state = 'closed';
    this.#clearHandshake(session);
    this.sessions.remove(session);
    if (!wasConnected) return;
    for (let i = this.#plugins.length - 1; i >= 0; i--) {
      const p = this.#plugins[i]!;
      if (p.hooks.onSessionClose) this.#hook(p.name, 'onSessionClose', session, () => p.hooks.onSessionClose!(session, reason));
    }
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
    const raw = splitLine(line);
    if (raw === undefined) return;
    const verb = raw.verb;
    if (verb === '') {
      this.reply(session, 'BAD_SYNTAX', 'missing verb');
      return;
    }
    const kernelVerb = verb === 'CONNECT' || verb === 'DISCONNECT';
    if (!kernelVerb && !this.#owners.has(verb)) {
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
  }

  /** Stops plugin subscriptions and completes the streams. */
  shutdown(): void {
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
    return (async () => {
      let ok = false;
      try {
        ok = (await auth(req)) === true;
      } catch (err) {
        this.log.warn(`authentication hook threw for ${cmd.nick}`, err);
      }
      if (session.state !== 'handshake') return;
      if (ok) this.#accept(session, cmd);
      else this.reply(session, 'AUTH_FAILED');
    })();
  }

  #accept(session: Session, cmd: CommandMap['CONNECT']): void {
    // Checked again: another session may have taken the nick during authentication.
    if (!this.sessions.claimNick(session, cmd.nick)) {
      this.reply(session, 'NICK_IN_USE', cmd.nick);
      return;
    }
    session.nick = cmd.nick;
    session.realname = cmd.realname;
    session.state = 'connected';
    session.connectedAt = Date.now();
    this.#clearHandshake(session);
    session.write(Buffer.from(formatServer({ type: 'ACCEPT', hostname: this.config.hostname })));
    this.log.debug(`${session.nick} connected from ${session.remoteAddress}`);
    // Before the hooks, so that observers see `connected` before the auto-join's `joined`.
    this.emit({ type: 'connected', nick: session.nick, session });
    for (const p of this.#plugins) {
      if (p.hooks.onSessionOpen) this.#hook(p.name, 'onSessionOpen', session, () => p.hooks.onSessionOpen!(session));
      if (session.state !== 'connected') return;
    }
  }

  #clearHandshake(session: Session): void {
    const t = this.#handshakeTimers.get(session);
    if (t) {
      clearTimeout(t);
      this.#handshakeTimers.delete(session);
    }
  }

  #hook(plugin: string, during: string, session: Session, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error(`plugin ${plugin} failed in ${during} for ${session}`, error);
      this.errors$.next({ plugin, error, during, nick: session.nick });
    }
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
