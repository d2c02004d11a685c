/**
 * Plugin options: defaults filled in, unknown keys and bad values refused with
 * `PARLEY_ERR_INVALID_OPTION` naming `<plugin>.<key>`, at `createServer` time.
 */
import { ParleyError } from './errors.js';

/** Returns why a value is wrong, or undefined when it is fine. */
export type OptionCheck<V> = (value: V) => string | undefined;
export type OptionChecks<T> = { [K in keyof T]?: OptionCheck<T[K]> };

/**
 * @param plugin prefix of the option names in errors
 * @param defaults every key with its default; no other key is accepted
 * @param given what the user passed (undefined values take the default)
 * @param checks per-key validation
 */
export function resolveOptions<T extends object>(plugin: string, defaults: Readonly<T>, given: Partial<T> | undefined, checks: OptionChecks<T>): T {
  const opts = { ...defaults } as T;
  if (given !== undefined && (given === null || typeof given !== 'object')) {
    throw new ParleyError('PARLEY_ERR_INVALID_OPTION', plugin, `options must be an object, got ${String(given)}`);
  }
  for (const [k, v] of Object.entries(given ?? {})) {
    if (!Object.hasOwn(defaults, k))
      throw new ParleyError('PARLEY_ERR_INVALID_OPTION', `${plugin}.${k}`, `unknown option (known: ${Object.keys(defaults).join(', ')})`);
    if (v !== undefined) (opts as Record<string, unknown>)[k] = v;
  }
  for (const k of Object.keys(checks) as (keyof T & string)[]) {
    const why = checks[k]!(opts[k]);
    if (why !== undefined) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', `${plugin}.${k}`, why);
  }
  return opts;
}

/** A finite number above 0. */
export const positive: OptionCheck<number> = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : `must be a positive number, got ${String(v)}`;

/** A whole number in [min, max]. */
export function whole(min: number, max = Number.MAX_SAFE_INTEGER): OptionCheck<number> {
  return (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be a whole number from ${min} to ${max}, got ${String(v)}`;
}
