// Heartbeats over UDP on both networks: the agent's HeartbeatTransport. Every packet is checked here (source
// address, MAC over the network it came in on, pair, sender, counters, freshness) before the core sees it, so a
// forged, foreign, relayed, stale or garbled packet can never count as the partner being alive, or ask anything.
import { createSocket, type Socket } from 'node:dgram';
import { inSubnet } from '../../config/ipv4.ts';
import type { Heartbeat, NetId } from '../core/types.ts';
import {
  noDrops, type HeartbeatDropReason, type HeartbeatExtras, type HeartbeatTransport, type NetworkEndpoint, type NetworkTraffic,
} from '../ports.ts';
import { CounterBounds } from './heartbeat-bounds.ts';
import { decodeHeartbeat, encodeHeartbeat, type HeartbeatContext, type WireExtras } from './heartbeat-codec.ts';
import { ThrottledLog, type HeartbeatLog } from './heartbeat-log.ts';
import { ReplayGuard, type Mark } from './heartbeat-replay.ts';
import { RttMeter } from './heartbeat-rtt.ts';
import { NetworkSender } from './heartbeat-sender.ts';
import { bindSocket, closeSocket, errorCode } from './heartbeat-socket.ts';

export interface UdpHeartbeatsOptions {
  /** ctx.nodes[selfIndex] is this node. */
  ctx: HeartbeatContext;
  selfIndex: 0 | 1;
  /** The port this node listens on, on every address. */
  port: number;
  /** The port the partner listens on: `port` unless both nodes run on one machine, as in the tests. */
  partnerPort?: number;
  networks: NetworkEndpoint[];
  log: HeartbeatLog;
  /** Monotonic ms, for the rate limit of log lines and the round trips. */
  now: () => number;
  /** Each round trip measured, for metrics: called on the receive path, so it must be cheap. */
  onRtt?: (net: NetId, ms: number) => void;
  /**
   * The partner's newest heartbeat as a previous run recorded it (replays of anything up to it are refused), and
   * where each fresh one is reported so that the next run can do the same (heard-mark.ts).
   */
  partnerMark?: { initial: Mark | null; heard(mark: Mark, now: number): void };
}

type OnHeartbeat = (net: NetId, hb: Heartbeat, extras: HeartbeatExtras) => void;

export class UdpHeartbeats implements HeartbeatTransport {
  private readonly self: string;
  private readonly problems: ThrottledLog;
  private readonly senders: NetworkSender[];
  private readonly guard = new ReplayGuard();
  private readonly bounds = new CounterBounds();
  private readonly rtt = new RttMeter();
  private readonly counts: Record<NetId, { sent: number; received: number }>;
  private readonly dropped = noDrops();
  private receiver: Socket | null = null;
  private onHeartbeat: OnHeartbeat | null = null;

  constructor(private readonly opts: UdpHeartbeatsOptions) {
    this.self = opts.ctx.nodes[opts.selfIndex];
    this.problems = new ThrottledLog(opts.log, opts.now);
    const partnerPort = opts.partnerPort ?? opts.port;
    this.senders = opts.networks.map((network) => new NetworkSender(network, partnerPort, this.problems));
    this.counts = Object.fromEntries(opts.networks.map((n) => [n.net, { sent: 0, received: 0 }]));
    const mark = opts.partnerMark?.initial;
    if (mark) this.guard.seed(opts.ctx.nodes[1 - opts.selfIndex]!, mark, opts.networks.map((n) => n.net));
  }

  /** Rejects if the receiving port cannot be bound; a sender whose address is missing retries on its own. */
  async start(onHeartbeat: OnHeartbeat): Promise<void> {
    if (this.receiver) throw new Error('heartbeat transport already started');
    // Bound to the wildcard address: a socket bound to a unicast address does not receive broadcasts.
    const receiver = createSocket({ type: 'udp4', reuseAddr: true });
    this.receiver = receiver;
    this.onHeartbeat = onHeartbeat;
    receiver.on('message', (packet, source) => this.receive(packet, source.address));
    try {
      await bindSocket(receiver, this.opts.port, '0.0.0.0');
    } catch (err) {
      this.receiver = null;
      await closeSocket(receiver);
      throw new Error(`cannot listen for heartbeats on UDP port ${this.opts.port}: ${errorCode(err)}`);
    }
    receiver.on('error', (err) => this.problems.note(
      'receive', 'warn', 'heartbeat receiver socket error', { port: this.opts.port, error: errorCode(err) },
    ));
    await Promise.all(this.senders.map((sender) => sender.bind()));
  }

