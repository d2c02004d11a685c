/** The README's examples are the files the tests run: they cannot drift apart. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../examples/embedding.js';
import { main as browsersMain } from '../examples/browsers.js';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README shows `from 'parley'` (`'parley/client'`) where the repository's files import relatively. */
function asPublished(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8')
    .replace(/from '(\.\.\/)+index\.js'/g, "from 'parley'")
    .replace(/from '(\.\.\/)+harness\/client\/index\.js'/g, "from 'parley/client'")
    .trim();
}

test('README - the embedding example is examples/embedding.ts and runs', async (t) => {
  t.true(readme.includes(asPublished('examples/embedding.ts')), 'README embedding block differs from examples/embedding.ts');
  t.deepEqual(await main(), ['welcome to #dev', 'maintenance at noon']);
});

test('README - the client example is examples/client.ts (run by client-example.test)', (t) => {
  t.true(readme.includes(asPublished('examples/client.ts')), 'README client block differs from examples/client.ts');
});

test('README - the plugin example is the echo plugin the tests register', (t) => {
  t.true(readme.includes(asPublished('test/fixtures/echo-plugin.ts')), 'README plugin block differs from test/fixtures/echo-plugin.ts');
});

test("README - the browsers example is examples/browsers.ts and runs: a WebSocket client on the app's HTTP server", async (t) => {
  t.true(readme.includes(asPublished('examples/browsers.ts')), 'README browsers block differs from examples/browsers.ts');
  const lines = await browsersMain();
  t.deepEqual(lines.slice(0, 2), ['ACCEPT: chat.example.org', 'JOINED: #lobby']);
  t.true(lines[2]?.startsWith('USERLIST #lobby: webby'));
});
