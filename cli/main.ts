#!/usr/bin/env node
/** The `parley` command: serve, load, chat. The CLI only parses flags and renders; the work is in the library. */
import { serve } from './serve.js';
import { helpFor, MAIN_HELP } from './help.js';
import { UsageError } from './args.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => serve,
  chat: async () => (await import('./chat.js')).chat,
  load: async () => (await import('./load.js')).load,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(MAIN_HELP);
    return cmd === undefined ? 1 : 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`parley: unknown command "${cmd}"\n\n${MAIN_HELP}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpFor(cmd));
    return 0;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`parley ${cmd}: ${err.message}\nSee 'parley ${cmd} --help'.\n`);
      return 2;
    }
    const e = err as Error & { code?: string };
    const prefix = e.code && !e.message.startsWith(e.code) ? `${e.code}: ` : '';
    process.stderr.write(`parley ${cmd}: ${prefix}${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
