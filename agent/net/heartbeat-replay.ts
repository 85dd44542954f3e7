// Which authentic heartbeats are news. A valid MAC proves who sent a packet, not when: anyone on the wire can send
// a captured heartbeat again, and the network itself duplicates and reorders.
import type { Heartbeat, NetId, NodeId } from '../core/types.ts';

/**
 * - `fresh`: news on this network; deliver it.
 * - `duplicate`: the sender's newest heartbeat again on a network where it already arrived. Each heartbeat reaches
 *   the partner twice on each network (sent to its address and to the broadcast address), so this is the normal
 *   second copy, and no sign of an attack.
 * - `late`: older than the newest, but the first copy on this network: the network was slower than the other one
 *   (or was down). Stale, so not delivered, but no sign of an attack either.
 * - `replay`: from an older generation, or no newer than what this network already brought.
 */
export type Freshness = 'fresh' | 'duplicate' | 'late' | 'replay';

export interface Mark {
  gen: number;
  seq: number;
}

interface Newest extends Mark {
  /** Where the newest heartbeat arrived: each heartbeat goes out on every network with one seq. */
  nets: Set<NetId>;
  /** The newest heartbeat that arrived on each network. */
  perNet: Map<NetId, Mark>;
}

const newer = (a: Mark, b: Mark | undefined) => !b || a.gen > b.gen || (a.gen === b.gen && a.seq > b.seq);

export class ReplayGuard {
  private readonly newest = new Map<NodeId, Newest>();

  /**
   * Starts from a mark kept by a previous run: nothing of `from`'s up to it is news on any network, so packets
   * captured before a restart are replays after it too.
   */
  seed(from: NodeId, mark: Mark, nets: readonly NetId[]): void {
    this.newest.set(from, { ...mark, nets: new Set(nets), perNet: new Map(nets.map((n) => [n, mark])) });
  }

  /** Judges an authentic heartbeat arriving on `net`, and remembers it when fresh. */
  check(net: NetId, hb: Pick<Heartbeat, 'from' | 'gen' | 'seq'>): Freshness {
    const mark = { gen: hb.gen, seq: hb.seq };
    const last = this.newest.get(hb.from);
    // A higher generation is a restarted sender, whose seq starts again from 1.
    if (!last || newer(mark, last)) {
      this.newest.set(hb.from, { ...mark, nets: new Set([net]), perNet: new Map([...(last?.perNet ?? []), [net, mark]]) });
      return 'fresh';
    }
    if (hb.gen === last.gen && hb.seq === last.seq) {
      if (last.nets.has(net)) return 'duplicate';
      last.nets.add(net);
      last.perNet.set(net, mark);
      return 'fresh';
    }
    if (hb.gen < last.gen || !newer(mark, last.perNet.get(net))) return 'replay';
    last.perNet.set(net, mark);
    return 'late';
  }
}
