/**
 * Who may open a connection: the caps on connections in all and per IP, and the
 * per-IP connection-rate throttle. Counted from TCP accept, so TLS handshakes in
 * progress (or stuck) count too.
 */
import type { Limits } from './defaults.js';

export type Refusal = 'server full' | 'too many connections from your address';

interface RateState {
  tokens: number;
  last: number;
}

/** Rate entries are swept (the full ones dropped) whenever the map doubles past this. */
const SWEEP_FLOOR = 1024;

export class Admission {
  /** Connections the open-file limit leaves room for; Infinity: not bounded (see {@link limitFds}). */
  #fdRoom = Infinity;
  #fdRefused: (() => void) | undefined;
  #open = 0;
  readonly #perIp = new Map<string, number>();
  readonly #rate = new Map<string, RateState>();
  #sweepAt = SWEEP_FLOOR;

  constructor(
    private readonly limits: Pick<Limits, 'maxConnections' | 'maxConnectionsPerIp' | 'connectRatePerIp' | 'connectBurstPerIp'>,
    /** Loopback addresses skip the rate throttle (as Ergo exempts localhost). */
    private readonly exemptLoopback = true,
  ) {}

  /** Sockets admitted and not yet released. */
  get open(): number {
    return this.#open;
  }

  /** Counts a new connection from `ip`, or returns why it is refused (then nothing is counted). */
  admit(ip: string, now = performance.now()): Refusal | undefined {
    const { maxConnections, maxConnectionsPerIp } = this.limits;
    // Every attempt spends a token, refused or not: a client retrying in a loop stays throttled.
    const throttled = !this.#rateOk(ip, now);
    if (maxConnections > 0 && this.#open >= maxConnections) return 'server full';
    if (this.#open >= this.#fdRoom) {
      this.#fdRefused?.();
      return 'server full';
    }
    const count = (this.#perIp.get(ip) ?? 0) + 1;
    if (maxConnectionsPerIp > 0 && count > maxConnectionsPerIp) return 'too many connections from your address';
    if (throttled) return 'too many connections from your address';
    this.#perIp.set(ip, count);
    this.#open++;
    return undefined;
  }

  /** Past `room` open connections, refuses as `server full` and calls `refused` (which logs). */
  limitFds(room: number, refused: () => void): void {
    this.#fdRoom = room;
    this.#fdRefused = refused;
  }

  /** The connection from `ip` closed. Call once per admitted connection. */
  release(ip: string): void {
    this.#open--;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(ip, left);
    else this.#perIp.delete(ip);
  }

  #rateOk(ip: string, now: number): boolean {
    const { connectRatePerIp: rate, connectBurstPerIp: burst } = this.limits;
    if (rate <= 0 || (this.exemptLoopback && isLoopback(ip))) return true;
    let s = this.#rate.get(ip);
    if (!s) {
      s = { tokens: Math.max(1, burst), last: now };
      this.#rate.set(ip, s);
      if (this.#rate.size >= this.#sweepAt) this.#sweep(now);
    }
    s.tokens = Math.min(Math.max(1, burst), s.tokens + ((now - s.last) * rate) / 1000);
    s.last = now;
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
  }

  /** Drops entries whose bucket has refilled: they hold nothing a new entry would not. */
  #sweep(now: number): void {
    const { connectRatePerIp: rate, connectBurstPerIp: burst } = this.limits;
    for (const [ip, s] of this.#rate) if (s.tokens + ((now - s.last) * rate) / 1000 >= burst) this.#rate.delete(ip);
    this.#sweepAt = Math.max(SWEEP_FLOOR, 2 * this.#rate.size);
  }
}

/** 127.0.0.0/8 and ::1 (IPv4-mapped forms already normalised). */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.');
}
