/** `parley chat`: an interactive terminal client. Renders; the protocol work is ParleyClient's. */
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { foldCase } from '../core/names.js';
import { ParleyClient, ClientError } from '../harness/client/index.js';
import { hostPort, UsageError } from './args.js';
import { CHAT_COMMANDS_HELP, parseInput, renderMessage } from './chat-view.js';

export const CHAT_OPTIONS = {
  nick: { type: 'string' },
  realname: { type: 'string', default: '' },
  target: { type: 'string', default: '127.0.0.1:7420' },
  tls: { type: 'boolean', default: false },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function chat(argv: string[], input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: CHAT_OPTIONS, strict: true });
  if (!v.nick) throw new UsageError('--nick is required');
  const { host, port } = hostPort(v.target!, 'target');
  const client = new ParleyClient({ host, port, tls: v.tls ? { rejectUnauthorized: false } : false, timeoutMs: 10_000 });
  const print = (line: string): void => {
    output.write(line + '\n');
  };
  try {
    await client.open();
  } catch (err) {
    print(`!! cannot connect to ${host}:${port}: ${(err as Error).message}`);
    return 1;
  }
  let current: string | undefined;
  /** Talk keys by folded peer nick (or channel), and the latest request's peer. */
  const talks = new Map<string, { peer: string; key: string }>();
  let latestRequest: string | undefined;
  const sub = client.messages$.subscribe((m) => {
    if (m.type === 'JOINED') current = m.channel;
    if (m.type === 'LEFT' && current && foldCase(current) === foldCase(m.channel)) current = undefined;
    if (m.type === 'TALK') {
      if (m.event === 'ENDED' || m.event === 'DENIED') talks.delete(foldCase(m.peer));
      else talks.set(foldCase(m.peer), { peer: m.peer, key: m.key });
      if (m.event === 'REQUEST') latestRequest = m.peer;
    }
    const text = renderMessage(m, client.nick || v.nick!);
    if (text !== undefined) print(text);
  });
  try {
    await client.hello(v.nick, v.realname, undefined, v.token);
  } catch (err) {
    sub.unsubscribe();
    client.destroy();
    if (!(err instanceof ClientError)) print(`!! ${(err as Error).message}`);
    return 1;
  }

  const rl = readline.createInterface({ input, terminal: false });
  const quit = new Promise<number>((resolve) => {
    rl.on('line', (line) => {
      const what = parseInput(line, current);
      switch (what.kind) {
        case 'nothing':
          return;
        case 'help':
          print(CHAT_COMMANDS_HELP);
          return;
        case 'error':
          print(`!! ${what.text}`);
          return;
        case 'quit':
          resolve(0);
          return;
        case 'send':
          client.send(what.command);
          return;
        case 'answer': {
          const peer = what.peer ?? (what.keyword === 'END' ? [...talks.values()].at(-1)?.peer : latestRequest);
          const talk = peer === undefined ? undefined : talks.get(foldCase(peer));
          if (!talk) {
            print(`!! no call ${peer ? `with ${peer}` : 'to answer'}`);
            return;
          }
          client.send({ verb: 'TALK', target: talk.peer, key: talk.key, keyword: what.keyword });
          return;
        }
      }
    });
    rl.on('close', () => resolve(0)); // end of input: leave like /quit
    void client.done.then(() => resolve(client.closed ? 0 : 1));
  });
  const code = await quit;
  rl.close();
  if (!client.closed) await client.close();
  sub.unsubscribe();
  return code;
}
