// No import cycles among the sources (scripts/check-cycles.mjs), and the checker itself finds a cycle when there is one.
import test from 'ava';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

interface CycleChecker {
  importSpecifiers(text: string): string[];
  importGraph(root: string): Map<string, string[]>;
  findCycles(graph: Map<string, string[]>): string[][];
}

// dist/test/x.test.js -> the repository root
const ROOT = path.resolve(__dirname, '..', '..');

function checker(): Promise<CycleChecker> {
  return import(pathToFileURL(path.join(ROOT, 'scripts', 'check-cycles.mjs')).href) as Promise<CycleChecker>;
}

test('the TypeScript sources have no import cycle', async (t) => {
  const { importGraph, findCycles } = await checker();
  const graph = importGraph(ROOT);
  t.true(graph.has('index.ts') && graph.has(path.join('harness', 'load', 'load-run.ts')), 'the graph covers the sources');
  t.false([...graph.keys()].some((f) => f.startsWith('dist') || f.startsWith('node_modules')));
  t.deepEqual(
    findCycles(graph).map((c) => c.join(' -> ')),
    [],
  );
});

test('findCycles reports a cycle of a synthetic graph, and none once it is broken', async (t) => {
  const { findCycles } = await checker();
  const cyclic = new Map([
    ['index.ts', ['harness/index.ts']],
    ['harness/index.ts', ['harness/load-target.ts']],
    ['harness/load-target.ts', ['index.ts', 'core/x.ts']],
    ['core/x.ts', []],
    ['a.ts', ['b.ts']],
    ['b.ts', ['a.ts']],
    ['self.ts', ['self.ts']],
  ]);
  t.deepEqual(findCycles(cyclic), [
    ['harness/index.ts', 'harness/load-target.ts', 'index.ts', 'harness/index.ts'],
    ['a.ts', 'b.ts', 'a.ts'],
    ['self.ts', 'self.ts'],
  ]);
  const acyclic = new Map([
    ['index.ts', ['plugins/index.ts']],
    ['harness/load-target.ts', ['plugins/index.ts']],
    ['plugins/index.ts', []],
  ]);
  t.deepEqual(findCycles(acyclic), []);
});

test('importSpecifiers reads every relative import form and skips comments and packages', async (t) => {
  const { importSpecifiers } = await checker();
  const src = [
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export * from './c/index.js';",
    "export { d } from './d.js';",
    "import './e.js';",
    "const f = await import('./f.js');",
    "import * as net from 'node:net';",
    "// import { g } from './g.js';",
    "/* import { h } from './h.js'; */",
    'import {\n  i,\n  type I,\n} from "./i.js";',
  ].join('\n');
  t.deepEqual(importSpecifiers(src).sort(), ['../b.js', './a.js', './c/index.js', './d.js', './e.js', './f.js', './i.js']);
});

test('the checker finds a cycle written to disk and resolves .js to .ts', async (t) => {
  const { importGraph, findCycles } = await checker();
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-cycles-'));
  try {
    await mkdir(path.join(dir, 'sub'));
    await mkdir(path.join(dir, 'node_modules'));
    await writeFile(path.join(dir, 'index.ts'), "export * from './sub/index.js';\n");
    await writeFile(path.join(dir, 'sub', 'index.ts'), "import { x } from '../index.js';\nexport const y = x;\n");
    await writeFile(path.join(dir, 'node_modules', 'z.ts'), "import './z.js';\n");
    const graph = importGraph(dir);
    t.deepEqual([...graph.keys()].sort(), ['index.ts', path.join('sub', 'index.ts')]);
    t.deepEqual(findCycles(graph), [['index.ts', path.join('sub', 'index.ts'), 'index.ts']]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
