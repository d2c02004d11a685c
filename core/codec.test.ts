import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import type { ClientCommand, ServerMessage } from './actions.js';
import { formatCommand, formatServer, isProtocolVerb, parseCommand, parseServerLine, splitLine } from './codec.js';
import { ProtocolError, WIRE_ERROR_CODES } from './errors.js';
import type { WireErrorCode } from './errors.js';

/** Parses one line as the server would. */
function parse(line: string): ClientCommand | ProtocolError | undefined {
  const raw = splitLine(line);
  return raw === undefined ? undefined : parseCommand(raw);
}

function code(line: string): WireErrorCode | 'ok' | 'ignored' {
  const r = parse(line);
  return r === undefined ? 'ignored' : r instanceof ProtocolError ? r.code : 'ok';
}

test('splitLine - PROTOCOL.md colon forms all give the same payload', (t) => {
  t.deepEqual(splitLine('MSG #c: hi'), { verb: 'MSG', args: ['#c'], payload: 'hi' });
  t.deepEqual(splitLine('MSG #c:hi'), { verb: 'MSG', args: ['#c'], payload: 'hi' });
  t.deepEqual(splitLine('MSG #c :hi'), { verb: 'MSG', args: ['#c'], payload: 'hi' });
  t.deepEqual(splitLine('MSG #c:'), { verb: 'MSG', args: ['#c'], payload: '' });
  t.deepEqual(splitLine('JOIN :#x'), { verb: 'JOIN', args: [], payload: '#x' });
});

test('splitLine - the payload keeps colons and all but one leading space, byte-exact', (t) => {
  t.deepEqual(splitLine('MSG #c: a: b :c: '), { verb: 'MSG', args: ['#c'], payload: 'a: b :c: ' });
  t.deepEqual(splitLine('MSG #c:   x  '), { verb: 'MSG', args: ['#c'], payload: '  x  ' });
  t.deepEqual(splitLine('MSG #c::'), { verb: 'MSG', args: ['#c'], payload: ':' });
});

test('splitLine - leading spaces and runs of spaces are single separators', (t) => {
  t.deepEqual(splitLine('   talk   Mike    k1   :  accept'), { verb: 'TALK', args: ['Mike', 'k1'], payload: ' accept' });
  t.deepEqual(splitLine('DISCONNECT  '), { verb: 'DISCONNECT', args: [] });
});

test('splitLine - the verb is upper-cased with ASCII mapping only', (t) => {
  t.is(splitLine('join #x')?.verb, 'JOIN');
  t.is(splitLine('ms\u0261 x')?.verb, 'MS\u0261');
  t.is(splitLine('stra\u00dfe')?.verb, 'STRA\u00dfE');
});

test('splitLine - a line of spaces only is ignored, a bare colon is an empty verb', (t) => {
  t.is(splitLine(''), undefined);
  t.is(splitLine('     '), undefined);
  t.deepEqual(splitLine(' : x'), { verb: '', args: [], payload: 'x' });
});

test('isProtocolVerb - knows exactly the protocol verbs', (t) => {
  for (const v of ['CONNECT', 'PONG', 'JOIN', 'LEAVE', 'MSG', 'TALK', 'DISCONNECT']) t.true(isProtocolVerb(v));
  for (const v of ['connect', 'PING', 'NICK', '']) t.false(isProtocolVerb(v));
});

test('parseCommand - an unknown verb is UNKNOWN_COMMAND', (t) => {
  const r = parse('NICK foo');
  t.true(r instanceof ProtocolError);
  t.is((r as ProtocolError).code, 'UNKNOWN_COMMAND');
  t.is((r as ProtocolError).message, 'NICK');
});

test('CONNECT - the three-part form and the optional token are accepted', (t) => {
  t.deepEqual(parse('CONNECT: "John87" "John Wilson" 1.0.0'), {
    verb: 'CONNECT',
    nick: 'John87',
    realname: 'John Wilson',
    version: '1.0.0',
  });
  t.deepEqual(parse('connect:"a" "" 2.10.3 s3cr:et'), {
    verb: 'CONNECT',
    nick: 'a',
    realname: '',
    version: '2.10.3',
    token: 's3cr:et',
  });
});

test('CONNECT - several spaces between the parts and trailing spaces are tolerated', (t) => {
  t.deepEqual(parse('CONNECT :  "n"   "R  N"   1.0.0    tok  '), {
    verb: 'CONNECT',
    nick: 'n',
    realname: 'R  N',
    version: '1.0.0',
    token: 'tok',
  });
});

