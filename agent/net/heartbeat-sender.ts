// Sends heartbeats on one network, from a socket bound to this node's address there, so that they leave through
// that network's interface whatever the routing table prefers. The address may not exist yet (an interface still
// coming up at boot): then each send tries the bind again, and heartbeats flow once it succeeds.
import { createSocket, type Socket } from 'node:dgram';
import type { NetworkEndpoint } from '../ports.ts';
import type { ThrottledLog } from './heartbeat-log.ts';
import { bindSocket, closeSocket, errorCode } from './heartbeat-socket.ts';

export class NetworkSender {
  private socket: Socket | null = null;
  private binding: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly network: NetworkEndpoint,
    /** The port the partner listens on. */
    private readonly port: number,
    private readonly problems: ThrottledLog,
  ) {}

  /** Never rejects: a failed bind is logged and tried again on the next send. */
  bind(): Promise<void> {
    if (this.socket || this.closed) return Promise.resolve();
    this.binding ??= this.tryBind().finally(() => {
      this.binding = null;
    });
    return this.binding;
  }

  /** To the partner's address and to the broadcast address (for client watchers). Never throws; false while unbound. */
  send(packet: Buffer): boolean {
    const socket = this.socket;
    if (!socket) {
      void this.bind();
      return false;
    }
    for (const address of [this.network.partnerAddress, this.network.broadcast]) {
      const failed = (err: unknown) => this.problems.note(
        `send:${this.network.net}`, 'warn', `cannot send heartbeats to ${address} on ${this.network.iface}`,
        { ...this.fields(), to: address, error: errorCode(err) },
      );
      try {
        socket.send(packet, this.port, address, (err) => err && failed(err));
      } catch (err) {
        failed(err);
      }
    }
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.binding;
    const socket = this.socket;
    this.socket = null;
    if (socket) await closeSocket(socket);
  }

  private async tryBind(): Promise<void> {
    const socket = createSocket('udp4');
    try {
      await bindSocket(socket, 0, this.network.localAddress);
    } catch (err) {
      await closeSocket(socket);
      this.problems.note(
        `bind:${this.network.net}`, 'warn',
        `cannot bind the heartbeat sender to ${this.network.localAddress} on ${this.network.iface}; retrying with each heartbeat`,
        { ...this.fields(), error: errorCode(err) },
      );
      return;
    }
    // Send errors go to each send's callback; anything else the socket reports must not crash the agent either.
    socket.on('error', (err) => this.problems.note(
      `socket:${this.network.net}`, 'warn', 'heartbeat sender socket error', { ...this.fields(), error: errorCode(err) },
    ));
    if (this.closed) {
      await closeSocket(socket);
      return;
    }
    socket.setBroadcast(true);
    this.socket = socket;
  }

  private fields(): Record<string, unknown> {
    return { net: this.network.net, iface: this.network.iface, localAddress: this.network.localAddress };
  }
}
