/**
 * Flag parsing shared by the commands: one `parseArgs` wrapper, typed numbers,
 * durations with units, ports and `host:port`, and usage errors in one style.
 */
import { parseArgs } from 'node:util';

/** A mistake in the command line; `main` prints it as `parley: <command>: <message>` and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One flag: what parseArgs needs plus what its help line shows. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in the help, e.g. `N`, `DURATION`. */
  arg?: string;
  /** What the flag does, one line. */
  help?: string;
  /** The default as shown in the help, with its unit (taken from the defaults objects, never repeated). */
  shown?: () => string;
}

export type FlagValues<T extends Record<string, FlagSpec>> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string;
};

/**
 * `node:util` parseArgs over a flag table, strict, no positionals; its errors
 * become UsageErrors in the CLI's words. No defaults are applied here: each
 * command fills them from the library's defaults objects.
 */
export function parseFlags<T extends Record<string, FlagSpec>>(argv: string[], specs: T): FlagValues<T> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, s] of Object.entries(specs)) options[name] = s.short ? { type: s.type, short: s.short } : { type: s.type };
  // `--clients -5`: parseArgs takes `-5` for a flag; pass it as the value so the range check explains it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name !== undefined && specs[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as FlagValues<T>;
  } catch (err) {
    throw usageFromParseArgs(err);
  }
}

function usageFromParseArgs(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return err;
  const msg = (err as Error).message;
  const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown flag ${flag ? `'${flag}'` : msg}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${/'([^']*)'/.exec(msg)?.[0] ?? msg}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(msg)) return new UsageError(`${flag ?? 'a flag'} needs a value`);
      if (/does not take an argument/.test(msg)) return new UsageError(`${flag ?? 'a flag'} takes no value`);
      return new UsageError(`${flag ? `${flag} needs a value (to give one starting with '-', write ${flag}=VALUE)` : msg}`);
    default:
      return new UsageError(msg);
  }
}

/** A number within bounds; undefined stays undefined. */
export function num(value: string | undefined, flag: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} expects a number, got '${value}'`);
  if (opts.integer && !Number.isInteger(n)) throw new UsageError(`--${flag} expects a whole number, got '${value}'`);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${flag} must be at least ${opts.min}, got ${value}`);
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`--${flag} must be at most ${opts.max}, got ${value}`);
  return n;
}

const UNIT_MS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration to milliseconds: `500ms`, `10s`, `2m`, `1h`, `250us`, or a bare
 * number in `bare` units (seconds unless a flag documents otherwise).
 */
export function duration(value: string | undefined, flag: string, opts: { bare?: 's' | 'ms'; positive?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|m|h)?\s*$/.exec(value);
  if (!m)
    throw new UsageError(
      `--${flag} expects a duration such as 500ms, 10s, 2m or 1h (a bare number is ${opts.bare === 'ms' ? 'milliseconds' : 'seconds'}), got '${value}'`,
    );
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? opts.bare ?? 's']!;
  if (opts.positive && ms <= 0) throw new UsageError(`--${flag} must be above 0, got ${value}`);
  return ms;
}

/** A TCP/UDP port, 0 allowed (any free one) unless `min` says otherwise. */
export function port(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const p = Number(value);
  if (value.trim() === '' || !Number.isInteger(p)) throw new UsageError(`--${flag} expects a port number, got '${value}'`);
  if (p < min || p > 65535) throw new UsageError(`--${flag}: port ${value} is out of range (${min}-65535)`);
  return p;
}

/** `HOST:PORT`, `[v6]:PORT` or a bare `PORT` (on 127.0.0.1); the port is required and above 0. */
export function hostPort(value: string, flag: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  if (i === -1 && !/^\d+$/.test(value.trim())) throw new UsageError(`--${flag} expects HOST:PORT, got '${value}' (no port)`);
  const host = i === -1 ? '127.0.0.1' : value.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  if (/\s/.test(host)) throw new UsageError(`--${flag} expects HOST:PORT, got '${value}'`);
  return { host, port: port(i === -1 ? value : value.slice(i + 1), flag, 1)! };
}

/** Keys whose value is undefined removed, so that a spread keeps the library's defaults. */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Milliseconds as the help shows them: `60s`, `500ms`, `2m`. */
export function formatMs(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0 && ms >= 600_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Bytes as the help shows them: `8192 bytes`, `1 MiB`. */
export function formatBytes(b: number): string {
  if (b >= 1024 * 1024 && b % (1024 * 1024) === 0) return `${b / (1024 * 1024)} MiB`;
  if (b >= 1024 && b % 1024 === 0 && b > 8192) return `${b / 1024} KiB`;
  return `${b} bytes`;
}

/** A flag table as help lines: `  --flag ARG   what it does [default]`. */
export function flagLines(specs: Record<string, FlagSpec>, width = 30): string {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(specs)) {
    const left = `  ${s.short ? `-${s.short}, ` : ''}--${name}${s.arg ? ` ${s.arg}` : ''}`;
    const shown = s.shown ? ` [${s.shown()}]` : '';
    lines.push(`${left.padEnd(width)} ${s.help ?? ''}${shown}`);
  }
  return `${lines.join('\n')}\n`;
}