test('CONNECT - broken structure is BAD_SYNTAX', (t) => {
  for (const line of [
    'CONNECT',
    'CONNECT x: "n" "r" 1.0.0',
    'CONNECT: n "r" 1.0.0',
    'CONNECT: "n" r 1.0.0',
    'CONNECT: "n""r" 1.0.0',
    'CONNECT: "n" "r"1.0.0',
    'CONNECT: "n" "r',
    'CONNECT: "n" "r"',
    'CONNECT: "n" "r" 1.0.0 tok extra',
    'CONNECT: "n" "a"b" 1.0.0',
  ])
    t.is(code(line), 'BAD_SYNTAX', line);
});

test('CONNECT - a version that is not MAJOR.MINOR.PATCH is BAD_SYNTAX', (t) => {
  for (const v of ['1', '1.0', '1.0.0.0', '1..0', '.1.0', '1.0.', 'a.b.c', '1.0.0-rc1', '\uff11.0.0']) {
    t.is(code(`CONNECT: "n" "r" ${v}`), 'BAD_SYNTAX', v);
  }
  t.is(code('CONNECT: "n" "r" 99.0.0'), 'ok', "compatibility is the kernel's business");
});

test('CONNECT - an invalid real name is BAD_SYNTAX', (t) => {
  t.is(code('CONNECT: "n" "tab\there" 1.0.0'), 'BAD_SYNTAX');
  t.is(code(`CONNECT: "n" "${'x'.repeat(65)}" 1.0.0`), 'BAD_SYNTAX');
  t.is(code(`CONNECT: "n" "${'\u00e9'.repeat(64)}" 1.0.0`), 'ok');
});

test('CONNECT - an invalid nick is NICK_INVALID naming the nick', (t) => {
  for (const nick of ['', '9lives', 'has space', '#chan', 'a'.repeat(33)]) {
    const r = parse(`CONNECT: "${nick}" "r" 1.0.0`);
    t.true(r instanceof ProtocolError, nick);
    t.is((r as ProtocolError).code, 'NICK_INVALID');
    t.true((r as ProtocolError).message.endsWith(nick));
  }
});

test('PONG - needs a non-empty payload and no arguments', (t) => {
  t.deepEqual(parse('PONG: 42313812731'), { verb: 'PONG', value: '42313812731' });
  for (const line of ['PONG', 'PONG:', 'PONG: ', 'PONG 1', 'PONG x: 1']) t.is(code(line), 'BAD_SYNTAX', line);
});

test('JOIN - protocol form with colon is accepted', (t) => {
  t.deepEqual(parse('JOIN: #SuperAwesomeChannel'), { verb: 'JOIN', channel: '#SuperAwesomeChannel' });
  t.deepEqual(parse('JOIN :#x'), { verb: 'JOIN', channel: '#x' });
});

test('JOIN - IRC form without colon is accepted', (t) => {
  t.deepEqual(parse('JOIN #x'), { verb: 'JOIN', channel: '#x' });
  t.deepEqual(parse('leave #x'), { verb: 'LEAVE', channel: '#x' });
});

test('JOIN and LEAVE - missing, empty, doubled or extra channels are BAD_SYNTAX', (t) => {
  for (const verb of ['JOIN', 'LEAVE']) {
    for (const rest of ['', ':', ': ', ' #a: #b', ' #a #b', ' #a #b:']) t.is(code(verb + rest), 'BAD_SYNTAX', verb + rest);
  }
});

test('JOIN and LEAVE - a channel that fails the name rules is CHANNEL_INVALID', (t) => {
  for (const verb of ['JOIN', 'LEAVE']) {
    for (const rest of [': lobby', ': #', ': #a b', ` #${'a'.repeat(65)}`, ': #caf\u00e9', ':  #x']) {
      t.is(code(verb + rest), 'CHANNEL_INVALID', verb + rest);
    }
  }
});

test('MSG - recipient and text, empty text allowed', (t) => {
  t.deepEqual(parse("MSG #SuperAwesomeChannel: Hey all! How's it going?"), {
    verb: 'MSG',
    target: '#SuperAwesomeChannel',
    text: "Hey all! How's it going?",
  });
  t.deepEqual(parse('MSG Mike:'), { verb: 'MSG', target: 'Mike', text: '' });
  t.deepEqual(parse('MSG #c: http://x.y:80/ a:b'), { verb: 'MSG', target: '#c', text: 'http://x.y:80/ a:b' });
});

