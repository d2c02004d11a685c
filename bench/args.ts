// Command-line flags of the bench executables, tokenized by node:util parseArgs (the CLI's parser too).
// Each executable takes its own flags, so they are not declared: `--name value`, `--name=value` and a bare
// `--flag` (true); anything else is positional.
import { parseArgs as utilParseArgs } from 'node:util';

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { tokens } = utilParseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < tokens.length; i++) {
    const tk = tokens[i]!;
    if (tk.kind === 'positional') positional.push(tk.value);
    else if (tk.kind === 'option-terminator') positional.push('--');
    else if (tk.value !== undefined) flags.set(tk.name, tk.value);
    else {
      // Undeclared flags: a following positional token is the flag's value (`--name value`).
      const next = tokens[i + 1];
      if (next?.kind === 'positional' && tk.rawName.startsWith('--')) {
        flags.set(tk.name, next.value);
        i++;
      } else flags.set(tk.name, true);
    }
  }
  return { positional, flags };
}

export function numFlag(args: ParsedArgs, name: string, def: number, opts: { min?: number; int?: boolean } = {}): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return def;
  const v = raw === true ? NaN : Number(raw);
  const min = opts.min ?? 0;
  if (!Number.isFinite(v) || v < min || ((opts.int ?? true) && !Number.isInteger(v))) {
    throw new Error(`--${name}: expected ${(opts.int ?? true) ? 'an integer' : 'a number'} >= ${min}, got ${String(raw)}`);
  }
  return v;
}

export function strFlag(args: ParsedArgs, name: string, def: string): string;
export function strFlag(args: ParsedArgs, name: string, def?: undefined): string | undefined;
export function strFlag(args: ParsedArgs, name: string, def?: string): string | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined) return def;
  if (raw === true) throw new Error(`--${name}: expected a value`);
  return raw;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  const raw = args.flags.get(name);
  return raw === true || raw === 'true' || raw === '1';
}

/** The flags of one executable; a bad value prints `<tool>: <message>` on stderr and exits 1. */
export interface ToolFlags {
  readonly args: ParsedArgs;
  usageError(msg: string): never;
  /** numFlag, with a bad value a usage error. */
  num(name: string, def: number, opts?: { min?: number; int?: boolean }): number;
}

export function toolFlags(tool: string, argv: readonly string[] = process.argv.slice(2)): ToolFlags {
  const args = parseArgs(argv);
  function usageError(msg: string): never {
    process.stderr.write(`${tool}: ${msg}\n`);
    process.exit(1);
  }
  function num(name: string, def: number, opts?: { min?: number; int?: boolean }): number {
    try {
      return numFlag(args, name, def, opts);
    } catch (err) {
      return usageError((err as Error).message);
    }
  }
  return { args, usageError, num };
}
