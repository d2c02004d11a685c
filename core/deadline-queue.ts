/** One entry of a {@link DeadlineQueue}; `item` is undefined once cancelled. */
export interface Deadline<T> {
  item: T | undefined;
}

/**
 * Deadlines that all last the same time (handshake timeouts, PING intervals):
 * one timer and a FIFO of small entries instead of a `Timeout` and a closure per
 * connection. A cancelled entry stays in the FIFO until its time, but without
 * its item, so a closed connection is not kept alive by it.
 */
export class DeadlineQueue<T> {
  #items: (Deadline<T> | undefined)[] = [];
  #due: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  readonly #run = (): void => this.#expireDue();

  /** @param ms how long every entry lasts; 0 or less: `add` does nothing */
  constructor(
    readonly ms: number,
    private readonly expire: (item: T) => void,
  ) {}

  /** Entries waiting, cancelled ones included. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** `item` expires `ms` from now (with `ms` 0 or less: never). */
  add(item: T): Deadline<T> {
    const entry: Deadline<T> = { item };
    if (this.ms <= 0) return entry;
    this.#items.push(entry);
    this.#due.push(performance.now() + this.ms);
    if (this.#timer === undefined && !this.#running) this.#arm(this.ms);
    return entry;
  }

  /** `entry` will not expire; the queue lets go of its item now. */
  cancel(entry: Deadline<T> | undefined): void {
    if (entry !== undefined) entry.item = undefined;
  }

  /** Drops every entry and the timer. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#due = [];
    this.#head = 0;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#run, Math.max(1, Math.ceil(ms)));
    this.#timer.unref();
  }

  #expireDue(): void {
    this.#timer = undefined;
    const items = this.#items;
    const due = this.#due;
    // A timer may fire a little early (it runs on the loop's cached clock).
    const now = performance.now() + 1;
    this.#running = true;
    try {
      while (this.#head < items.length && due[this.#head]! <= now) {
        const item = items[this.#head]!.item;
        items[this.#head] = undefined;
        this.#head++;
        if (item !== undefined) this.expire(item);
      }
    } finally {
      this.#running = false;
    }
    // `expire` may have cleared or added: read the fields again.
    if (this.#items !== items) return;
    if (this.#head >= items.length) {
      items.length = 0;
      due.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#due = due.slice(this.#head);
      this.#head = 0;
    }
    if (this.#timer === undefined && this.size > 0) this.#arm(this.#due[this.#head]! - performance.now());
  }
}