test('MSG - no recipient, two recipients or no colon is BAD_SYNTAX', (t) => {
  for (const line of ['MSG: hi', 'MSG a b: hi', 'MSG a', 'MSG a hi']) t.is(code(line), 'BAD_SYNTAX', line);
});

test('DISCONNECT - bare, with a reason, or with arguments', (t) => {
  t.deepEqual(parse('DISCONNECT'), { verb: 'DISCONNECT' });
  t.deepEqual(parse('disconnect: bye now'), { verb: 'DISCONNECT', reason: 'bye now' });
  t.is(code('DISCONNECT now'), 'BAD_SYNTAX');
});

test('TALK - every keyword form is accepted, keywords case-insensitively', (t) => {
  const key = '8f3kQ2x9LmZp7Rt4';
  t.deepEqual(parse('TALK Mike: REQUEST'), { verb: 'TALK', target: 'Mike', keyword: 'REQUEST' });
  t.deepEqual(parse(`TALK Mike ${key}: accept`), { verb: 'TALK', target: 'Mike', key, keyword: 'ACCEPT' });
  t.deepEqual(parse(`TALK Mike ${key}: Deny`), { verb: 'TALK', target: 'Mike', key, keyword: 'DENY' });
  t.deepEqual(parse(`TALK Mike ${key}: END`), { verb: 'TALK', target: 'Mike', key, keyword: 'END' });
  t.deepEqual(parse(`TALK #c ${key}: END`), { verb: 'TALK', target: '#c', key, keyword: 'END' });
  t.deepEqual(parse('TALK #c :join'), { verb: 'TALK', target: '#c', keyword: 'JOIN' });
  t.deepEqual(parse('TALK Mike bad-key: ACCEPT'), { verb: 'TALK', target: 'Mike', key: 'bad-key', keyword: 'ACCEPT' });
});

test('TALK - wrong keyword or argument shape is BAD_SYNTAX', (t) => {
  for (const line of [
    'TALK Mike',
    'TALK Mike:',
    'TALK Mike: HANGUP',
    'TALK Mike:  REQUEST',
    'TALK: REQUEST',
    'TALK Mike k: REQUEST',
    'TALK #c: REQUEST',
    'TALK Mike: ACCEPT',
    'TALK Mike k x: DENY',
    'TALK #c k: ACCEPT',
    'TALK #c k: DENY',
    'TALK Mike: END',
    'TALK Mike k x: END',
    'TALK Mike: JOIN',
    'TALK #c k: JOIN',
  ])
    t.is(code(line), 'BAD_SYNTAX', line);
});

test('TALK - JOIN of an invalid #channel is CHANNEL_INVALID', (t) => {
  t.is(code('TALK #bad.name: JOIN'), 'CHANNEL_INVALID');
});

test('formatCommand - writes the colon form with a trailing newline', (t) => {
  t.is(formatCommand({ verb: 'CONNECT', nick: 'a', realname: 'A B', version: '1.0.0' }), 'CONNECT: "a" "A B" 1.0.0\n');
  t.is(formatCommand({ verb: 'TALK', target: 'x', key: 'k', keyword: 'ACCEPT' }), 'TALK x k: ACCEPT\n');
  t.is(formatCommand({ verb: 'MSG', target: '#c', text: '' }), 'MSG #c: \n');
  t.is(formatCommand({ verb: 'DISCONNECT' }), 'DISCONNECT\n');
});

