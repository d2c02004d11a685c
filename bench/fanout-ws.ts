// Fan-out over WebSocket (issue 10): 200 clients in one channel, parley driven over
// WebSocket at /parley of its one port, beside a bare `ws` broadcast server and socket.io 4
// with the websocket transport, in one run (the fanout workload's runner and table).
// Targets: parley delivers at least 5x socket.io's deliveries/s at no more than 1.5x the
// bare ws server's CPU per delivery.
import * as path from 'node:path';
import type { ParsedArgs } from './args.js';
import { runFanout, type FanoutOptions, type FanoutReport } from './fanout.js';
import { ROOT_DIR } from './servers.js';

const TARGET_VS_SOCKETIO = 5;
const TARGET_CPU_VS_BARE_WS = 1.5;

export async function runFanoutWs(o: FanoutOptions, args: ParsedArgs): Promise<FanoutReport> {
  const opts: FanoutOptions = {
    ...o,
    // 200 clients unless asked otherwise; the three kinds, whatever --kinds says.
    clients: args.flags.has('clients') ? o.clients : 200,
    kinds: ['parley-ws', 'bare-ws', 'socket.io'],
    out: o.out ?? path.join(ROOT_DIR, '.bench-results', 'fanout-ws.json'),
  };
  delete opts.only;
  const report = await runFanout(opts);
  const med = (k: string) => report.kinds.find((r) => r.kind === k)?.median;
  const parley = med('parley-ws');
  const bare = med('bare-ws');
  const sio = med('socket.io');
  if (parley?.ok && sio?.ok) {
    const r = parley.deliveriesPerSec / sio.deliveriesPerSec;
    console.log(`parley-ws/socket.io deliveries/s:   ${r.toFixed(2)}x  (target >= ${TARGET_VS_SOCKETIO}x)  ${r >= TARGET_VS_SOCKETIO ? 'PASS' : 'MISS'}`);
  }
  if (parley?.ok && bare?.ok && parley.serverCpuUsPerDelivery !== null && bare.serverCpuUsPerDelivery) {
    const r = parley.serverCpuUsPerDelivery / bare.serverCpuUsPerDelivery;
    console.log(`parley-ws/bare-ws CPU per delivery: ${r.toFixed(2)}x  (target <= ${TARGET_CPU_VS_BARE_WS}x)  ${r <= TARGET_CPU_VS_BARE_WS ? 'PASS' : 'MISS'}`);
  }
  return report;
}
