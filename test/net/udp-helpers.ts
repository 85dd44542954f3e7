// Loopback UDP for the tests of the heartbeat channel and the watcher's listener: all of 127.0.0.0/8 is local on
// Linux, so 127.0.1.0/24 and 127.0.2.0/24 stand for two networks without configuring any address.
import { createSocket } from 'node:dgram';
import { bindSocket, closeSocket } from '../../agent/net/heartbeat-socket.ts';

export async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await bindSocket(socket, 0, '0.0.0.0');
  const { port } = socket.address();
  await closeSocket(socket);
  return port;
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Time for any packet still in flight on loopback to arrive. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

/** Sends raw packets to `to`:`port` from `fromAddress`, as an attacker or a broken host on that network would. */
export async function sendRaw(fromAddress: string, to: string, port: number, packets: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await bindSocket(socket, 0, fromAddress);
    for (const packet of packets) {
      await new Promise<void>((resolve, reject) => socket.send(packet, port, to, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    await closeSocket(socket);
  }
}
