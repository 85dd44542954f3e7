// The pairing state machine's phases and every move allowed between them. A move not in this table is a bug in
// the core and throws, so the simulator finds it instead of a server pair acting on it.
import type { Phase } from './types.ts';

/** Phases in which the node may hold resources; in all others it owns nothing once its stops have finished. */
const LOSE_ALL: Phase[] = ['fenced', 'self_fenced'];

export const ALLOWED_TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  // Read the mailbox before anything else: fenced, free to start, or holding a fence on the partner; the intent
  // log may say a takeover, a release or a handover was under way (finish it).
  booting: ['starting', 'fenced', 'fencing_partner', 'taking_over', 'releasing', 'handing_over', 'self_fenced'],
  starting: ['normal', 'handing_over', ...LOSE_ALL],
  normal: ['suspecting', 'probing', 'partner_degraded', 'power_fencing', 'fencing_partner', 'handing_over', ...LOSE_ALL],
  // Heartbeats silent on every network: ICMP echo on each network.
  suspecting: ['normal', 'probing', 'partner_degraded', 'power_fencing', 'fencing_partner', 'handing_over', ...LOSE_ALL],
  // ICMP silent too: a ping through the disk mailbox, with a deadline.
  probing: ['normal', 'partner_degraded', 'power_fencing', 'fencing_partner', 'handing_over', ...LOSE_ALL],
  // The partner's machine or disk answers but its heartbeats do not: no takeover on that evidence.
  partner_degraded: ['normal', 'suspecting', 'probing', 'power_fencing', 'fencing_partner', 'handing_over', ...LOSE_ALL],
  // Fence written to the mailbox, then the fence command (a partner found dead, or degraded for fenceAfterMs);
  // either way on to the wait (confirmed off: no wait).
  power_fencing: ['fencing_partner', ...LOSE_ALL],
  // Fence written; waiting for the partner's acknowledgement or for its lease to have certainly expired.
  fencing_partner: ['taking_over', ...LOSE_ALL],
  taking_over: ['serving_both', ...LOSE_ALL],
  serving_both: ['releasing', ...LOSE_ALL],
  // Reintegration: stopping the partner's group before handing it back.
  releasing: ['normal', ...LOSE_ALL],
  // Giving our own group to the partner (cut off from the networks, a group that keeps failing, operator takeover).
  handing_over: ['fenced', 'self_fenced'],
  fenced: ['reintegrating', 'starting', 'power_fencing', 'fencing_partner', 'self_fenced'],
  reintegrating: ['starting', 'fenced', 'power_fencing', 'fencing_partner', 'self_fenced'],
  self_fenced: ['starting', 'fenced', 'fencing_partner'],
};

export class IllegalTransition extends Error {
  constructor(from: Phase, to: Phase, cause: string) {
    super(`illegal transition ${from} → ${to} (${cause})`);
    this.name = 'IllegalTransition';
  }
}

export function assertTransition(from: Phase, to: Phase, cause: string): void {
  if (!ALLOWED_TRANSITIONS[from].includes(to)) throw new IllegalTransition(from, to, cause);
}
