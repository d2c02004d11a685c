// webHandler: the page and the client modules, and nothing else.
import test from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { webHandler } from '../index.js';

async function serve(t: import('ava').ExecutionContext): Promise<string> {
  const srv = http.createServer(webHandler());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

test('web handler - serves the page at / and the client modules with their types', async (t) => {
  const base = await serve(t);
  const page = await fetch(`${base}/`);
  t.is(page.status, 200);
  t.is(page.headers.get('content-type'), 'text/html; charset=utf-8');
  t.regex(await page.text(), /<script type="module" src="page\/app.js">/);
  const client = await fetch(`${base}/client/index.js`);
  t.is(client.status, 200);
  t.is(client.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.regex(await client.text(), /export \{ ParleyBrowserClient/);
  t.is((await fetch(`${base}/page/app.js?v=1`)).status, 200);
});

test('web handler - refuses other paths, traversal and methods', async (t) => {
  const base = await serve(t);
  for (const p of ['/package.json', '/client/../../core/server.js', '/client/%2e%2e/package.json', '/client/index.d.ts', '/nope']) {
    t.is((await fetch(`${base}${p}`)).status, 404, p);
  }
  t.is((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status, 405);
});