test('formatServer - every message type has its wire form', (t) => {
  const cases: Array<[ServerMessage, string]> = [
    [{ type: 'ACCEPT', hostname: 'chat.example.org' }, 'ACCEPT: chat.example.org\n'],
    [{ type: 'PING', value: '42' }, 'PING: 42\n'],
    [{ type: 'JOINED', channel: '#c' }, 'JOINED: #c\n'],
    [{ type: 'USERLIST', channel: '#c', nicks: ['a', 'b'] }, 'USERLIST #c: a, b\n'],
    [{ type: 'USERLIST', channel: '#c', nicks: [] }, 'USERLIST #c: \n'],
    [{ type: 'USERJOIN', channel: '#c', nick: 'n' }, 'USERJOIN #c: n\n'],
    [{ type: 'USERLEAVE', channel: '#c', nick: 'n' }, 'USERLEAVE #c: n\n'],
    [{ type: 'LEFT', channel: '#c' }, 'LEFT: #c\n'],
    [{ type: 'MSG', sender: 's', recipient: '#c', text: '' }, 'MSG s #c: \n'],
    [{ type: 'TALK', peer: 'p', key: 'k', event: 'ENDED' }, 'TALK p k: ENDED\n'],
    [{ type: 'TALKLIST', channel: '#c', nicks: ['a'] }, 'TALKLIST #c: a\n'],
    [{ type: 'TALKJOIN', channel: '#c', nick: 'n' }, 'TALKJOIN #c: n\n'],
    [{ type: 'TALKLEAVE', channel: '#c', nick: 'n' }, 'TALKLEAVE #c: n\n'],
    [{ type: 'ERROR', code: 'BUSY', text: 'Mike is busy' }, 'ERROR BUSY: Mike is busy\n'],
    [{ type: 'DISCONNECT', reason: 'bye' }, 'DISCONNECT: bye\n'],
  ];
  for (const [msg, wire] of cases) {
    t.is(formatServer(msg), wire);
    t.deepEqual(parseServerLine(wire.slice(0, -1)), msg);
  }
});

test('formatServer - a long USERLIST is split between nicks into full lines within the limit', (t) => {
  const nicks = Array.from({ length: 1000 }, (_, i) => `user${i}`);
  const text = formatServer({ type: 'USERLIST', channel: '#big', nicks });
  const lines = text.split('\n').slice(0, -1);
  t.true(lines.length > 1);
  for (const line of lines) {
    t.true(line.startsWith('USERLIST #big: '));
    t.true(Buffer.byteLength(line) + 1 <= 8192);
  }
  t.deepEqual(
    lines.flatMap((l) => (parseServerLine(l) as { nicks: string[] }).nicks),
    nicks,
  );
  // Exactly at the limit: `USERLIST #c: ` is 13 bytes, `aaa, bbb` 8, `\n` 1.
  t.is(formatServer({ type: 'USERLIST', channel: '#c', nicks: ['aaa', 'bbb'] }, 22), 'USERLIST #c: aaa, bbb\n');
  t.is(formatServer({ type: 'USERLIST', channel: '#c', nicks: ['aaa', 'bbb'] }, 21), 'USERLIST #c: aaa\nUSERLIST #c: bbb\n');
});

test('parseServerLine - unrecognisable lines are undefined', (t) => {
  for (const line of ['', 'FOO: x', 'ACCEPT', 'JOINED #c', 'USERLIST: a', 'MSG a: x', 'TALK p k: ACCEPT', 'ERROR: x', 'DISCONNECT x: y']) {
    t.is(parseServerLine(line), undefined, line);
  }
  t.deepEqual(parseServerLine('DISCONNECT'), { type: 'DISCONNECT', reason: '' });
});

// Records with ordinary prototypes, so deepStrictEqual compares them like parse results.
const plain = { noNullPrototype: true } as const;

const nickArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_\-[\]\\^{}|`]{0,31}$/);
const channelArb = fc.stringMatching(/^#[A-Za-z0-9_-]{1,64}$/);
const keyArb = fc.stringMatching(/^[A-Za-z0-9]{16,64}$/);
const textArb = fc.string({ unit: 'binary', maxLength: 80 }).filter((s) => !s.includes('\n') && !s.includes('\r'));
const realnameArb = fc.string({ unit: 'binary', maxLength: 64 }).filter((s) =>
  [...s].every((ch) => {
    const c = ch.codePointAt(0)!;
    return c !== 0x22 && c >= 0x20 && (c < 0x7f || c > 0x9f);
  }),
);
const versionArb = fc.tuple(fc.nat(), fc.nat(), fc.nat()).map((v) => v.join('.'));
const tokenArb = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[ \r\n]/.test(s));

const commandArb: fc.Arbitrary<ClientCommand> = fc.oneof(
  fc.record(
    { verb: fc.constant('CONNECT' as const), nick: nickArb, realname: realnameArb, version: versionArb, token: tokenArb },
    { ...plain, requiredKeys: ['verb', 'nick', 'realname', 'version'] },
  ),
  fc.record({ verb: fc.constant('PONG' as const), value: textArb.filter((s) => s !== '') }, plain),
  fc.record({ verb: fc.constantFrom('JOIN' as const, 'LEAVE' as const), channel: channelArb }, plain),
  fc.record({ verb: fc.constant('MSG' as const), target: fc.oneof(nickArb, channelArb), text: textArb }, plain),
  fc.record({ verb: fc.constant('TALK' as const), target: nickArb, keyword: fc.constant('REQUEST' as const) }, plain),
  fc.record(
    { verb: fc.constant('TALK' as const), target: nickArb, key: keyArb, keyword: fc.constantFrom('ACCEPT' as const, 'DENY' as const, 'END' as const) },
    plain,
  ),
  fc.record({ verb: fc.constant('TALK' as const), target: channelArb, key: keyArb, keyword: fc.constant('END' as const) }, plain),
  fc.record({ verb: fc.constant('TALK' as const), target: channelArb, keyword: fc.constant('JOIN' as const) }, plain),
  fc.record({ verb: fc.constant('DISCONNECT' as const), reason: textArb }, { ...plain, requiredKeys: ['verb'] }),
);

test('property - parseCommand(splitLine(formatCommand(x))) round-trips every client command', (t) => {
  fc.assert(
    fc.property(commandArb, (cmd) => {
      const wire = formatCommand(cmd);
      assert.ok(wire.endsWith('\n') && wire.indexOf('\n') === wire.length - 1);
      assert.deepStrictEqual(parse(wire.slice(0, -1)), cmd);
    }),
  );
  t.pass();
});

const listArb = fc.array(nickArb, { maxLength: 60 });
const serverArb: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({ type: fc.constant('ACCEPT' as const), hostname: textArb }, plain),
  fc.record({ type: fc.constant('PING' as const), value: textArb }, plain),
  fc.record({ type: fc.constantFrom('JOINED' as const, 'LEFT' as const), channel: channelArb }, plain),
  fc.record({ type: fc.constantFrom('USERLIST' as const, 'TALKLIST' as const), channel: channelArb, nicks: listArb }, plain),
  fc.record(
    { type: fc.constantFrom('USERJOIN' as const, 'USERLEAVE' as const, 'TALKJOIN' as const, 'TALKLEAVE' as const), channel: channelArb, nick: nickArb },
    plain,
  ),
  fc.record({ type: fc.constant('MSG' as const), sender: nickArb, recipient: fc.oneof(nickArb, channelArb), text: textArb }, plain),
  fc.record(
    {
      type: fc.constant('TALK' as const),
      peer: fc.oneof(nickArb, channelArb),
      key: keyArb,
      event: fc.constantFrom('REQUEST' as const, 'ACCEPTED' as const, 'DENIED' as const, 'ENDED' as const, 'JOINED' as const),
    },
    plain,
  ),
  fc.record({ type: fc.constant('ERROR' as const), code: fc.constantFrom(...WIRE_ERROR_CODES), text: textArb }, plain),
  fc.record({ type: fc.constant('DISCONNECT' as const), reason: textArb }, plain),
);

test('property - parseServerLine inverts formatServer, lists split within the limit and re-joined', (t) => {
  fc.assert(
    fc.property(serverArb, fc.integer({ min: 120, max: 400 }), (msg, max) => {
      const lines = formatServer(msg, max).split('\n');
      assert.equal(lines.pop(), '');
      const parsed = lines.map((l) => parseServerLine(l));
      if (msg.type === 'USERLIST' || msg.type === 'TALKLIST') {
        for (const l of lines) assert.ok(Buffer.byteLength(l) + 1 <= max);
        const nicks = parsed.flatMap((p) => {
          assert.ok(p !== undefined && p.type === msg.type && p.channel === msg.channel);
          return p.nicks;
        });
        assert.deepStrictEqual(nicks, msg.nicks);
      } else {
        assert.deepStrictEqual(parsed, [msg]);
      }
    }),
  );
  t.pass();
});

test('property - random strings never make splitLine, parseCommand or parseServerLine throw', (t) => {
  const structured = fc.string({
    unit: fc.constantFrom(' ', ':', '"', '#', '.', '1', 'a', 'T', 'JOIN', 'TALK', 'CONNECT', 'MSG', 'USERLIST', 'ERROR', '\t', '\u00e9'),
  });
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), structured), (line) => {
      const raw = splitLine(line);
      if (raw !== undefined) parseCommand(raw);
      parseServerLine(line);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
