/**
 * The process's open-file limit and how many files it has open, where the OS
 * tells (Linux: /proc). libuv answers an accept that fails with EMFILE by
 * accepting and closing the pending connections itself, so Node never hears of
 * it and the clients get a reset: the server must stay below the limit instead.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The soft limit on open files (`ulimit -n`), or undefined where unknown or unlimited. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Files this process has open now, or undefined where unknown. */
export function openFileCount(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}
