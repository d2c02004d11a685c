/**
 * What a transport calls for its session: the kernel's entry points. One object
 * per connection, with its methods on the prototype, rather than a closure per
 * entry point: an idle connection is mostly what it holds.
 */
import type { Kernel } from './kernel.js';
import type { Session } from './session.js';

/** The server's side of every link, shared by all of them. */
export interface LinkHost {
  readonly kernel: Kernel;
  /** A binary message from a session (WebSocket voice frames). */
  binary(session: Session, data: Buffer): void;
  /** The transport closed, before the kernel hears of it. */
  closed?(link: SessionLink): void;
}

export class SessionLink {
  constructor(
    private readonly host: LinkHost,
    readonly session: Session,
  ) {}

  line(buf: Buffer): void | Promise<void> {
    return this.host.kernel.line(this.session, buf);
  }

  tooLong(): void {
    const kernel = this.host.kernel;
    kernel.reply(this.session, 'LINE_TOO_LONG', kernel.config.limits.maxLineBytes);
  }

  binary(data: Buffer): void {
    this.host.binary(this.session, data);
  }

  closed(reason: string): void {
    this.host.closed?.(this);
    this.host.kernel.closed(this.session, reason);
  }
}
