// The phases of one takeover, read from the survivor's log (transitions and resource steps with their durations),
// as spans from the crash: what the demo prints and what the benchmarks chart.
import { transitionAt, type LogLine } from './agent-log.ts';

export interface Phase {
  key: string;
  label: string;
  /** ms after the crash. */
  startMs: number;
  endMs: number;
}

const STEP_LABELS: Record<string, string> = {
  log_replay: 'log replay (e2fsck journal + check)',
  filesystem: 'mount',
  nfs_server: 'NFS server start (Ganesha)',
  exports: 'exports',
  service_ip: 'service address (ip addr add)',
  arp: 'gratuitous ARP and tickle ACKs (sent in the background)',
  nsm_notify: 'NSM notify',
};

/** Each resource start of the group logged in `lines`, as a span ending when the step's log line was written. */
export function stepPhases(lines: LogLine[], group: string, crashAt: number): Phase[] {
  const seen = new Set<string>();
  return lines.flatMap((l) => {
    if (l.event !== 'resource' || l.group !== group || l.op !== 'start' || l.durationMs === undefined || !l.resource) return [];
    if (seen.has(l.resource)) return [];
    seen.add(l.resource);
    const label = STEP_LABELS[l.resource] ?? l.resource;
    return [{ key: l.resource, label, startMs: l.at - l.durationMs - crashAt, endMs: l.at - crashAt }];
  });
}

/** The hanfs agent's takeover: detection, fencing, then each resource step of the partner's group. */
export function takeoverPhases(lines: LogLine[], group: string, crashAt: number): Phase[] {
  // With a fence device the dead partner is fenced by it (power_fencing); without one its lease is waited out.
  const byDevice = transitionAt(lines, 'probing → power_fencing');
  const dead = byDevice ?? transitionAt(lines, 'probing → fencing_partner');
  const taking = transitionAt(lines, 'fencing_partner → taking_over');
  const span = (key: string, label: string, from: number | null, to: number | null): Phase[] =>
    from === null || to === null ? [] : [{ key, label, startMs: from - crashAt, endMs: to - crashAt }];
  const fencing = byDevice === null ? 'fencing: fence written, partner lease expired' : 'fencing: fence written, fence device confirmed';
  return [
    ...span('detection', 'detection: crash → partner declared dead', crashAt, dead),
    ...span('fencing', fencing, dead, taking),
    ...stepPhases(lines, group, crashAt),
  ];
}

export function phaseMs(phases: Phase[], key: string): number | null {
  const p = phases.find((x) => x.key === key);
  return p ? p.endMs - p.startMs : null;
}
