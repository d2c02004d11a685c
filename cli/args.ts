/** Flag parsing shared by the commands: typed numbers, clear errors. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function num(value: string | undefined, flag: string, opts: { min?: number; integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} expects a number, got "${value}"`);
  if (opts.integer && !Number.isInteger(n)) throw new UsageError(`--${flag} expects a whole number, got "${value}"`);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${flag} must be at least ${opts.min}, got ${value}`);
  return n;
}

/** Seconds (fractions allowed) to milliseconds. */
export function seconds(value: string | undefined, flag: string): number | undefined {
  const s = num(value, flag, { min: 0 });
  return s === undefined ? undefined : Math.round(s * 1000);
}

/** `host:port` or `port`. */
export function hostPort(value: string, flag: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const host = i === -1 ? '127.0.0.1' : value.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = num(i === -1 ? value : value.slice(i + 1), flag, { min: 0, integer: true })!;
  if (port > 65535) throw new UsageError(`--${flag}: port ${port} is out of range`);
  return { host, port };
}
