/** `parley chat`: an interactive terminal client. Renders; the protocol work is ParleyClient's. */
import * as readline from 'node:readline';
import { foldCase } from '../core/names.js';
import { ParleyClient, ClientError } from '../harness/client/index.js';
import { hostPort, parseFlags, UsageError, type FlagSpec } from './args.js';
import { CHAT_COMMANDS_HELP, COLORS, NO_COLORS, parseInput, promptFor, renderMessage, useColor, visible } from './chat-view.js';

export const CHAT_OPTIONS = {
  nick: { type: 'string' },
  realname: { type: 'string' },
  target: { type: 'string' },
  tls: { type: 'boolean' },
  insecure: { type: 'boolean' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, FlagSpec>;

/** Where `parley chat` connects without --target. */
export const CHAT_DEFAULT_TARGET = '127.0.0.1:7420';

type Out = NodeJS.WritableStream & { isTTY?: boolean };
type In = NodeJS.ReadableStream & { isTTY?: boolean };

/** Why a TLS connection failed, in words that say what to do. */
function connectFailure(err: Error, tls: boolean): string {
  const why = err.message.replace(/^CLOSED: /, '');
  if (tls && /certificate|self.signed|altnames|unable to (get|verify)/i.test(why)) {
    return `${why}\nThe server's TLS certificate is not trusted. If you trust this server anyway (a self-signed certificate), add --insecure.`;
  }
  return why;
}

export async function chat(argv: string[], input: In = process.stdin, output: Out = process.stdout): Promise<number> {
  const v = parseFlags(argv, CHAT_OPTIONS);
  if (!v.nick) throw new UsageError('--nick is required');
  if (v.insecure && !v.tls) throw new UsageError('--insecure goes with --tls');
  const { host, port } = hostPort(v.target ?? CHAT_DEFAULT_TARGET, 'target');
  // Certificates are verified unless the user says otherwise.
  const client = new ParleyClient({ host, port, tls: v.tls ? { rejectUnauthorized: !v.insecure } : false, timeoutMs: 20_000 });
  const paint = useColor(output.isTTY) ? COLORS : NO_COLORS;
  // Line editing, history and a prompt only when a person types at a terminal.
  const terminal = input.isTTY === true && output.isTTY === true;
  try {
    await client.open();
  } catch (err) {
    process.stderr.write(`parley: chat: cannot connect to ${host}:${port}: ${connectFailure(err as Error, Boolean(v.tls))}\n`);
    return 1;
  }

  const rl = readline.createInterface({ input, output: terminal ? output : undefined, terminal, historySize: terminal ? 1000 : 0 });
  /** Prints a line without breaking the one being typed: clear it, print, redraw the prompt and the typed text. */
  const print = (line: string): void => {
    if (!terminal) {
      output.write(`${line}\n`);
      return;
    }
    readline.cursorTo(output, 0);
    readline.clearLine(output, 0);
    output.write(`${line}\n`);
    rl.prompt(true);
  };

  // Input lines wait here until the phase that reads them (nick answer, then commands).
  const lines: string[] = [];
  let onLine: (() => void) | undefined;
  let inputEnded = false;
  rl.on('line', (line) => {
    lines.push(line);
    onLine?.();
  });
  rl.on('close', () => {
    inputEnded = true;
    onLine?.();
  });
  rl.on('SIGINT', () => rl.close()); // ^C at the prompt: leave like /quit
  const nextLine = (): Promise<string | undefined> =>
    new Promise((resolve) => {
      const take = (): void => {
        if (lines.length > 0) {
          onLine = undefined;
          resolve(lines.shift());
        } else if (inputEnded) {
          onLine = undefined;
          resolve(undefined);
        }
      };
      onLine = take;
      take();
    });

  let nick = v.nick;
  let current: string | undefined;
  const setPrompt = (): void => {
    if (terminal) rl.setPrompt(promptFor(client.nick || nick, current, paint));
  };
  setPrompt();
  /** Talk keys by folded peer nick (or channel), and the latest request's peer. */
  const talks = new Map<string, { peer: string; key: string }>();
  let latestRequest: string | undefined;
  const sub = client.messages$.subscribe((m) => {
    if (m.type === 'JOINED') current = m.channel;
    if (m.type === 'LEFT' && current && foldCase(current) === foldCase(m.channel)) current = undefined;
    if (m.type === 'ACCEPT' || m.type === 'JOINED' || m.type === 'LEFT') setPrompt();
    if (m.type === 'TALK') {
      if (m.event === 'ENDED' || m.event === 'DENIED') talks.delete(foldCase(m.peer));
      else talks.set(foldCase(m.peer), { peer: m.peer, key: m.key });
      if (m.event === 'REQUEST') latestRequest = m.peer;
    }
    const text = renderMessage(m, client.nick || nick, paint);
    if (text !== undefined) print(text);
  });
  const finish = async (code: number): Promise<number> => {
    onLine = undefined;
    rl.close();
    if (!client.closed) await client.close();
    sub.unsubscribe();
    return code;
  };

  // CONNECT; a nickname in use asks for another one (the connection stays open for another try).
  for (let typed = false; ; ) {
    try {
      await client.hello(nick, v.realname ?? '', undefined, v.token);
      break;
    } catch (err) {
      const code = err instanceof ClientError ? err.code : undefined;
      if (!(code === 'NICK_IN_USE' || (typed && code === 'NICK_INVALID')) || client.closed) {
        if (!(err instanceof ClientError) || code === 'TIMEOUT' || code === 'CLOSED') print(`!! ${(err as Error).message}`);
        return finish(1);
      }
      if (terminal) rl.setPrompt(`another nickname (${visible(nick)} is ${code === 'NICK_IN_USE' ? 'taken' : 'invalid'}): `);
      else print(`-- type another nickname`);
      if (terminal) rl.prompt();
      const answer = (await nextLine())?.trim();
      if (answer === undefined) return finish(1);
      if (answer === '') continue;
      nick = answer;
      typed = true;
    }
  }
  setPrompt();
  if (terminal) rl.prompt();

  const handle = (line: string, quit: (code: number) => void): void => {
    const what = parseInput(line, current);
    switch (what.kind) {
      case 'nothing':
        break;
      case 'help':
        print(CHAT_COMMANDS_HELP);
        break;
      case 'error':
        print(paint.red(`!! ${what.text}`));
        break;
      case 'quit':
        quit(0);
        return;
      case 'send':
        client.send(what.command);
        break;
      case 'answer': {
        const peer = what.peer ?? (what.keyword === 'END' ? [...talks.values()].at(-1)?.peer : latestRequest);
        const talk = peer === undefined ? undefined : talks.get(foldCase(peer));
        if (!talk) print(paint.red(`!! no call ${peer ? `with ${visible(peer)}` : 'to answer'}`));
        else client.send({ verb: 'TALK', target: talk.peer, key: talk.key, keyword: what.keyword });
        break;
      }
    }
    if (terminal) rl.prompt();
  };
  const code = await new Promise<number>((resolve) => {
    let done = false;
    const quit = (c: number): void => {
      done = true;
      resolve(c);
    };
    const drain = (): void => {
      while (!done && lines.length > 0) handle(lines.shift()!, quit);
      if (!done && inputEnded) quit(0); // end of input: leave like /quit
    };
    onLine = drain;
    drain();
    void client.done.then(() => quit(client.closed ? 0 : 1));
  });
  return finish(code);
}
