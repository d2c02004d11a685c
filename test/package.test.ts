/**
 * The published package, as a user meets it: `npm pack`, `npm install <tarball>` into an empty app,
 * the README's plugin compiled by a fresh `tsc --init` project, the same plugin in plain JavaScript,
 * the entry points, and `npm install git+file://...`. Slow (npm installs), so each test has its own timeout.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { ParleyErrors } from '../core/errors.js';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
/** npm flags for installs that should come from the local cache, quietly. */
const NPM_QUIET = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

interface Run {
  stdout: string;
  stderr: string;
}

/**
 * The environment without the `npm test` run's npm_* variables, which would steer the nested npm, and without
 * c8's NODE_V8_COVERAGE: npm's own coverage is not ours to count, and the scratch apps run a copy of dist/.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_V8_COVERAGE'));
}

/** Runs a command to completion; rejects with its output when it fails or outlives `timeoutMs`. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `parley-${prefix}-`));
  temps.push(dir);
  return dir;
}
test.after.always(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

interface PackedFile {
  path: string;
}

/**
 * `npm pack` of the repository as it is. `--ignore-scripts` because prepack cleans and rebuilds dist/,
 * which the other test files are running from; `files` in package.json leaves the test build out.
 */
async function packJson(dryRun: boolean, dest?: string): Promise<{ filename: string; files: PackedFile[] }> {
  const args = ['pack', '--json', '--ignore-scripts', ...(dryRun ? ['--dry-run'] : ['--pack-destination', dest ?? tmpdir()])];
  const { stdout } = await run('npm', args, ROOT);
  return (JSON.parse(stdout) as { filename: string; files: PackedFile[] }[])[0]!;
}

let packedFiles: Promise<string[]> | undefined;
function packedFileList(): Promise<string[]> {
  packedFiles ??= packJson(true).then((p) => p.files.map((f) => f.path));
  return packedFiles;
}

let scratchApp: Promise<string> | undefined;
/** One empty app with the packed tarball installed, shared by the tests that run code against it. */
function installedApp(): Promise<string> {
  scratchApp ??= (async () => {
    const dir = tempDir('app');
    const { filename } = await packJson(false, dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
    await run('npm', ['install', join(dir, filename), ...NPM_QUIET], dir);
    return dir;
  })();
  return scratchApp;
}

/** The README shows `from 'parley'` where the repository's files import relatively. */
function asPublished(source: string): string {
  return source.replace(/from '(\.\.\/)+index\.js'/g, "from 'parley'");
}

test('npm pack lists no test, bench, example or fixture file', async (t) => {
  t.timeout(60_000);
  const files = await packedFileList();
  t.true(files.includes('dist/index.js') && files.includes('dist/harness/client/index.js') && files.includes('dist/harness/load/index.js'));
  t.true(files.includes('dist/cli/main.js'), 'the bin is shipped');
  const unwanted = files.filter((f) => /(^|\/)(test|bench|examples|fixtures)\/|\.test\.|-fixture\.|\.tsbuildinfo$/.test(f));
  t.deepEqual(unwanted, []);
  t.deepEqual(
    files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    [],
    'no TypeScript sources: the maps carry them',
  );
});

test('npm pack ships source maps that carry their sources', async (t) => {
  t.timeout(60_000);
  const maps = (await packedFileList()).filter((f) => f.endsWith('.js.map'));
  t.true(maps.length > 0);
  const withoutSources = maps.filter((f) => {
    const map = JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((s) => typeof s !== 'string');
  });
  t.deepEqual(withoutSources, []);
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

test('every relative link in the shipped markdown resolves inside the package', async (t) => {
  t.timeout(60_000);
  const files = await packedFileList();
  const shipped = new Set(files);
  const markdown = files.filter((f) => f.endsWith('.md'));
  t.true(markdown.includes('README.md') && markdown.includes('docs/protocol.md'));
  const broken: string[] = [];
  let checked = 0;
  for (const doc of markdown) {
    const text = readFileSync(join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? doc : normalize(join(dirname(doc), path)).replace(/\\/g, '/');
      const isDir = files.some((f) => f.startsWith(`${file.replace(/\/$/, '')}/`));
      if (!shipped.has(file) && !isDir) broken.push(`${doc}: ${target} (not in the package)`);
      else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(join(ROOT, file), 'utf8')).has(anchor)) {
        broken.push(`${doc}: ${target} (no such heading)`);
      }
    }
  }
  t.true(checked > 0);
  t.deepEqual(broken, []);
});

test('every PARLEY_ERR_ code is documented in docs/', (t) => {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => readFileSync(join(ROOT, 'docs', f), 'utf8'))
    .join('\n');
  const codes = Object.keys(ParleyErrors);
  t.true(codes.length > 0);
  t.deepEqual(
    codes.filter((code) => !new RegExp(`\\b${code}\\b`).test(docs)),
    [],
  );
});

/** Runs a scratch program with node and returns its trimmed output. */
async function runNode(t: ExecutionContext, cwd: string, file: string): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [file], cwd, 30_000);
  if (stderr.trim() !== '') t.log(stderr.trim());
  return stdout.trim();
}

