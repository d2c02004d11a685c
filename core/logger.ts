/**
 * A small levelled logger with namespaces (`parley:kernel`, `parley:voip`).
 * Embedded servers log warnings and errors by default; `parley serve` sets the level.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

export interface Logger {
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
  /** A logger whose lines are tagged `parley:<ns>`. */
  child(ns: string): Logger;
  readonly level: LogLevel;
}

export type LogSink = (line: string) => void;

/**
 * @param level lowest level written (default 'warn')
 * @param sink where lines go (default: process.stderr)
 */
export function createLogger(level: LogLevel = 'warn', sink: LogSink = (l) => process.stderr.write(`${l}\n`), ns = 'parley'): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, args: unknown[]): void => {
    if (RANK[lvl] < min) return;
    const extra = args.length ? ` ${args.map(fmtArg).join(' ')}` : '';
    sink(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${ns} ${msg}${extra}`);
  };
  return {
    level,
    debug: (m, ...a) => emit('debug', m, a),
    info: (m, ...a) => emit('info', m, a),
    warn: (m, ...a) => emit('warn', m, a),
    error: (m, ...a) => emit('error', m, a),
    child: (child) => createLogger(level, sink, `${ns}:${child}`),
  };
}

function fmtArg(a: unknown): string {
  if (a instanceof Error) return a.stack ?? a.message;
  if (typeof a === 'string') return a;
  try {
    return JSON.stringify(a);
  } catch {
    return String(a);
  }
}
