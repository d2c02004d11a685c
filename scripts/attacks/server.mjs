// A server to attack: `node server.mjs <repo root> [tls]`. Prints its port, then serves until killed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const [root, mode] = process.argv.slice(2);
const { createServer } = await import(join(root, 'dist/index.js'));
const opts = { hostname: 'attack', logger: 'error', limits: { maxConnectionsPerIp: 0 } };
if (mode === 'tls') opts.tls = { key: readFileSync(process.env.TLS_KEY), cert: readFileSync(process.env.TLS_CERT) };
const server = createServer(opts);
const { port } = await server.listen({ port: 0 });
process.stdout.write(`${port}\n`);
