/** A UDP socket created and bound in one step, as the relay and the node link open theirs. */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface UdpBindOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
  reuseAddr?: boolean;
}

/** Resolves with the bound socket; on failure (EADDRINUSE...) the socket is closed and the error thrown. */
export async function bindUdp(opts: UdpBindOptions): Promise<dgram.Socket> {
  const { host, port, ...sizes } = opts;
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', ...sizes });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}
