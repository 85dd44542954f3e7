// ICMP echo to the partner, the detector's second stage: is the partner's machine up although its agent is silent?
// One net-ping session (a raw socket) per network, bound to that network's interface with SO_BINDTODEVICE, so a
// probe on net A leaves through A's interface and only A's replies count: a reply routed over the other network
// must not make a dead link look alive.
import { performance } from 'node:perf_hooks';
import ping from 'net-ping';
import raw from 'raw-socket';
import type { NetId } from '../core/types.ts';
import { rateLimited, type RateLimitedLog } from '../log.ts';
import type { IcmpProber, LogFn } from '../ports.ts';

export interface IcmpNetwork {
  net: NetId;
  iface: string;
  partnerAddress: string;
}

interface Probed extends IcmpNetwork {
  /** Position in the config: tells the networks' sessions apart in their request identifiers. */
  index: number;
  session: ping.Session | null;
}

const ERROR_LOG_INTERVAL_MS = 60_000;

export class NetPingProber implements IcmpProber {
  private readonly networks = new Map<NetId, Probed>();
  private readonly logError: RateLimitedLog;
  private closed = false;

  /** Opens every session now, so that a missing capability or interface stops the agent at its start. */
  constructor(opts: { networks: IcmpNetwork[]; log: LogFn }) {
    this.logError = rateLimited(opts.log, ERROR_LOG_INTERVAL_MS);
    try {
      opts.networks.forEach((network, index) => {
        const probed: Probed = { ...network, index, session: null };
        this.networks.set(network.net, probed);
        probed.session = this.open(probed);
      });
    } catch (err) {
      this.close();
      throw err;
    }
  }

  probe(net: NetId, timeoutMs: number, onReply: () => void): void {
    if (this.closed) return;
    const network = this.networks.get(net);
    if (!network) {
      this.logError(`${net}:unknown`, 'error', `ICMP probe on ${net}: no such network`);
      return;
    }
    const session = this.sessionOf(network);
    if (!session) return;
    const sent = performance.now();
    // net-ping takes the timeout from its session when a request is queued; probes may each ask for their own.
    session.timeout = timeoutMs;
    session.pingHost(network.partnerAddress, (error) => {
      if (this.closed) return;
      if (error) {
        const level = error instanceof ping.RequestTimedOutError ? 'debug' : 'warn';
        const message = `ICMP probe to ${network.partnerAddress} on ${net}: ${error.message}`;
        this.logError(`${net}:${error.message}`, level, message, { net, iface: network.iface });
        return;
      }
      // net-ping's timer starts once the request is sent: count only replies within the time asked for.
      if (performance.now() - sent <= timeoutMs) onReply();
    });
  }

  close(): void {
    this.closed = true;
    for (const network of this.networks.values()) {
      network.session?.close();
      network.session = null;
    }
  }

  /** The network's session, opened again if a socket error closed it (logged, rate-limited, if that fails). */
  private sessionOf(network: Probed): ping.Session | null {
    if (network.session) return network.session;
    try {
      network.session = this.open(network);
      return network.session;
    } catch (err) {
      this.logError(`${network.net}:open`, 'error', (err as Error).message, { net: network.net, iface: network.iface });
      return null;
    }
  }

  private open(network: Probed): ping.Session {
    const session = openBoundSession(network, 1 + ((process.pid + network.index) % 65534));
    // Without an 'error' listener a socket error would be thrown out of the event loop; raw-socket closes the
    // socket after one, so the session is dropped here and opened again at the next probe.
    session.on('error', (err: Error) => {
      this.logError(`${network.net}:socket`, 'warn', `ICMP socket on ${network.net}: ${err.message}`, { net: network.net });
    });
    session.on('close', () => {
      if (network.session === session) network.session = null;
    });
    return session;
  }
}

/**
 * A session whose socket is bound to the network's interface. Each raw socket sees every ICMP packet its interface
 * receives, so `sessionId` (the identifier in our requests) must differ between the sessions of one process.
 */
function openBoundSession(network: IcmpNetwork, sessionId: number): ping.Session {
  let session: ping.Session;
  try {
    session = ping.createSession({ retries: 0, sessionId });
  } catch (err) {
    if ((err as Error).message.includes('Operation not permitted')) {
      throw new Error('ICMP probes need CAP_NET_RAW (run as root or grant the capability)');
    }
    throw err;
  }
  try {
    const device = Buffer.from(`${network.iface}\0`);
    session.getSocket().setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_BINDTODEVICE, device, device.length);
  } catch (err) {
    session.close();
    throw new Error(`ICMP probes on ${network.net}: cannot bind to interface ${network.iface}: ${(err as Error).message}`);
  }
  return session;
}
