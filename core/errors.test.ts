import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WireErrors, WIRE_ERROR_CODES, ParleyErrors, ProtocolError, ParleyError } from './errors.js';

// dist/core/errors.test.js → the repository root is two levels up.
const protocolDoc = readFileSync(join(__dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

test('every wire error code is documented in docs/protocol.md', (t) => {
  for (const code of WIRE_ERROR_CODES) t.true(protocolDoc.includes(code), `${code} missing from docs/protocol.md`);
});

test('wire codes are upper-case words and PARLEY_ERR codes are prefixed', (t) => {
  for (const code of Object.keys(WireErrors)) t.regex(code, /^[A-Z_]+$/);
  for (const code of Object.keys(ParleyErrors)) t.regex(code, /^PARLEY_ERR_[A-Z_]+$/);
});

test('ProtocolError carries its code and formats the table text', (t) => {
  const e = new ProtocolError('NO_SUCH_USER', 'bob');
  t.is(e.code, 'NO_SUCH_USER');
  t.is(e.message, 'no such user: bob');
});

test('ParleyError message starts with its code', (t) => {
  const e = new ParleyError('PARLEY_ERR_VERB_CONFLICT', 'MSG', 'im', 'mine');
  t.is(e.code, 'PARLEY_ERR_VERB_CONFLICT');
  t.is(e.message, 'PARLEY_ERR_VERB_CONFLICT: verb MSG is owned by both plugin "im" and plugin "mine"');
});
