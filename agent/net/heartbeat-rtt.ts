// Round-trip time of the heartbeats, per network, for operators (status and metrics); the protocol never reads it.
// Every heartbeat echoes the newest one its sender heard from us. The echo comes back after the partner held ours
// until its own next send, up to a whole interval, so each heartbeat also says how long it held the one it echoes,
// and the round trip is (arrival of the echo − our send) − that hold. Our heartbeat went out on every network and
// the partner echoes the first copy it got; the echo's network is the one the sample is filed under.
import type { NetId } from '../core/types.ts';

/** Heartbeats remembered by their send time: far more than are ever in flight at once. */
const RING = 64;

export interface EchoRef {
  gen: number;
  seq: number;
}

export class RttMeter {
  private gen = -1;
  private readonly sentSeq = new Float64Array(RING).fill(-1);
  private readonly sentAt = new Float64Array(RING);
  private heard: { gen: number; seq: number; at: number } | null = null;
  private readonly lastMs = new Map<NetId, number>();

  /** We sent our heartbeat (gen, seq) at `at`. */
  sent(gen: number, seq: number, at: number): void {
    this.gen = gen;
    this.sentSeq[seq % RING] = seq;
    this.sentAt[seq % RING] = at;
  }

  /** A fresh heartbeat of the partner arrived at `at`: the newest is the one the core will echo. */
  heardFromPartner(gen: number, seq: number, at: number): void {
    const h = this.heard;
    if (!h || gen > h.gen || (gen === h.gen && seq > h.seq)) this.heard = { gen, seq, at };
  }

  /** How long we have held the partner's heartbeat that we echo now; null unless it is the newest we heard. */
  heldFor(echo: EchoRef | null, now: number): number | null {
    const h = this.heard;
    if (!echo || !h || echo.gen !== h.gen || echo.seq !== h.seq) return null;
    return Math.max(0, now - h.at);
  }

  /** The partner's echo of one of our heartbeats arrived on `net` at `at`: the round trip in ms, or null if unknown. */
  echoed(net: NetId, echo: EchoRef, heldMs: number, at: number): number | null {
    if (echo.gen !== this.gen || this.sentSeq[echo.seq % RING] !== echo.seq) return null;
    const rtt = at - this.sentAt[echo.seq % RING]! - heldMs;
    // Below zero only if the two clocks' rates differ wildly over one interval: no sample rather than a wrong one.
    if (rtt < 0) return null;
    this.lastMs.set(net, rtt);
    return rtt;
  }

  /** The last round trip measured on `net`. */
  last(net: NetId): number | null {
    return this.lastMs.get(net) ?? null;
  }
}
