/**
 * Serves the web chat page and the browser client (the package's dist/web) over
 * HTTP: `/` is the page, `/client/index.js` the client module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface WebHandlerOptions {
  /** Directory of the built page and client. Default: the package's dist/web. */
  root?: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Every file here is public and static: page, client modules, and their source maps. */
const ALLOWED = /^\/(?:page|client)\/[a-z0-9-]+\.(?:js|js\.map|css)$/;

/**
 * An HTTP request listener serving the web chat. Unknown paths get 404; only GET
 * and HEAD are answered.
 * @example
 * http.createServer(webHandler()).listen(8080);
 */
export function webHandler(options: WebHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const root = options.root ?? path.join(__dirname, '..', 'web');
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = pathname === '/' || pathname === '/index.html' ? '/page/index.html' : ALLOWED.test(pathname) ? pathname : undefined;
    if (file === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    readFile(path.join(root, file)).then(
      (body) => {
        res.writeHead(200, {
          'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'Content-Length': body.length,
          'X-Content-Type-Options': 'nosniff',
          // The page runs only its own scripts and talks only to its own origin.
          'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n'),
    );
  };
}
