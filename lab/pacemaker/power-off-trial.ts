// Issue 17's cluster scenario, one trial, for the lab test and the fault matrix alike: in a cluster lab that is up
// (clusterUp), the machine running vs1 is powered off while client1's libnfs writer and, if given, a kernel client
// guest work on its export and the ownership of its address and disk is sampled on all three machines. Pacemaker
// must fence that machine (fence_hanfslab) and only then start vs1 on another, where the clients go on. Judged as
// the pair's scenarios are (lab/scenarios/harness.ts): problems, takeovers, double ownership, writes lost, the
// kernel client's trial; and measured from the power-off: the new membership, the fence, the start, the first read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportUrl, getFile, putFile, Writer } from '../client.ts';
import { srvDir } from '../config.ts';
import { sh } from '../exec.ts';
import { LOCK_LOOPS } from '../guest/locks.ts';
import { parseOps, streamOf } from '../guest/results.ts';
import { KERNEL_LOOPS, kernelProblems, type KernelClient, type KernelClientTrial } from '../kernel-client.ts';
import { onMachine } from '../mountns.ts';
import { sampleOwnership } from '../sampler.ts';
import type { ScenarioResult } from '../scenarios/harness.ts';
import { labPath } from '../state.ts';
import { waitUntil } from '../wait.ts';
import { CLUSTER_NODES, type ClusterNode, crmMon, powerOffMachineArgv, waitCrmMon } from './cluster.ts';

export const CLUSTER_SCENARIO = {
  name: 'pacemaker-power-off',
  what: 'a three-node corosync + pacemaker cluster (lab/pacemaker/) runs vs1 (ocf:hanfs:vserver); its machine is powered ' +
    'off: Pacemaker fences it (fence_hanfslab) and only then starts vs1 on another node. A fresh cluster for each trial.',
  takeovers: 1,
} as const;

const SRV1 = exportUrl('198.51.100.11', '/srv1');
const MOVE_TIMEOUT_MS = 90_000;

/** crm_mon's line of vs1 started on another node than `home`. */
const startedElsewhere = (home: ClusterNode) => new RegExp(`vs1\\s+\\(ocf:hanfs:vserver\\):\\s+Started (?!${home}\\b)n\\d`);

/** Lines of the machines' pacemaker logs that match `pattern`, each prefixed with its machine. */
function pacemakerLines(prefix: string, nodes: ClusterNode[], pattern: RegExp): string[] {
  return nodes.flatMap((n) => readFileSync(labPath(prefix, `${n}-pacemaker.log`), 'utf8').split('\n')
    .filter((l) => pattern.test(l)).map((l) => `${n}: ${l.trim()}`));
}

/**
 * Every loop of the kernel client's workload but the locks has succeeded since `from`. The locks are judged, not
 * waited for: a lock the client could not reclaim within the new server's grace stays lost.
 */
function kernelLoopsWorking(kernel: KernelClient, from: number): Promise<void> {
  const loops = KERNEL_LOOPS.filter((l) => !LOCK_LOOPS.includes(l));
  const ok = () => new Set(parseOps(kernel.lines().slice(from)).filter((o) => o.ok).map((o) => streamOf(o.op)));
  return waitUntil(async () => loops.every((l) => ok().has(l)), MOVE_TIMEOUT_MS, `kernel client's loops ${loops.join(', ')} working again`,
    () => [...ok()].join(', '), 100);
}

