#!/usr/bin/env node
/** The `parley` command: serve, load, chat. The CLI only parses flags and renders; the work is in the library. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAT_HELP, LOAD_HELP, MAIN_HELP } from './help.js';
import { UsageError } from './args.js';

interface Command {
  run(argv: string[]): Promise<number>;
  help(): string;
}

// Loaded on use, so that `parley chat` does not load the server or the load harness.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => {
    const m = await import('./serve.js');
    return { run: m.serve, help: m.serveHelp };
  },
  chat: async () => ({ run: (await import('./chat.js')).chat, help: () => CHAT_HELP }),
  load: async () => ({ run: (await import('./load.js')).load, help: () => LOAD_HELP }),
};

/** The package version, from the package.json two levels above the built file (dist/cli/main.js). */
export function version(): string {
  for (const up of [['..', '..'], ['..']]) {
    try {
      return (JSON.parse(readFileSync(join(__dirname, ...up, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not there: try the next place
    }
  }
  return 'unknown';
}

function usage(cmd: string | undefined, message: string): number {
  const where = cmd === undefined ? 'parley' : `parley ${cmd}`;
  process.stderr.write(`parley: ${cmd === undefined ? '' : `${cmd}: `}${message}\nTry '${where} --help'.\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(MAIN_HELP);
    return 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`parley ${version()}\n`);
    return 0;
  }
  if (cmd === undefined) {
    process.stderr.write(MAIN_HELP);
    return 2;
  }
  const load = COMMANDS[cmd];
  if (!load) return usage(undefined, cmd.startsWith('-') ? `unknown flag '${cmd}'` : `unknown command '${cmd}'`);
  const command = await load();
  // Before parsing, so that `--help` works next to flags that are still incomplete.
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help());
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) return usage(cmd, err.message);
    const e = err as Error & { code?: string };
    const prefix = e.code && !e.message.startsWith(e.code) ? `${e.code}: ` : '';
    process.stderr.write(`parley: ${cmd}: ${prefix}${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
