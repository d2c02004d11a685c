import test from 'ava';
import { validatePlugins } from './plugin-host.js';
import type { Plugin } from './plugin.js';
import { ParleyError } from './errors.js';

const fake = (name: string, verbs: string[] = [], dependencies: string[] = []): Plugin => ({
  name,
  verbs,
  dependencies,
  token: Symbol(name),
  register: () => {},
});

test('plugin host - two plugins owning one verb is an error naming both', (t) => {
  const err = t.throws(() => validatePlugins([fake('im', ['MSG']), fake('mine', ['MSG'])]), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_VERB_CONFLICT');
  t.regex(err!.message, /"im".*"mine"/);
});

test('plugin host - a missing dependency is an error naming both plugins', (t) => {
  const err = t.throws(() => validatePlugins([fake('voip', ['TALK'], ['channels'])]), { instanceOf: ParleyError });
  t.is(err?.code, 'PARLEY_ERR_MISSING_DEPENDENCY');
  t.regex(err!.message, /"voip".*"channels"/);
});

test('plugin host - duplicate names and kernel verbs are refused', (t) => {
  t.is(t.throws(() => validatePlugins([fake('a'), fake('a')]))?.message.startsWith('PARLEY_ERR_DUPLICATE_PLUGIN'), true);
  t.is((t.throws(() => validatePlugins([fake('a', ['CONNECT'])])) as ParleyError).code, 'PARLEY_ERR_RESERVED_VERB');
});

test('plugin host - dependencies may be listed in any order', (t) => {
  t.notThrows(() => validatePlugins([fake('voip', ['TALK'], ['channels']), fake('channels', ['JOIN'])]));
});
