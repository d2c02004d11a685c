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

  #msg(a: ActionMap['MSG']): void | Promise<void> {
    const { session, target, text } = a;
    if (isChannelName(target)) {
      if (!isValidChannel(target)) throw new ProtocolError('CHANNEL_INVALID', target);
      const channel = this.#channels ? this.ctx.cluster.channel(target) : undefined;
      if (!channel?.members.has(session)) throw new ProtocolError('NOT_IN_CHANNEL', target);
      // Members on this node get the line now; other nodes get it from one bus publish.
      this.ctx.cluster.toChannel(channel, this.#encode(session.nick, channel.name, text), session);
      this.ctx.emit({ type: 'message', from: session.nick, to: channel.name, text });
      return;
    }
    const to = this.ctx.sessions.byNick(target);
    if (to) {
      to.write(this.#encode(session.nick, to.nick, text));
      this.ctx.emit({ type: 'message', from: session.nick, to: to.nick, text });
      return;
    }
    // Not on this node: on another one, or nowhere.
    this.#encode(session.nick, target, text);
    const r = this.ctx.cluster.sendMessage(session.nick, target, text);
    if (r === false) throw new ProtocolError('NO_SUCH_USER', target);
    if (r === true) return this.#sent(session.nick, target, text);
    return r.then((ok) => {
      if (!ok) throw new ProtocolError('NO_SUCH_USER', target);
      this.#sent(session.nick, target, text);
    });
  }

  #sent(from: string, to: string, text: string): void {
    this.ctx.emit({ type: 'message', from, to, text });
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
