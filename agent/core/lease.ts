// Lease arithmetic, SBD-style. A node may serve only while its lease is fresh; it is renewed by a mailbox write
// (from the moment the write started) or by the partner echoing one of our heartbeats (from the moment we sent it).
// The partner's last evidence of us is never earlier than either, so a survivor that waits lease + margin after
// its last evidence, and keeps reading our slot unchanged the while, knows we have stopped or been reset.
import { minProbeReads } from './detector.ts';
import type { CoreTiming } from './types.ts';

/** Covers clock-rate differences between the two nodes and the watchdog's granularity. */
export function fenceMargin(t: CoreTiming): number {
  return Math.max(250, Math.ceil(t.selfFenceLeaseMs * 0.05));
}

/** Stopping starts this long before the lease runs out, so that it finishes before the watchdog would fire. */
export function stopLead(t: CoreTiming): number {
  return Math.ceil(t.selfFenceLeaseMs * 0.4);
}

/**
 * Reads of the partner's unchanged slot needed before its lease counts as expired. Counting reads as well as
 * measuring time means a jump of our own clock cannot shorten the wait: reads are spaced by the disk interval.
 */
export function requiredQuietReads(t: CoreTiming): number {
  return Math.ceil((t.selfFenceLeaseMs + fenceMargin(t)) / t.diskIntervalMs) + 1;
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
  const leaseExpired = Math.max(t.selfFenceLeaseMs + fenceMargin(t), requiredQuietReads(t) * interval) +
    interval + t.diskIoTimeoutMs;
  return Math.max(fenceWritten, leaseExpired) + groupStartMs + 2 * slackMs;
}
