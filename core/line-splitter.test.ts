import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { LINE_TOO_LONG, LineSplitter } from './line-splitter.js';

type Item = string | typeof LINE_TOO_LONG;

/** Pulls every available item, decoding lines as latin1 so any byte round-trips. */
function drain(s: LineSplitter): Item[] {
  const out: Item[] = [];
  for (let item = s.shift(); item !== undefined; item = s.shift()) {
    out.push(item === LINE_TOO_LONG ? item : item.toString('latin1'));
  }
  return out;
}

function feed(max: number, ...chunks: string[]): Item[] {
  const s = new LineSplitter(max);
  for (const c of chunks) s.push(Buffer.from(c, 'latin1'));
  return drain(s);
}

/** What the splitter must yield for a whole stream, computed the simple way. */
function model(bytes: Buffer, max: number): Item[] {
  const out: Item[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
    if (nl - start + 1 > max) out.push(LINE_TOO_LONG);
    else {
      const end = nl > start && bytes[nl - 1] === 13 ? nl - 1 : nl;
      if (end > start) out.push(bytes.subarray(start, end).toString('latin1'));
    }
    start = nl + 1;
  }
  if (bytes.length - start >= max) out.push(LINE_TOO_LONG);
  return out;
}

test('LF and CRLF terminators are both stripped', (t) => {
  t.deepEqual(feed(100, 'JOIN: #a\nJOIN: #b\r\nMSG #a: x\r\r\n'), ['JOIN: #a', 'JOIN: #b', 'MSG #a: x\r']);
});

test('empty lines, bare CRLF included, are skipped', (t) => {
  t.deepEqual(feed(100, '\n\r\n\nPONG: 1\n\n'), ['PONG: 1']);
});

test('a line without its newline is held back until the newline arrives', (t) => {
  const s = new LineSplitter(100);
  s.push(Buffer.from('PONG: 1'));
  t.is(s.shift(), undefined);
  t.is(s.bufferedBytes, 7);
  s.push(Buffer.from('2\n'));
  t.deepEqual(drain(s), ['PONG: 12']);
  t.is(s.bufferedBytes, 0);
});

test('a line split across many 1-byte chunks is reassembled', (t) => {
  const text = 'MSG #chan: hello there\r\nJOIN: #x\n';
  const s = new LineSplitter(64);
  const out: Item[] = [];
  for (const byte of Buffer.from(text)) {
    s.push(Buffer.from([byte]));
    out.push(...drain(s));
  }
  t.deepEqual(out, ['MSG #chan: hello there', 'JOIN: #x']);
});

test('a line of exactly the limit with its newline is accepted, one byte more is too long', (t) => {
  const max = 16;
  const fits = 'a'.repeat(max - 1);
  t.deepEqual(feed(max, `${fits}\n`), [fits]);
  t.deepEqual(feed(max, `${'a'.repeat(max)}\n`), [LINE_TOO_LONG]);
  // The \r counts towards the limit too.
  t.deepEqual(feed(max, `${'a'.repeat(max - 2)}\r\n`), ['a'.repeat(max - 2)]);
  t.deepEqual(feed(max, `${'a'.repeat(max - 1)}\r\n`), [LINE_TOO_LONG]);
});

test('an overlong line yields LINE_TOO_LONG once and the next line parses (resync)', (t) => {
  t.deepEqual(feed(10, 'ok\n', 'x'.repeat(25), 'y'.repeat(25), 'zz\nPONG: 1\n'), ['ok', LINE_TOO_LONG, 'PONG: 1']);
  t.deepEqual(feed(10, `ok\n${'x'.repeat(50)}\nPONG: 1\n`), ['ok', LINE_TOO_LONG, 'PONG: 1']);
});

test('an unterminated overlong line is reported before its newline arrives', (t) => {
  const s = new LineSplitter(10);
  s.push(Buffer.from('a\n0123456789'));
  t.deepEqual(drain(s), ['a', LINE_TOO_LONG]);
  s.push(Buffer.from('more bytes of the same line'));
  t.deepEqual(drain(s), []);
  s.push(Buffer.from('\nnext\n'));
  t.deepEqual(drain(s), ['next']);
});

