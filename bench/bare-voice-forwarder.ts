// The practical lower bound for the UDP voice relay in Node: a bare `dgram` forwarder.
//
// It binds a UDP socket and a TCP control listener on the same port number (like parley's
// relay, which shares the TCP port number). Pairs are registered over a control TCP
// connection before the measured phase, one line per pair:
//
//   PAIR <addrA>:<portA> <addrB>:<portB>   -> (nothing)
//   SYNC                                   -> OK <pairs registered>
//
// Per datagram: one Map lookup by the source `address:port` string (as the parley relay
// does) and one `send` of the received Buffer, unchanged, to the peer. Datagrams from
// unknown sources are dropped.
//
// Usage: node dist/bench/bare-voice-forwarder.js --port 0 [--host 127.0.0.1]
//          [--udp-buffer 4194304] [--parent-stdin]
// Prints `LISTENING <port>` on stdout once both sockets are bound. With --parent-stdin it
// exits when its stdin closes (so it never outlives the benchmark that spawned it).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { quitWithParent } from './parent-stdin.js';

interface Peer {
  readonly address: string;
  readonly port: number;
}

const args = parseArgs(process.argv.slice(2));
const host = strFlag(args, 'host', '127.0.0.1');
const wantPort = numFlag(args, 'port', 0);
const bufferBytes = numFlag(args, 'udp-buffer', 4 * 1024 * 1024, { min: 1 });

const peers = new Map<string, Peer>();
let relayed = 0;
let dropped = 0;

function fail(msg: string): never {
  process.stderr.write(`bare-voice-forwarder: ${msg}\n`);
  process.exit(1);
}

function parseEndpoint(s: string): Peer | undefined {
  const i = s.lastIndexOf(':');
  if (i <= 0) return undefined;
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { address: s.slice(0, i), port };
}

function onControl(socket: net.Socket): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  socket.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      const parts = line.split(' ');
      if (parts[0] === 'PAIR' && parts.length === 3) {
        const a = parseEndpoint(parts[1]!);
        const b = parseEndpoint(parts[2]!);
        if (a === undefined || b === undefined) {
          socket.write(`ERROR bad pair: ${line}\n`);
          continue;
        }
        peers.set(`${a.address}:${a.port}`, b);
        peers.set(`${b.address}:${b.port}`, a);
      } else if (parts[0] === 'SYNC') {
        socket.write(`OK ${peers.size / 2}\n`);
      } else if (parts[0] === 'STATS') {
        socket.write(`STATS relayed=${relayed} dropped=${dropped}\n`);
      } else if (line !== '') {
        socket.write(`ERROR unknown command: ${line}\n`);
      }
    }
  });
}

async function main(): Promise<void> {
  const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
  udp.on('error', (err) => {
    // Send errors (no callback given) arrive here; they must not stop the forwarder.
    dropped++;
    void err;
  });
  udp.on('message', (buf, rinfo) => {
    const peer = peers.get(`${rinfo.address}:${rinfo.port}`);
    if (peer === undefined) {
      dropped++;
      return;
    }
    udp.send(buf, peer.port, peer.address);
    relayed++;
  });
  const tcp = net.createServer(onControl);
  // TCP first on the asked port (0: any), then UDP on the same number; retry if taken.
  for (let attempt = 0; ; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ port: wantPort, host }, () => {
        tcp.off('error', reject);
        resolve((tcp.address() as net.AddressInfo).port);
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      const onErr = (): void => resolve(false);
      udp.once('error', onErr);
      udp.bind(port, host, () => {
        udp.off('error', onErr);
        resolve(true);
      });
    });
    if (ok) break;
    await new Promise<void>((r) => tcp.close(() => r()));
    if (wantPort !== 0 || attempt >= 20) fail(`cannot bind udp port ${port}`);
  }
  const recv = udp.getRecvBufferSize();
  if (recv < bufferBytes) process.stderr.write(`bare-voice-forwarder: udp receive buffer is ${recv} bytes, less than ${bufferBytes}\n`);
  process.stdout.write(`LISTENING ${(tcp.address() as net.AddressInfo).port}\n`);
}

quitWithParent(boolFlag(args, 'parent-stdin'));
main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
