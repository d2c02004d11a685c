import test from 'ava';
import fc from 'fast-check';
import { ListLines } from './list-lines.js';
import { formatServer } from './codec.js';
import type { Session } from './session.js';

function written(lines: ListLines): string {
  const out: Buffer[] = [];
  lines.writeTo({ write: (b: Buffer) => out.push(b) } as unknown as Session);
  return Buffer.concat(out).toString();
}

test('ListLines - incremental lists split exactly like formatServer', (t) => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,31}$/), { maxLength: 60 }), fc.integer({ min: 40, max: 300 }), (nicks, max) => {
      const lines = new ListLines('USERLIST #c: ', max);
      // Read part-way, as joins interleave with listing.
      nicks.forEach((n, i) => {
        lines.add(n);
        if (i % 7 === 0) written(lines);
      });
      return written(lines) === formatServer({ type: 'USERLIST', channel: '#c', nicks }, max);
    }),
  );
  t.pass();
});
