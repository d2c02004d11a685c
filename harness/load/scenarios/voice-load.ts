/**
 * Voice talkers: every talker sends one frame per `frameMs` over UDP, on a
 * schedule fixed from the start (so timer lateness does not accumulate) and
 * staggered over the frame period (so the relay sees a steady stream, not a
 * burst every 20 ms).
 */
import type { LoadContext } from '../load-context.js';
import type { LoadVoice } from '../load-voice.js';

export interface Talker {
  readonly voice: LoadVoice;
  /** Participants a frame sent now reaches. */
  fanout(): number;
}

/** Frames a talker may send at once to catch up; further lateness is skipped, as a real client would. */
const MAX_CATCH_UP = 3;

export class VoiceLoad {
  readonly #ctx: LoadContext;
  readonly #talkers: { t: Talker; sent: number; phase: number }[];
  readonly #frameMs: number;
  readonly #payloads: readonly Buffer[];
  #t0 = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: LoadContext, talkers: readonly Talker[], opts: { frameMs: number; payloads: readonly Buffer[] }) {
    if (opts.payloads.length === 0) throw new RangeError('voice needs at least one payload');
    this.#ctx = ctx;
    this.#frameMs = opts.frameMs;
    this.#payloads = opts.payloads;
    this.#talkers = talkers.map((t, k) => ({ t, sent: 0, phase: k / talkers.length }));
  }

  start(): void {
    this.#t0 = performance.now();
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.min(5, this.#frameMs / 4)));
    this.#tick();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const ctx = this.#ctx;
    const v = ctx.m.voice;
    const frames = (performance.now() - this.#t0) / this.#frameMs;
    const payloads = this.#payloads;
    for (const tk of this.#talkers) {
      if (tk.t.voice.closed) continue;
      const due = Math.floor(frames + tk.phase) + 1;
      if (due - tk.sent > MAX_CATCH_UP) tk.sent = due - MAX_CATCH_UP;
      while (tk.sent < due) {
        tk.sent++;
        const voice = tk.t.voice;
        const ts = voice.send(payloads[voice.seq % payloads.length]!);
        v.framesSentAll++;
        if (ts >= ctx.measureStartVoiceMs && ts < ctx.measureEndVoiceMs) {
          v.framesSent++;
          v.framesExpected += tk.t.fanout();
        }
      }
    }
  }
}
