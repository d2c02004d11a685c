/**
 * Text senders: paced at an aggregate rate, or open loop. Each message's text is
 * `<slot> <seq> <tsUs> ` padded to the payload size, so that receivers measure
 * latency and detect loss, duplicates and reordering per sender. A sender holds
 * back while `window` of its messages are unseen by its observer (one of its
 * receivers), which bounds memory when the server falls behind.
 */
import { autoWindow } from '../defaults.js';
import type { LoadClient } from '../load-client.js';
import { nowUs, type LoadContext } from '../load-context.js';

export interface TextSender {
  readonly client: LoadClient;
  /** `MSG <target>: ` */
  readonly head: string;
  /** This sender's slot at its receivers. */
  readonly slot: number;
  /** A receiver whose `seqs[slot]` shows what arrived; undefined for no window. */
  readonly observer: LoadClient | undefined;
  /** Recipients of a message sent now. */
  fanout(): number;
}

interface SenderState {
  s: TextSender;
  window: number;
  seq: number;
  /** Messages due so far (paced). */
  due: number;
  phase: number;
  drain: boolean;
}

/** Longest batch one sender writes at once. */
const BATCH = 50;
/** Paced mode's timer period, ms. */
const TICK_MS = 2;

export class TextLoad {
  readonly #ctx: LoadContext;
  readonly #st: SenderState[];
  readonly #rate: number;
  readonly #pad: string;
  #t0 = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #pumpQueued = false;

  constructor(ctx: LoadContext, senders: readonly TextSender[], opts: { rate: number; window: number | undefined; payloadBytes: number }) {
    this.#ctx = ctx;
    this.#rate = opts.rate;
    this.#pad = 'x'.repeat(opts.payloadBytes);
    this.#st = senders.map((s, k) => ({ s, window: opts.window ?? autoWindow(s.fanout()), seq: 0, due: 0, phase: k / senders.length, drain: false }));
    for (const st of this.#st) {
      if (st.s.observer) st.s.observer.wakeOnMsg = this.#rate === 0;
      st.s.client.socket.on('drain', () => {
        st.drain = false;
        if (this.#rate === 0) this.#queuePump();
      });
    }
    ctx.wake = () => this.#queuePump();
  }

  start(): void {
    this.#t0 = performance.now();
    if (this.#rate > 0) this.#timer = setInterval(() => this.#paced(), TICK_MS);
    else this.#queuePump();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#ctx.wake = () => {};
  }

  /** Messages sent but not yet seen by the observer. */
  #outstanding(st: SenderState): number {
    const o = st.s.observer;
    const seen = o?.seqs?.[st.s.slot];
    return o === undefined || seen === undefined || o.state !== 'accepted' ? 0 : st.seq - seen;
  }

  #paced(): void {
    if (this.#stopped) return;
    const perSender = this.#rate / this.#st.length;
    const elapsedS = (performance.now() - this.#t0) / 1000;
    for (const st of this.#st) {
      if (st.drain || st.s.client.state !== 'accepted') continue;
      st.due = Math.floor(elapsedS * perSender + st.phase) + 1;
      let n = Math.min(st.due - st.seq, 1000);
      if (n <= 0) continue;
      const room = st.window - this.#outstanding(st);
      if (n > room) {
        this.#ctx.m.windowStalls++;
        n = room;
      }
      if (n > 0) this.#write(st, n);
    }
  }

  #queuePump(): void {
    if (this.#pumpQueued || this.#stopped) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  /** Open loop: every sender writes what its window allows, then again next turn. */
  #pump(): void {
    if (this.#stopped) return;
    let sent = false;
    for (const st of this.#st) {
      if (st.drain || st.s.client.state !== 'accepted') continue;
      const n = Math.min(BATCH, st.window - this.#outstanding(st));
      if (n > 0) {
        this.#write(st, n);
        sent = true;
      }
    }
    // Nothing sent: observers' deliveries and 'drain' events queue the next pump.
    if (sent) this.#queuePump();
  }

  #write(st: SenderState, n: number): void {
    const ts = Math.floor(nowUs());
    const s = st.s;
    const pad = this.#pad;
    let text = '';
    for (let k = 0; k < n; k++) {
      const header = `${s.slot} ${st.seq++} ${ts} `;
      text += `${s.head + header + (header.length < pad.length ? pad.substring(header.length) : '')}\n`;
    }
    const m = this.#ctx.m;
    m.sentAll += n;
    if (ts >= this.#ctx.measureStartUs && ts < this.#ctx.measureEndUs) {
      m.sent += n;
      m.expected += n * s.fanout();
    }
    if (!s.client.write(text)) st.drain = true;
  }
}
