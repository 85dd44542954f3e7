// How far an authentic heartbeat's counters may go. A valid MAC proves a packet came from the partner's key, not
// that the partner is sane (a bug, memory corruption, a key that leaked): a fence of term 2³²−1 would leave our
// next fence a term the wire cannot carry, and the pair stuck. So no counter may come near the top of its 32 bits,
// and a fence term may only run a bounded number of steps ahead of the highest we have seen from the partner.
import type { Heartbeat } from '../core/types.ts';

/** No real pair counts this far: 2³¹ fences, handovers or agent starts. */
export const COUNTER_CEILING = 2 ** 31;
/**
 * Terms a partner may have moved on while we did not hear it. Each fence raises the term by one, a takeover apart,
 * so a real partner never comes near this; it is generous on purpose, since refusing a real partner's heartbeats
 * makes it look hung (and, with a fence command, powered off).
 */
export const MAX_TERM_STEP = 1000;

/** The counters of a heartbeat that grow with events, generations with the wall clock (seq and echo are not among them). */
function counters(hb: Heartbeat): number[] {
  const s = hb.status;
  const o = hb.outbox;
  return [
    hb.gen, s.gen, s.pong, s.ackFenceTerm, s.handledReintegrate, s.handledHandover, s.handledTakeover,
    o.fence?.term ?? 0, o.ping, o.reintegrateRequest, o.handover, o.takeoverRequest,
  ];
}

function termOf(hb: Heartbeat): number {
  return Math.max(hb.outbox.fence?.term ?? 0, hb.status.ackFenceTerm);
}

export class CounterBounds {
  /** The highest fence term an accepted heartbeat has carried, since this agent started. */
  private highestTerm: number | null = null;

  /** Null when the heartbeat is within bounds, else why not. */
  check(hb: Heartbeat): string | null {
    if (counters(hb).some((c) => c >= COUNTER_CEILING)) return `a counter at or past 2^31`;
    const term = termOf(hb);
    if (this.highestTerm !== null && term > this.highestTerm + MAX_TERM_STEP) {
      return `fence term ${term} jumps past ${this.highestTerm} + ${MAX_TERM_STEP}`;
    }
    return null;
  }

  /** A heartbeat within bounds was accepted: the next may run a few terms past it. */
  accepted(hb: Heartbeat): void {
    this.highestTerm = Math.max(this.highestTerm ?? 0, termOf(hb));
  }
}
