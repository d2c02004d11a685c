// The browser client's parser (web/client/protocol.ts, an ES module without Node
// built-ins) and core's codec read every server line the same way.
import test from 'ava';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { formatServer, parseServerLine, splitLine, formatCommand } from '../core/codec.js';
import { PROTOCOL_VERSION } from '../core/defaults.js';
import type { ServerMessage } from '../core/actions.js';

interface BrowserProtocol {
  parseServerLine(line: string): unknown;
  splitLine(line: string): unknown;
  formatMsg(target: string, text: string): string;
  formatChannel(verb: 'JOIN' | 'LEAVE', channel: string): string;
  formatTalk(target: string, keyword: 'REQUEST' | 'ACCEPT' | 'DENY' | 'END' | 'JOIN', key?: string): string;
  formatConnect(nick: string, realname?: string, version?: string, token?: string): string;
  PROTOCOL_VERSION: string;
}

const load = (): Promise<BrowserProtocol> => import(pathToFileURL(path.join(__dirname, '..', 'web', 'client', 'protocol.js')).href) as Promise<BrowserProtocol>;

const CORPUS = [
  'ACCEPT: chat.example.org',
  'PING: 42313812731',
  'JOINED: #lobby',
  'LEFT: #Dev',
  'USERLIST #lobby: Mike, John87',
  'USERLIST #empty: ',
  'TALKLIST #c: a, b, c',
  'USERJOIN #c: bob',
  'USERLEAVE #c: bob',
  'TALKJOIN #c: bob',
  'TALKLEAVE #c: bob',
  'MSG alice #c: hello: world',
  'MSG alice bob:',
  'MSG alice bob:no space',
  'MSG alice bob:  two spaces',
  'msg alice bob: lower-case verb',
  'MSG  alice   #c  : spaced',
  'MSG alice #c: <img src=x onerror=window.__xss=1>',
  'MSG alice #c: ünïcödé ✓ 😀',
  'TALK bob 8f3kQ2x9LmZp7Rt4: REQUEST',
  'TALK bob 8f3kQ2x9LmZp7Rt4: accepted',
  'TALK #c 8f3kQ2x9LmZp7Rt4: JOINED',
  'TALK bob key: NONSENSE',
  'ERROR NICK_IN_USE: nickname is already in use: bob',
  'ERROR: no code',
  'DISCONNECT',
  'DISCONNECT: send queue exceeded',
  'DISCONNECT extra: x',
  'ACCEPT',
  'ACCEPT extra: x',
  'USERLIST: no channel',
  'MSG alice: one arg',
  '',
  '   ',
  ':only payload',
  'UNKNOWN: x',
];

test('web protocol - the browser parser and the codec agree on a corpus of server lines', async (t) => {
  const web = await load();
  for (const line of CORPUS) {
    t.deepEqual(web.parseServerLine(line), parseServerLine(line), JSON.stringify(line));
    t.deepEqual(web.splitLine(line), splitLine(line), JSON.stringify(line));
  }
});

test('web protocol - the browser parser and the codec agree on formatted and random lines', async (t) => {
  const web = await load();
  const samples: ServerMessage[] = [
    { type: 'USERLIST', channel: '#c', nicks: ['a', 'b'] },
    { type: 'MSG', sender: 'a', recipient: '#c', text: ' leading space: and colon ' },
    { type: 'TALK', peer: 'b', key: 'abcdefabcdefabcdef', event: 'ENDED' },
  ];
  for (const m of samples) {
    const line = formatServer(m).slice(0, -1);
    t.deepEqual(web.parseServerLine(line), m);
  }
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('M', 'S', 'G', ' ', ':', 'a', '#', 'T', 'A', 'L', 'K', 'E', 'R', 'O', ',', 'é') }), (line) => {
      t.deepEqual(web.parseServerLine(line), parseServerLine(line));
    }),
    { numRuns: 500 },
  );
});

test('web protocol - browser commands are the codec commands, and a line break in a field is refused', async (t) => {
  const web = await load();
  t.is(`${web.formatMsg('#c', 'hi: there')}\n`, formatCommand({ verb: 'MSG', target: '#c', text: 'hi: there' }));
  t.is(`${web.formatChannel('JOIN', '#c')}\n`, formatCommand({ verb: 'JOIN', channel: '#c' }));
  t.is(`${web.formatTalk('bob', 'ACCEPT', 'k1')}\n`, formatCommand({ verb: 'TALK', target: 'bob', key: 'k1', keyword: 'ACCEPT' }));
  t.is(`${web.formatTalk('#c', 'JOIN')}\n`, formatCommand({ verb: 'TALK', target: '#c', keyword: 'JOIN' }));
  t.is(
    `${web.formatConnect('bob', 'Bob B', '1.0.0', 'tok')}\n`,
    formatCommand({ verb: 'CONNECT', nick: 'bob', realname: 'Bob B', version: '1.0.0', token: 'tok' }),
  );
  t.throws(() => web.formatMsg('#c', 'a\nJOIN: #evil'), { instanceOf: TypeError });
  t.throws(() => web.formatMsg('#c x', 'a'), { instanceOf: TypeError });
  t.throws(() => web.formatConnect('a"b'), { instanceOf: TypeError });
});

test("web protocol - the browser client speaks the server's protocol version", async (t) => {
  const web = await load();
  t.is(web.PROTOCOL_VERSION, PROTOCOL_VERSION);
  t.is(`${web.formatConnect('bob')}\n`, formatCommand({ verb: 'CONNECT', nick: 'bob', realname: '', version: PROTOCOL_VERSION }));
});