test('10 MB without a newline keeps bufferedBytes bounded, pulled or not', (t) => {
  const max = 8192;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const lazy = new LineSplitter(max);
  const eager = new LineSplitter(max);
  let eagerItems: Item[] = [];
  for (let sent = 0; sent < 10 * 1024 * 1024; sent += chunk.length) {
    lazy.push(chunk);
    eager.push(chunk);
    eagerItems = eagerItems.concat(drain(eager));
    t.true(lazy.bufferedBytes <= max);
    t.true(eager.bufferedBytes <= max);
  }
  t.deepEqual(eagerItems, [LINE_TOO_LONG]);
  lazy.push(Buffer.from('\nPONG: 1\n'));
  eager.push(Buffer.from('\nPONG: 1\n'));
  t.deepEqual(drain(lazy), [LINE_TOO_LONG, 'PONG: 1']);
  t.deepEqual(drain(eager), ['PONG: 1']);
});

test('pulling can stop mid-chunk and resume later without losing order', (t) => {
  const s = new LineSplitter(100);
  s.push(Buffer.from('PONG: 1\nPONG: 2\nPONG: 3\nPON'));
  t.is((s.shift() as Buffer).toString(), 'PONG: 1');
  s.push(Buffer.from('G: 4\n'));
  t.is((s.shift() as Buffer).toString(), 'PONG: 2');
  s.push(Buffer.from('PONG: 5\n'));
  t.deepEqual(drain(s), ['PONG: 3', 'PONG: 4', 'PONG: 5']);
  t.is(s.shift(), undefined);
});

test('returned lines stay intact after later pushes', (t) => {
  const s = new LineSplitter(100);
  s.push(Buffer.from('ab'));
  s.push(Buffer.from('c\nde'));
  const first = s.shift() as Buffer;
  for (let i = 0; i < 1000; i++) s.push(Buffer.from('zzzzzzzz\n'));
  t.is(first.toString(), 'abc');
  t.is(drain(s).length, 1000);
  t.is(first.toString(), 'abc');
});

test('the limit must be a positive integer', (t) => {
  t.throws(() => new LineSplitter(0), { instanceOf: RangeError });
  t.throws(() => new LineSplitter(1.5), { instanceOf: RangeError });
});

test('random byte chunks never throw, respect the bound and match a simple model', (t) => {
  const byte = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(10, 13, 0x61) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) });
  const chunk = fc.array(byte, { maxLength: 40 }).map((a) => Buffer.from(a));
  // After each chunk pull a few items, and sometimes everything available.
  const step = fc.record({ chunk, pulls: fc.nat({ max: 4 }), drainAll: fc.boolean() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 24 }), fc.array(step, { maxLength: 30 }), (max, steps) => {
      const s = new LineSplitter(max);
      const got: Item[] = [];
      for (const { chunk: c, pulls, drainAll } of steps) {
        s.push(c);
        for (let i = 0; i < pulls; i++) {
          const item = s.shift();
          if (item === undefined) break;
          got.push(item === LINE_TOO_LONG ? item : item.toString('latin1'));
        }
        if (drainAll) {
          got.push(...drain(s));
          // Drained: only a partial line shorter than the limit may remain.
          assert.ok(s.bufferedBytes < max, `bufferedBytes ${s.bufferedBytes} >= ${max}`);
        }
      }
      got.push(...drain(s));
      assert.deepStrictEqual(got, model(Buffer.concat(steps.map((x) => x.chunk)), max));
    }),
  );
  t.pass();
});

test('random chunks pushed without pulling keep only complete lines plus one bounded partial', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 24 }), fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 20 }), (max, chunks) => {
      const s = new LineSplitter(max);
      for (const c of chunks) s.push(Buffer.from(c));
      const all = Buffer.concat(chunks);
      // Everything up to the last newline may be buffered, plus at most max bytes of the tail.
      assert.ok(s.bufferedBytes <= all.lastIndexOf(10) + 1 + max);
      assert.deepStrictEqual(drain(s), model(all, max));
    }),
  );
  t.pass();
});
