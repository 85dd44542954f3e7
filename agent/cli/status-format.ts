// `hanfs status` for people: the agent's JSON (agent/operate/status.ts) as a few tables, the verdict last.
import type { AgentStatus } from '../operate/status.ts';
import { duration, table } from '../text.ts';

const ago = (ms: number | null) => (ms === null ? 'never' : `${duration(ms)} ago`);
const onOff = (on: boolean) => (on ? 'ON' : 'off');

export function formatStatus(st: AgentStatus): string {
  const out: string[] = [];
  const p = st.partner;
  const leftMs = st.lease.leftMs;
  out.push(table([
    ['node', `${st.node} (generation ${st.generation}, agent up ${duration(st.uptimeMs)})`],
    ['phase', `${st.phase} for ${duration(st.phaseAgeMs)}: ${st.cause}`],
    ['maintenance', `${onOff(st.maintenance)} here, ${onOff(p.maintenance)} on ${p.node}`],
    ['lease', leftMs === null ? 'never renewed'
      : `renewed ${ago(st.lease.renewedAgoMs)}, ${leftMs > 0 ? `${duration(leftMs)} left` : `expired ${duration(-leftMs)} ago`} of ${duration(st.lease.lengthMs)}`],
    ['watchdog', st.lease.watchdogTimeoutMs === 0
      ? 'none (watchdog: none): UNSAFE, a frozen agent keeps serving past its lease'
      : `resets this machine ${duration(st.lease.watchdogTimeoutMs)} after its last pet`],
    ['partner', `${p.node}: ${p.phase ?? 'unknown'}${p.generation === null ? '' : ` (generation ${p.generation})`}, last sign of life ${ago(p.lastEvidenceAgoMs)}`],
    ['detector', `${st.detector.stage} for ${duration(st.detector.stageAgeMs)}`],
  ]));

  const d = st.detector;
  const icmp = d.icmp.probesSent === 0 ? 'no probe sent' : `${d.icmp.probesSent} probes sent, the last ${d.icmp.lastProbeAnswered ? 'answered' : 'unanswered'}`;
  out.push('', table([
    ['channel', 'interface', 'link', 'partner heard', 'last heard', 'round trip', 'sent', 'received'],
    ...Object.entries(d.networks).map(([net, n]) => [
      net, n.interface, n.link, n.heard ? 'yes' : 'NO', ago(n.lastHeardAgoMs), n.rttMs === null ? '-' : `${n.rttMs} ms`,
      String(n.sent), String(n.received),
    ]),
    ['icmp', icmp],
    ['mailbox disk', `${d.disk.consecutiveFailures} failed cycles in a row, last cycle ${ago(d.disk.lastCycleAgoMs)}, `
      + `partner alive on it ${ago(d.disk.partnerAliveAgoMs)}`],
  ]));

  out.push('', table([
    ['node', 'phase', 'maintenance', 'groups', 'addresses', 'disks'],
    ...Object.entries(st.ownership).map(([node, o]) => [
      node === st.node ? `${node} (this node)` : node, o.phase ?? 'unknown', onOff(o.maintenance), list(o.groups), list(o.addresses),
      list(o.disks.map((x) => `${x.device} on ${x.mountPoint}`)),
    ]),
  ]));

  const rows: string[][] = [['group', 'resource', 'state', 'failures', 'last error']];
  for (const [id, g] of Object.entries(st.groups)) {
    if (g.target === 'offline' && g.status === 'offline') {
      rows.push([id, `(not served here: ${g.status})`]);
      continue;
    }
    for (const r of g.resources) {
      rows.push([id, r.name, r.restarting ? `${r.state} (restarting)` : r.state, String(r.failures), r.lastError ?? '-']);
    }
  }
  out.push('', table(rows));

  const f = st.fence;
  const fence = (r: AgentStatus['fence']['ours']) => (r === null ? 'none' : `term ${r.term} ${r.active ? 'active' : 'released'}`);
  const drops = Object.entries(st.heartbeatDrops).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${n}`);
  out.push('', table([
    ['fences', `ours on ${p.node}: ${fence(f.ours)} (on disk: ${fence(f.oursOnDisk)}); ${p.node}'s on us: ${fence(f.partners)}; `
      + `fenced by term ${f.fencedByTerm}, acknowledged ${f.acknowledgedTerm}, highest seen ${f.maxTerm}`],
    ['intent log', intentLine(st.intentLog, p.node)],
    ['dropped heartbeats', drops.length === 0 ? 'none' : drops.join(', ')],
  ]));

  if (st.recentTransitions.length > 0) {
    out.push('', 'recent transitions');
    for (const t of st.recentTransitions) out.push(`  ${t.at}  ${t.from} → ${t.to}: ${t.cause}`);
  }
  out.push('', `health: ${st.health.level}`);
  for (const r of st.health.reasons) out.push(`  - ${r}`);
  return `${out.join('\n')}\n`;
}

function intentLine(log: AgentStatus['intentLog'], partner: string): string {
  const parts = [`record ${log.lastRecord}, on disk up to ${log.onDisk}`];
  if (log.waiting > 0 || log.stepsHeld.length > 0) parts.push(`${log.waiting} waiting to be written, held: ${list(log.stepsHeld)}`);
  if (log.previousRun) parts.push(`the previous run was in ${log.previousRun}`);
  if (log.partnerLast) parts.push(`${partner}'s last record: ${log.partnerLast}`);
  return parts.join('; ');
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(', ');
}