  /** Never throws: a heartbeat that cannot be encoded or sent is logged, and the next one tries again. */
  send(hb: Heartbeat, extras: HeartbeatExtras): void {
    const now = this.opts.now();
    const wire = { ...extras, echoHeldMs: this.rtt.heldFor(hb.echo, now) };
    this.rtt.sent(hb.gen, hb.seq, now);
    for (let i = 0; i < this.senders.length; i++) {
      const { net } = this.opts.networks[i]!;
      let packet: Buffer;
      try {
        packet = encodeHeartbeat(this.opts.ctx, net, hb, wire);
      } catch (err) {
        this.problems.note('encode', 'error', 'cannot encode a heartbeat', { error: errorCode(err) });
        return;
      }
      if (this.senders[i]!.send(packet)) this.counts[net]!.sent++;
    }
  }

  drops(): Record<HeartbeatDropReason, number> {
    return { ...this.dropped };
  }

  traffic(): Record<NetId, NetworkTraffic> {
    return Object.fromEntries(Object.entries(this.counts).map(([net, c]) => [net, { ...c, rttMs: this.rtt.last(net) }]));
  }

  async close(): Promise<void> {
    const receiver = this.receiver;
    this.receiver = null;
    this.onHeartbeat = null;
    await Promise.all([
      ...this.senders.map((sender) => sender.close()),
      receiver ? closeSocket(receiver) : undefined,
    ]);
  }

  private receive(packet: Buffer, source: string): void {
    // Our own broadcasts come back to us, which is no fault.
    if (this.isOwnAddress(source)) return;
    const network = this.opts.networks.find((n) => inSubnet(source, `${n.localAddress}/${n.prefix}`));
    if (!network) return this.drop('malformed', source);
    // The partner sends from its own address on each network, and from nowhere else: a client relaying or
    // replaying a packet sends from its own.
    if (source !== network.partnerAddress) return this.drop('source', source);
    const decoded = decodeHeartbeat(this.opts.ctx, packet, network.net);
    if (!decoded.ok) return this.drop(decoded.reason, source);
    const { hb, extras } = decoded;
    // The partner's address with our name: a partner that takes itself for us (started with the wrong --node).
    if (hb.from === this.self) return this.drop('self', source);
    // Before the replay guard, which would otherwise take the refused packet's sequence number as used.
    const outOfBounds = this.bounds.check(hb);
    if (outOfBounds) return this.drop('jump', source, outOfBounds);
    const freshness = this.guard.check(network.net, hb);
    if (freshness === 'replay') return this.drop('replay', source);
    if (freshness === 'duplicate' || freshness === 'late') return;
    this.bounds.accepted(hb);
    this.opts.partnerMark?.heard({ gen: hb.gen, seq: hb.seq }, this.opts.now());
    this.deliver(network.net, hb, extras);
  }

  private deliver(net: NetId, hb: Heartbeat, extras: WireExtras): void {
    const now = this.opts.now();
    this.counts[net]!.received++;
    this.rtt.heardFromPartner(hb.gen, hb.seq, now);
    if (hb.echo && extras.echoHeldMs !== null) {
      const ms = this.rtt.echoed(net, hb.echo, extras.echoHeldMs, now);
      if (ms !== null) this.opts.onRtt?.(net, ms);
    }
    try {
      this.onHeartbeat?.(net, hb, { addresses: extras.addresses });
    } catch (err) {
      // A packet must not be able to crash the agent; the error is the receiver's, and is logged as such.
      this.problems.note('deliver', 'error', 'the heartbeat handler failed', {
        net, error: err instanceof Error ? err.stack ?? err.message : String(err),
      });
    }
  }

  private drop(reason: HeartbeatDropReason, source: string, detail?: string): void {
    this.dropped[reason]++;
    this.problems.note(`drop:${reason}`, 'warn', `dropped heartbeat packets (${reason})`, { reason, source, ...(detail ? { detail } : {}) });
  }

  private isOwnAddress(address: string): boolean {
    return this.opts.networks.some((n) => n.localAddress === address);
  }
}
