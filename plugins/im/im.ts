/**
 * Instant messages: `MSG #channel: text` to every other member, `MSG nick: text`
 * to one user. Payloads are relayed byte-exact, each formatted once per fan-out.
 */
import {
  CHANNEL_DIRECTORY,
  formatServer,
  isChannelName,
  isValidChannel,
  ofVerb,
  ProtocolError,
  type ActionMap,
  type ChannelDirectory,
  type PluginContext,
  type PluginHooks,
} from '../../core/index.js';

/** Bytes a relayed line may exceed the line limit by (its prefix; PROTOCOL.md section 1). */
const RELAY_SLACK = 64;

export class ImPlugin implements PluginHooks {
  /** Absent without the channels plugin: then every channel target is NOT_IN_CHANNEL. */
  #channels: ChannelDirectory | undefined;
  readonly #maxLine: number;

  constructor(private readonly ctx: PluginContext) {
    this.#maxLine = ctx.config.limits.maxLineBytes;
  }

  start(): void {
    this.#channels = this.ctx.optional(CHANNEL_DIRECTORY);
    this.ctx.handle(ofVerb('MSG'), (a) => this.#msg(a));
  }

  #msg(a: ActionMap['MSG']): void {
    const { session, target, text } = a;
    if (isChannelName(target)) {
      if (!isValidChannel(target)) throw new ProtocolError('CHANNEL_INVALID', target);
      const dir = this.#channels;
      if (!dir || !dir.isMember(session, target)) throw new ProtocolError('NOT_IN_CHANNEL', target);
      const channel = dir.spelling(target)!;
      const list = dir.memberList(target)!;
      const buf = this.#encode(session.nick, channel, text);
      for (let i = 0; i < list.length; i++) if (list[i] !== session) list[i]!.write(buf);
      this.ctx.emit({ type: 'message', from: session.nick, to: channel, text });
      return;
    }
    const to = this.ctx.sessions.byNick(target);
    if (!to) throw new ProtocolError('NO_SUCH_USER', target);
    to.write(this.#encode(session.nick, to.nick, text));
    this.ctx.emit({ type: 'message', from: session.nick, to: to.nick, text });
  }

  /**
   * The relayed line. A client line within the limit always fits: the relay adds
   * the sender's nick and a space or two, and PROTOCOL.md section 1 lets relayed
   * lines exceed the limit by up to 64 bytes.
   */
  #encode(sender: string, recipient: string, text: string): Buffer {
    const buf = Buffer.from(formatServer({ type: 'MSG', sender, recipient, text }));
    if (buf.length > this.#maxLine + RELAY_SLACK) throw new ProtocolError('BAD_SYNTAX', 'message too long to relay');
    return buf;
  }
}
