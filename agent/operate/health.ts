// The verdict of `hanfs status` for scripts and monitoring: healthy (exit 0), degraded (1: everything is served but
// something needs a look — no redundancy, a network or the disk path down, maintenance, a move under way) or failed
// (2: a group is served by nobody, this node fenced itself, or a group failed here). Each reason is one line.
import type { Phase } from '../core/types.ts';
import { seconds } from '../text.ts';
import type { AgentStatus } from './status.ts';

export type HealthLevel = 'healthy' | 'degraded' | 'failed';

export interface Health {
  level: HealthLevel;
  reasons: string[];
}

/** Phases that move groups: a group served by nobody is expected for their few seconds. */
const MOVING: readonly Phase[] = [
  'booting', 'starting', 'power_fencing', 'fencing_partner', 'taking_over', 'releasing', 'handing_over', 'reintegrating',
];

export function healthOf(st: Omit<AgentStatus, 'health'>): Health {
  const failed: string[] = [];
  const degraded: string[] = [];
  const partner = st.partner.node;
  // The partner's word on what it holds counts while it could still be serving: alive within one lease.
  const partnerAlive = st.partner.lastEvidenceAgoMs !== null && st.partner.lastEvidenceAgoMs <= st.lease.lengthMs
    && st.detector.stage !== 'dead';

  if (st.phase === 'self_fenced') failed.push(`this node fenced itself: ${st.cause}`);
  for (const [id, g] of Object.entries(st.groups)) {
    const failedHere = g.resources.find((r) => r.state === 'failed' && r.lastError !== null);
    if (g.target === 'online' && g.status === 'failed') {
      failed.push(`group ${id} failed here${failedHere ? `: ${failedHere.name}: ${failedHere.lastError}` : ''}`);
    }
    const servedHere = g.status === 'online';
    const servedThere = partnerAlive && st.ownership[partner]!.groups.includes(id);
    if (!servedHere && !servedThere) {
      if (MOVING.includes(st.phase)) degraded.push(`group ${id} is served by neither node while this node is ${st.phase}`);
      else failed.push(`group ${id} is served by neither node`);
    } else if (!servedHere && g.target === 'online' && g.status !== 'failed') {
      degraded.push(`group ${id} is ${g.status} here`);
    }
  }

  if (st.maintenance) degraded.push('maintenance is on: this node starts no failover of its own');
  if (st.partner.maintenance && partnerAlive) degraded.push(`${partner} is in maintenance`);
  if (st.phase !== 'normal' && st.phase !== 'self_fenced') degraded.push(`this node is ${st.phase}: ${st.cause}`);
  if (!partnerAlive) {
    degraded.push(st.partner.lastEvidenceAgoMs === null ? `${partner} never heard from` : `${partner} silent for ${seconds(st.partner.lastEvidenceAgoMs)}`);
  } else if (st.partner.phase !== null && st.partner.phase !== 'normal') {
    degraded.push(`${partner} is ${st.partner.phase}`);
  }
  for (const [net, n] of Object.entries(st.detector.networks)) {
    if (n.link === 'down') degraded.push(`our link ${n.interface} on ${net} is down`);
    else if (!n.heard && partnerAlive) degraded.push(`no heartbeats from ${partner} on ${net} (${n.interface})`);
  }
  const disk = st.detector.disk;
  if (disk.consecutiveFailures > 0) degraded.push(`mailbox disk: ${disk.consecutiveFailures} failed cycle(s) in a row`);
  const { leftMs, lengthMs } = st.lease;
  if (leftMs !== null && st.ownership[st.node]!.groups.length > 0 && leftMs < lengthMs / 2) {
    degraded.push(`lease renewals lag: ${seconds(Math.max(0, leftMs))} left of ${seconds(lengthMs)}`);
  }

  const level: HealthLevel = failed.length > 0 ? 'failed' : degraded.length > 0 ? 'degraded' : 'healthy';
  return { level, reasons: [...failed, ...degraded] };
}
