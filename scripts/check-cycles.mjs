#!/usr/bin/env node
/**
 * Fails on any import cycle among the project's TypeScript sources.
 * TypeScript 7 (tsgo) ships no compiler API, so this reads imports with a regex: every relative
 * `import`/`export ... from`, side-effect `import '...'` and `import('...')`, type-only ones included
 * (a cycle of types is still a cycle a reader has to untangle). `./x.js` resolves to `./x.ts`,
 * `./dir/index.js` to `./dir/index.ts`. Usage: `node scripts/check-cycles.mjs [root]`.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders never scanned. */
export const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage']);

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

/** The relative specifiers that one source text imports (comments removed first). */
export function importSpecifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out = [];
  for (const m of code.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2]);
  return out;
}

function tsFiles(root, dir = root, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') && e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) tsFiles(root, p, out);
    } else if (/\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveSpecifier(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base.replace(/\.cjs$/, '.cts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c));
}

/** The import graph of every source file under `root`: file (relative to root) to the files it imports. */
export function importGraph(root) {
  const graph = new Map();
  for (const file of tsFiles(root)) {
    const deps = new Set();
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const target = resolveSpecifier(file, spec);
      if (target) deps.add(relative(root, target));
    }
    graph.set(relative(root, file), [...deps].sort());
  }
  return graph;
}

/**
 * The cycles of a graph: one per strongly connected component with more than one node (or a self-import),
 * each as a path `[a, b, ..., a]`. Tarjan's algorithm, iterative so that deep graphs do not overflow the stack.
 * @param graph node to the nodes it points at
 */
export function findCycles(graph) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const sccs = [];
  let next = 0;
  const succ = (n) => graph.get(n) ?? [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next);
    low.set(start, next);
    next++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const ws = succ(v);
      if (i < ws.length) {
        frame[1]++;
        const w = ws[i];
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next);
          next++;
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const u = work[work.length - 1][0];
        low.set(u, Math.min(low.get(u), low.get(v)));
      }
      if (low.get(v) === index.get(v)) {
        const scc = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1 || succ(v).includes(v)) sccs.push(scc);
      }
    }
  }
  return sccs.map((scc) => cyclePath(graph, new Set(scc)));
}

/** A shortest cycle through the component's first node (in sorted order), by breadth-first search. */
function cyclePath(graph, members) {
  const start = [...members].sort()[0];
  const prev = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)) path.splice(1, 0, u);
        path.push(start);
        return path;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const graph = importGraph(root);
  const cycles = findCycles(graph);
  if (cycles.length === 0) {
    console.log(`no import cycles among ${graph.size} source files`);
  } else {
    for (const c of cycles) console.error(`import cycle: ${c.join(' -> ')}`);
    process.exitCode = 1;
  }
}