export async function powerOffTrial(prefix: string, home: ClusterNode, kernel: KernelClient | null): Promise<ScenarioResult> {
  const problems: string[] = [];
  const measures: Record<string, number> = {};
  const notes: string[] = [];
  const others = CLUSTER_NODES.filter((n) => n !== home);
  const watcher = others[0]!;
  const since = Date.now();
  const sampler = sampleOwnership(prefix, 10, CLUSTER_NODES);
  const writer = new Writer(prefix, SRV1, 100, `pm-${since.toString(36)}-`);
  let moved = false;
  let kernelClient: KernelClientTrial | null = null;
  try {
    await putFile(prefix, SRV1, 'before-move.txt', 'written while vs1 ran on its first node\n');
    await writer.okAfter(since, 20_000);
    if (kernel) await kernel.begin();
    const before = await crmMon(prefix, watcher);
    const dc = /Current DC: (n\d)/.exec(before)?.[1];
    const fenceDeviceOn = /fence-lab\s+\(stonith:fence_hanfslab\):\s+(\S+ n\d)/.exec(before)?.[1];
    if (kernel) {
      // Under Pacemaker the OCF monitor records the group's NFS clients (every 10 s here) for the next node's tickle
      // ACKs: the kernel client's connection must be on record before its server goes.
      const guestIp = kernel.guest.address.split('/')[0]!;
      const recorded = () => sh(onMachine(prefix, home, ['cat', join(srvDir(prefix, 'server1'), '.hanfs', 'nfs-clients')])).catch(() => '');
      await waitUntil(async () => (await recorded()).split('\n').some((l) => l.startsWith(`${guestIp} `)), 15_000,
        `the kernel client ${guestIp} in the group's NFS client record`, () => '', 500)
        .catch((err: Error) => problems.push(err.message.split('\n')[0]!));
    }
    const offMark = kernel?.mark() ?? 0;
    const off = Number((await sh(powerOffMachineArgv(prefix, home))).split('\n')[0]);
    const [movedAt, read] = await Promise.all([
      waitCrmMon(prefix, watcher, startedElsewhere(home), MOVE_TIMEOUT_MS).then(() => Date.now()),
      getFile(prefix, SRV1, 'before-move.txt', MOVE_TIMEOUT_MS).then((content) => ({ content, at: Date.now() })),
    ]);
    moved = true;
    if (read.content !== 'written while vs1 ran on its first node\n') problems.push(`before-move.txt read back as ${JSON.stringify(read.content)}`);
    // The guest's results reach the host late (a serial port, a loaded machine): its loops are asked to work after the
    // move was seen, and its interruption is measured in its own clock, as the longest stall since the power-off.
    if (kernel) await kernelLoopsWorking(kernel, kernel.mark());
    const stall = kernel?.phase(offMark);

    const sinceOff = (timeOfDay?: string) => (timeOfDay ? Date.parse(`${new Date(off).toISOString().slice(0, 11)}${timeOfDay}Z`) - off : NaN);
    const fenceLog = readFileSync(labPath(prefix, 'fence.log'), 'utf8');
    const fenceFrom = Number(new RegExp(`^(\\d+) fence_hanfslab: (?:off|reboot) ${home}$`, 'm').exec(fenceLog)?.[1]);
    const fencedAt = Number(new RegExp(`^(\\d+) fence_hanfslab: ${home} is off`, 'm').exec(fenceLog)?.[1]);
    if (!fenceFrom || !fencedAt) problems.push(`fence.log shows no fence of ${home}: ${fenceLog.trim().split('\n').slice(-3).join(' | ')}`);
    // The start as the node that ran it logged it (pacemaker-execd: "executing - rsc:vs1 action:start", then its time).
    const startLines = pacemakerLines(prefix, others, /rsc:vs1 action:start|vs1 start \(call/);
    const fencing = pacemakerLines(prefix, others, new RegExp(`pacemaker-(fenced|controld).*(notice|warning|error).*(fenc|${home})`, 'i'));
    notes.push(`fencing ${home}, as logged:\n${fencing.slice(-25).join('\n')}`);
    if (fenceFrom - off > 20_000) {
      // Slow: what the controllers said between the power-off and the fence request.
      const window = (l: string) => { const t = /(\d\d:\d\d:\d\d\.\d{3})/.exec(l)?.[1]; return t !== undefined && sinceOff(t) > 0 && sinceOff(t) < fenceFrom - off; };
      const said = pacemakerLines(prefix, others, /pacemaker-(controld|schedulerd).*(notice|warning|error)/).filter(window);
      notes.push(`slow fencing: the controllers meanwhile:\n${said.slice(0, 60).join('\n')}`);
    }
    notes.push(`the start of vs1, as logged:\n${startLines.slice(-4).join('\n')}`);
    // Never started elsewhere before its first node was off (the logs' clock is the host's, UTC, to the millisecond).
    const startedFrom = /(\d\d:\d\d:\d\d\.\d{3}) .*executing - rsc:vs1 action:start/.exec(startLines.join('\n'))?.[1];
    if (!startedFrom || !fencedAt || startedFrom < new Date(fencedAt).toISOString().slice(11, 23)) {
      problems.push(`vs1 started at ${startedFrom ?? '(not logged)'}, ${home} fenced at ${fencedAt ? new Date(fencedAt).toISOString() : '(never)'}`);
    }
    // When corosync on the watcher formed the membership without the lost node (the logs' time of day, UTC).
    const membership = [...readFileSync(labPath(prefix, `${watcher}-corosync.log`), 'utf8').matchAll(/(\d\d:\d\d:\d\d\.\d{3}) .*A new membership/g)].at(-1)?.[1];
    const mon = await crmMon(prefix, watcher);
    if (!new RegExp(`OFFLINE: \\[ ${home} \\]`).test(mon)) problems.push(`crm_mon does not show ${home} offline`);
    if (!startedElsewhere(home).test(mon)) problems.push('crm_mon does not show vs1 started on another node');
    const history = await sh(onMachine(prefix, watcher, ['stonith_admin', '--history', home]));
    notes.push(`crm_mon -1 after the move:\n${mon}\nstonith_admin --history ${home}: ${history.trim()}`);
    const figures: Record<string, number> = {
      'power-off → new membership': sinceOff(membership), 'power-off → fence agent run': fenceFrom - off, 'power-off → fenced': fencedAt - off,
      "power-off → vs1's start begun": sinceOff(startedFrom), 'power-off → vs1 started elsewhere (crm_mon)': movedAt - off,
      "power-off → libnfs client's first read": read.at - off,
    };
    for (const [name, value] of Object.entries(figures)) if (Number.isFinite(value)) measures[name] = Math.round(value);
    notes.push(`${home} powered off (the DC was ${dc}, the fence device on ${fenceDeviceOn}) → ${Object.entries(figures).map(([k, v]) => `${k.replace('power-off → ', '')} ${v} ms`).join(', ')}` +
      `${stall ? `, kernel client's longest stall ${stall.longestStallMs} ms (${stall.longestStallStream})` : ''}`);

    await putFile(prefix, SRV1, 'after-move.txt', 'written after the move\n');
    if ((await getFile(prefix, SRV1, 'after-move.txt')) !== 'written after the move\n') problems.push('after-move.txt not read back');
    await writer.okAfter(Date.now(), 20_000);
    if (kernel) {
      kernelClient = await kernel.end();
      problems.push(...kernelProblems(kernelClient));
      if (!kernelClient.locksKept) notes.push(`kernel client's locks (reported, not failed): ${kernelClient.locks}`);
    }
  } catch (err) {
    problems.push((err as Error).message.split('\n')[0]!);
  } finally {
    await writer.stop();
  }
  const ownership = await sampler.stop();
  const lostWrites = await writer.lost();
  if (ownership.doubles.length > 0) problems.push(`two owners at ${ownership.doubles.length} samples: ${ownership.doubles[0]}`);
  if (lostWrites.length > 0) problems.push(`${lostWrites.length} acknowledged writes lost: ${lostWrites.slice(0, 5).join(', ')}`);
  return {
    name: CLUSTER_SCENARIO.name, ok: problems.length === 0, problems, takeoversExpected: CLUSTER_SCENARIO.takeovers,
    takeoversSeen: moved ? 1 : 0, longestDoubleMs: ownership.longestDoubleMs, doubleSamples: ownership.doubles.slice(0, 20),
    ackedWrites: writer.acked.size, lostWrites, outageMs: writer.longestGapMs(), measures, notes, durationMs: Date.now() - since, kernelClient,
  };
}
