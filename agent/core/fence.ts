// Fence terms. Each fence carries a term one above every term either node has seen, like a Raft term: a newer
// fence beats an older one, so a fenced node whose survivor dies can fence it in turn and take everything over,
// and of two simultaneous fences of the same term the node listed first in the config wins.
import type { FenceRecord, Outbox } from './types.ts';

export function emptyOutbox(): Outbox {
  return { fence: null, ping: 0, reintegrateRequest: 0, handover: 0, takeoverRequest: 0 };
}

/**
 * Does the partner's fence `theirs` take precedence over ours? A fence of ours with a higher term beats theirs even
 * once we have released it: it superseded theirs, and its release must not bring the older one back to life.
 */
export function fenceBeats(theirs: FenceRecord, ours: FenceRecord | null, selfWinsTies: boolean): boolean {
  if (!ours) return true;
  if (theirs.term !== ours.term) return theirs.term > ours.term;
  return !ours.active || !selfWinsTies;
}

/** Our active fence was superseded: the partner has since placed one of a higher term (and maybe released it). */
export function fenceSuperseded(ours: FenceRecord | null, theirs: FenceRecord | null): boolean {
  return !!ours?.active && !!theirs && theirs.term > ours.term;
}

/** Of two copies of one fence, the release is the later one; of two fences, the higher term. */
function newerFence(a: FenceRecord | null, b: FenceRecord | null): FenceRecord | null {
  if (!a) return b;
  if (!b) return a;
  if (a.term !== b.term) return a.term > b.term ? a : b;
  return a.active ? b : a;
}

/**
 * Merges what the partner said through two channels (heartbeats and the disk) that may lag each other: every
 * counter only grows and a fence only moves forward, so the merge is the newest of each field.
 */
export function mergeOutbox(prev: Outbox, next: Outbox): Outbox {
  return {
    fence: newerFence(prev.fence, next.fence),
    ping: Math.max(prev.ping, next.ping),
    reintegrateRequest: Math.max(prev.reintegrateRequest, next.reintegrateRequest),
    handover: Math.max(prev.handover, next.handover),
    takeoverRequest: Math.max(prev.takeoverRequest, next.takeoverRequest),
  };
}