test('the README plugin compiles in a fresh tsc --init project against the tarball and echoes', async (t) => {
  t.timeout(180_000);
  const app = await installedApp();
  const project = join(app, 'ts');
  mkdirSync(project);
  // An ESM package, as tsc --init's verbatimModuleSyntax expects of `import` syntax.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  await run(TSC, ['--init'], project);
  writeFileSync(join(project, 'echo-plugin.ts'), asPublished(readFileSync(join(FIXTURES, 'echo-plugin.ts'), 'utf8')));
  copyFileSync(join(FIXTURES, 'scratch-main.ts'), join(project, 'main.ts'));
  await run(TSC, ['-p', project], project);
  t.is(await runNode(t, project, 'main.js'), 'ts hi');
});

test('the README plugin written in plain CommonJS runs against the tarball and echoes', async (t) => {
  t.timeout(180_000);
  const app = await installedApp();
  copyFileSync(join(FIXTURES, 'scratch-echo.cjs'), join(app, 'echo.cjs'));
  t.is(await runNode(t, app, 'echo.cjs'), 'cjs hi');
});

test('the README plugin written in plain ESM runs against the tarball and echoes', async (t) => {
  t.timeout(180_000);
  const app = await installedApp();
  copyFileSync(join(FIXTURES, 'scratch-echo.mjs'), join(app, 'echo.mjs'));
  t.is(await runNode(t, app, 'echo.mjs'), 'esm hi');
});

test('each entry point of the tarball resolves, for require and import', async (t) => {
  t.timeout(180_000);
  const app = await installedApp();
  const probe = [
    "const p = require('parley'), c = require('parley/client'), h = require('parley/harness');",
    'console.log([typeof p.createServer, typeof c.ParleyClient, typeof c.VoiceClient, typeof h.Harness].join());',
  ].join('\n');
  writeFileSync(join(app, 'entries.cjs'), probe);
  t.is(await runNode(t, app, 'entries.cjs'), 'function,function,function,function');
  writeFileSync(
    join(app, 'entries.mjs'),
    [
      "import { createServer } from 'parley';",
      "import { ParleyClient, VoiceClient } from 'parley/client';",
      "import { Harness } from 'parley/harness';",
      'console.log([typeof createServer, typeof ParleyClient, typeof VoiceClient, typeof Harness].join());',
    ].join('\n'),
  );
  t.is(await runNode(t, app, 'entries.mjs'), 'function,function,function,function');
});

test("require('parley') loads no opus, HDR histogram, Redis client or harness module", async (t) => {
  t.timeout(180_000);
  const app = await installedApp();
  // Each probe runs in a fresh process; the time is the require alone, for the record.
  const probe = (what: string): string =>
    [
      'const t0 = process.hrtime.bigint();',
      `require(${JSON.stringify(what)});`,
      'const ms = Number(process.hrtime.bigint() - t0) / 1e6;',
      'const loaded = Object.keys(require.cache).filter((k) => /opusscript|hdr-histogram|ioredis|[\\\\/]harness[\\\\/]/.test(k));',
      'console.log(JSON.stringify({ ms, loaded }));',
    ].join('\n');
  writeFileSync(join(app, 'require-parley.cjs'), probe('parley'));
  writeFileSync(join(app, 'require-net.cjs'), probe('node:net'));
  const parley = JSON.parse(await runNode(t, app, 'require-parley.cjs')) as { ms: number; loaded: string[] };
  const net = JSON.parse(await runNode(t, app, 'require-net.cjs')) as { ms: number };
  t.log(`require('parley') ${parley.ms.toFixed(1)} ms, require('node:net') ${net.ms.toFixed(1)} ms`);
  t.deepEqual(
    parley.loaded.map((k) => relative(app, k)),
    [],
  );
});

test('npm install git+file:// of a clone builds the package through prepare', async (t) => {
  t.timeout(300_000);
  // The clone is of the working tree as it is, committed afresh, so the test checks these sources.
  const base = tempDir('git');
  const repo = join(base, 'repo');
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT);
  for (const file of stdout.split('\0').filter((f) => f !== '')) {
    try {
      cpSync(join(ROOT, file), join(repo, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted in the working tree
    }
  }
  const git = (...args: string[]): Promise<Run> =>
    run('git', ['-c', 'user.name=parley-test', '-c', 'user.email=test@localhost', '-c', 'commit.gpgsign=false', ...args], repo);
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'snapshot');
  const app = join(base, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-git-app', private: true }));
  await run('npm', ['install', `git+file://${repo}`, ...NPM_QUIET], app, 240_000);
  const installed = join(app, 'node_modules', 'parley');
  const dist = readdirSync(join(installed, 'dist'), { recursive: true }).map(String);
  t.true(dist.includes('index.js'), 'prepare built dist/');
  t.deepEqual(
    dist.filter((f) => /\.test\.|(^|\/)(test|bench|examples)\//.test(f)),
    [],
  );
  writeFileSync(join(app, 'probe.cjs'), "console.log(typeof require('parley').createServer);");
  t.is(await runNode(t, app, 'probe.cjs'), 'function');
});
