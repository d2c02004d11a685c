import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { createServer, webHandler } from 'parley';

export async function main(): Promise<string[]> {
  const server = createServer({ hostname: 'chat.example.org' }); // no port of its own here

  // The app's own HTTP server (or Express's, Fastify's): parley's chat page at /,
  // its WebSocket endpoint at /parley, the app's routes beside them.
  const page = webHandler();
  const http = createHttpServer((req, res) => (req.url === '/health' ? res.end('ok\n') : page(req, res)));
  server.attachHttp(http, { path: '/parley' }); // starts the plugins
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;

  // In a browser: ParleyBrowserClient from 'parley/web'. Any WebSocket client speaks the same lines.
  const ws = new WebSocket(`ws://127.0.0.1:${port}/parley`);
  const lines: string[] = [];
  const accepted = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      for (const line of data.toString().split('\n').filter(Boolean)) lines.push(line);
      if (lines.some((l) => l.startsWith('USERLIST #lobby'))) resolve();
    }),
  );
  ws.on('open', () => ws.send('CONNECT: "webby" "" 1.1.0'));
  await accepted; // ACCEPT, then the auto-join of #lobby

  ws.close();
  await server.close();
  await new Promise((r) => http.close(r));
  return lines;
}

if (require.main === module) main().then((lines) => console.log(lines.join('\n')));
