// Lease arithmetic, SBD-style. A node may serve only while its lease is fresh; it is renewed by a mailbox write
// (from the moment the write started) or by the partner echoing one of our heartbeats (from the moment we sent it).
// The partner's last evidence of us is never earlier than either, so a survivor that waits lease + margin after
// its last evidence, and keeps reading our slot unchanged the while, knows we have stopped or been reset.
import { minProbeReads } from './detector.ts';
import type { CoreTiming } from './types.ts';

/**
 * What the partner may overrun its lease by: clock-rate differences between the two nodes, and the watchdog's
 * timeout (the device resets the machine one timeout after the last pet, and the last pet is at the lease's end).
 */
export function fenceMargin(t: CoreTiming): number {
  return Math.max(250, Math.ceil(t.selfFenceLeaseMs * 0.05)) + t.watchdogTimeoutMs;
}

/** Stopping starts this long before the lease runs out, so that it finishes before the watchdog would fire. */
export function stopLead(t: CoreTiming): number {
  return Math.ceil(t.selfFenceLeaseMs * 0.4);
}

/**
 * The most that the gap before one quiet read of the partner's slot adds to the quiet time: one disk interval,
 * the normal spacing of our reads. A forward jump of our own clock falls into one gap, so it adds at most this.
 */
export function quietGapCapMs(t: CoreTiming): number {
  return t.diskIntervalMs;
}

/**
 * Quiet time (reads of the partner's unchanged slot, gap by gap, see PartnerView.quietMs) needed before its lease
 * counts as expired: the lease and the margin, and one cap more for a jump of our own clock.
 */
export function requiredQuietMs(t: CoreTiming): number {
  return t.selfFenceLeaseMs + fenceMargin(t) + quietGapCapMs(t);
}

export function leaseUntil(renewedFrom: number | null, t: CoreTiming): number {
  return renewedFrom === null ? -Infinity : renewedFrom + t.selfFenceLeaseMs;
}

/**
 * The longest a survivor may take from its partner's crash to serving the partner's group: detection (heartbeat
 * silence, ICMP, the disk probe's reads), then the fence written and the partner's lease certainly expired (both
 * measured from the crash, so they overlap), then the group's start. `slackMs` is the adapter's scheduling delay per
 * timer (the simulator's tick), `groupStartMs` the longest start of the partner's group.
 */
export function takeoverBoundMs(t: CoreTiming, slackMs: number, groupStartMs: number): number {
  const interval = t.diskIntervalMs + slackMs;
  const detect = t.heartbeatIntervalMs * t.missesBeforeSuspicion + t.icmpTimeoutMs + 2 * slackMs +
    Math.max(t.diskProbeTimeoutMs, minProbeReads(t) * interval) + t.diskIoTimeoutMs;
  const fenceWritten = detect + interval + t.diskIoTimeoutMs;
  // Quiet time accrues at most one disk interval per read, reads come every interval (+ slack), and one more read
  // must start after the fence is on the disk.
  const leaseExpired = Math.ceil(requiredQuietMs(t) / t.diskIntervalMs) * interval + 2 * interval + t.diskIoTimeoutMs;
  return Math.max(fenceWritten, leaseExpired) + groupStartMs + 2 * slackMs;
}
