// The watcher's ears: the servers' heartbeat broadcasts on each of this client's networks. One socket per network
// and port, bound to that network's broadcast address, so that the network a heartbeat counts for is the one it
// arrived on. Every packet is checked before the core hears of it: its sender's own address on that network as
// source, the sender's signature over the packet and that network (the agent's codec, with the servers' public
// keys: a watcher holds no key that could make a heartbeat), and freshness (the agent's replay guard, one per pair). Anything else is counted, logged at most once per reason
// per 10 s, and dropped: a flood of garbage costs a decode each and changes nothing.
import { createSocket, type Socket } from 'node:dgram';
import type { NetId, NodeId } from '../core/types.ts';
import { decodeSignedHeartbeat, type DecodedHeartbeat, type WatcherContext } from '../net/heartbeat-codec.ts';
import { ThrottledLog, type HeartbeatLog } from '../net/heartbeat-log.ts';
import { ReplayGuard } from '../net/heartbeat-replay.ts';
import { bindSocket, closeSocket, errorCode } from '../net/heartbeat-socket.ts';
import { noDrops, type HeartbeatDropReason } from '../ports.ts';

export interface ListenedPair {
  ctx: WatcherContext;
  port: number;
  /** Each node's own address on each network: the only source its heartbeats there can have. */
  sources: Record<NodeId, Record<NetId, string>>;
}

export interface ListenerOptions {
  pairs: ListenedPair[];
  networks: Array<{ net: NetId; broadcast: string }>;
  log: HeartbeatLog;
  /** Monotonic ms, for the rate limit of log lines. */
  now: () => number;
}

export type OnWatchedHeartbeat = (pair: string, node: NodeId, net: NetId, addresses: string[]) => void;

export interface HeartbeatSource {
  /** Binds every socket, or rejects (and binds none) if one cannot be bound. */
  start(onHeartbeat: OnWatchedHeartbeat): Promise<void>;
  drops(): Record<HeartbeatDropReason, number>;
  close(): Promise<void>;
}

export class HeartbeatListener implements HeartbeatSource {
  private readonly problems: ThrottledLog;
  private readonly guards = new Map<string, ReplayGuard>();
  private readonly dropped = noDrops();
  private sockets: Socket[] = [];
  private onHeartbeat: OnWatchedHeartbeat | null = null;

  constructor(private readonly opts: ListenerOptions) {
    this.problems = new ThrottledLog(opts.log, opts.now);
    for (const pair of opts.pairs) this.guards.set(pair.ctx.pair, new ReplayGuard());
  }

  async start(onHeartbeat: OnWatchedHeartbeat): Promise<void> {
    if (this.sockets.length > 0) throw new Error('heartbeat listener already started');
    this.onHeartbeat = onHeartbeat;
    const ports = [...new Set(this.opts.pairs.map((p) => p.port))];
    try {
      for (const port of ports) {
        for (const network of this.opts.networks) await this.listen(port, network.net, network.broadcast);
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  drops(): Record<HeartbeatDropReason, number> {
    return { ...this.dropped };
  }

  async close(): Promise<void> {
    const sockets = this.sockets;
    this.sockets = [];
    this.onHeartbeat = null;
    await Promise.all(sockets.map(closeSocket));
  }

  private async listen(port: number, net: NetId, broadcast: string): Promise<void> {
    // reuseAddr: an agent on the same machine (a server that is also a client) listens on the wildcard address.
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.sockets.push(socket);
    socket.on('message', (packet, source) => this.receive(packet, source.address, port, net));
    try {
      await bindSocket(socket, port, broadcast);
    } catch (err) {
      throw new Error(`cannot listen for heartbeats on ${broadcast} port ${port} (network ${net}): ${errorCode(err)}`);
    }
    socket.on('error', (err) => this.problems.note(
      `socket:${net}:${port}`, 'warn', 'heartbeat listener socket error', { net, port, error: errorCode(err) },
    ));
  }

  private receive(packet: Buffer, source: string, port: number, net: NetId): void {
    let decoded: DecodedHeartbeat = { ok: false, reason: 'pair' };
    let pair: ListenedPair | undefined;
    // The pair id comes before the MAC: only the pair it names computes one.
    for (const candidate of this.opts.pairs) {
      if (candidate.port !== port) continue;
      decoded = decodeSignedHeartbeat(candidate.ctx, packet, net);
      pair = candidate;
      if (decoded.ok || decoded.reason !== 'pair') break;
    }
    if (!decoded.ok || !pair) return this.drop(decoded.ok ? 'pair' : decoded.reason, source, net);
    const { hb, extras } = decoded;
    if (pair.sources[hb.from]?.[net] !== source) return this.drop('source', source, net);
    const freshness = this.guards.get(pair.ctx.pair)!.check(net, hb);
    if (freshness === 'replay') return this.drop('replay', source, net);
    if (freshness === 'duplicate' || freshness === 'late') return;
    try {
      this.onHeartbeat?.(pair.ctx.pair, hb.from, net, extras.addresses);
    } catch (err) {
      // A packet must not be able to stop the watcher; the error is the handler's, and is logged as such.
      this.problems.note('deliver', 'error', 'the heartbeat handler failed', {
        net, error: err instanceof Error ? err.stack ?? err.message : String(err),
      });
    }
  }

  private drop(reason: HeartbeatDropReason, source: string, net: NetId): void {
    this.dropped[reason]++;
    this.problems.note(`drop:${reason}`, 'warn', `dropped heartbeat packets (${reason})`, { reason, source, net });
  }
}
