// Which authentic heartbeats are news. A valid MAC proves who sent a packet, not when: anyone on the wire can send
// a captured heartbeat again, and the network itself duplicates and reorders.
import type { Heartbeat, NetId, NodeId } from '../core/types.ts';

/**
 * - `fresh`: news on this network; deliver it.
 * - `duplicate`: the sender's newest heartbeat again on a network where it already arrived. Each heartbeat reaches
 *   the partner twice on each network (sent to its address and to the broadcast address), so this is the normal
 *   second copy, and no sign of an attack.
 * - `replay`: from an older generation, or older than the newest heartbeat.
 */
export type Freshness = 'fresh' | 'duplicate' | 'replay';

interface Newest {
  gen: number;
  seq: number;
  /** Where the newest heartbeat arrived: each heartbeat goes out on every network with one seq. */
  nets: Set<NetId>;
}

export class ReplayGuard {
  private readonly newest = new Map<NodeId, Newest>();

  /** Judges an authentic heartbeat arriving on `net`, and remembers it when fresh. */
  check(net: NetId, hb: Pick<Heartbeat, 'from' | 'gen' | 'seq'>): Freshness {
    const last = this.newest.get(hb.from);
    // A higher generation is a restarted sender, whose seq starts again from 1.
    if (!last || hb.gen > last.gen || (hb.gen === last.gen && hb.seq > last.seq)) {
      this.newest.set(hb.from, { gen: hb.gen, seq: hb.seq, nets: new Set([net]) });
      return 'fresh';
    }
    if (hb.gen < last.gen || hb.seq < last.seq) return 'replay';
    if (last.nets.has(net)) return 'duplicate';
    last.nets.add(net);
    return 'fresh';
  }
}
