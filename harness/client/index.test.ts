// parley/client stays light: loading it pulls in neither the load harness, nor hdr-histogram, nor opusscript.
import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function loadedAfterRequire(entry: string): Promise<string[]> {
  const script = `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache)));`;
  const { stdout } = await run(process.execPath, ['-e', script], { timeout: 20_000 });
  // relative to dist/, so that a checkout under a folder named "harness" does not match
  const dist = path.join(__dirname, '..', '..');
  return (JSON.parse(stdout) as string[]).map((f) => (f.startsWith(dist) ? path.relative(dist, f) : f));
}

test('requiring the client entry loads no load-harness module, hdr-histogram or opusscript', async (t) => {
  const files = await loadedAfterRequire(path.join(__dirname, 'index.js'));
  t.true(files.some((f) => f.endsWith(path.join('harness', 'client', 'client.js'))));
  t.deepEqual(
    files.filter((f) => /hdr-histogram|opusscript|^harness[\\/]load[\\/]/.test(f)),
    [],
  );
});

test('requiring the root entry loads neither the client nor the load harness', async (t) => {
  const files = await loadedAfterRequire(path.join(__dirname, '..', '..', 'index.js'));
  t.true(files.some((f) => f.endsWith(path.join('plugins', 'index.js'))));
  t.deepEqual(
    files.filter((f) => /hdr-histogram|opusscript|^harness[\\/]/.test(f)),
    [],
  );
});
