/**
 * `USERLIST`/`TALKLIST` lines built incrementally, split exactly as
 * `formatServer` splits them. A join appends one nick (O(nick)); full lines
 * are encoded once and shared by every later joiner, so a channel of n members
 * costs O(n) to list instead of O(n) string building per join.
 */
import type { Session } from './session.js';

export class ListLines {
  readonly #prefix: string;
  readonly #prefixBytes: number;
  readonly #full: Buffer[] = [];
  #line = '';
  #lineBytes = 0;
  #tail: Buffer | undefined;

  /** @param prefix e.g. `USERLIST #dev: ` */
  constructor(
    prefix: string,
    private readonly maxLineBytes: number,
  ) {
    this.#prefix = prefix;
    this.#prefixBytes = Buffer.byteLength(prefix);
  }

  add(nick: string): void {
    const nickBytes = Buffer.byteLength(nick);
    if (this.#line !== '' && this.#prefixBytes + this.#lineBytes + 2 + nickBytes + 1 > this.maxLineBytes) {
      this.#full.push(Buffer.from(`${this.#prefix}${this.#line}\n`));
      this.#line = '';
      this.#lineBytes = 0;
    }
    if (this.#line === '') {
      this.#line = nick;
      this.#lineBytes = nickBytes;
    } else {
      this.#line += `, ${nick}`;
      this.#lineBytes += 2 + nickBytes;
    }
    this.#tail = undefined;
  }

  /** Writes every line of the list to `session`. */
  writeTo(session: Session): void {
    for (const buf of this.#full) session.write(buf);
    this.#tail ??= Buffer.from(`${this.#prefix}${this.#line}\n`);
    session.write(this.#tail);
  }
}
