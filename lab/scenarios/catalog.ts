// The failure scenarios of the pair, each run for real in the lab by the end-to-end tests and, repeatedly, by the
// fault matrix (`npm run faults`). Each injects one fault, waits for the pair to do the right thing, and brings it
// back to both servers serving their own group; the harness counts what happened meanwhile.
import { existsSync, readFileSync } from 'node:fs';
import { RESOURCE_ORDER } from '../../agent/core/types.ts';
import { askControl } from '../../agent/process/control-socket.ts';
import { agentLog } from '../agent-log.ts';
import { agentStatus, phaseOf, powerOff, powerOn } from '../agents.ts';
import { SERVERS } from '../config.ts';
import { floodHeartbeats } from '../flood.ts';
import { forge } from '../forgery.ts';
import { setMailboxReadOnly } from '../disks.ts';
import { saturateCpus } from '../load.ts';
import { dropHeartbeatsToServer1, partitionServers } from '../partition.ts';
import { labPath, readState } from '../state.ts';
import { setPort } from '../topology.ts';
import { waitUntil } from '../wait.ts';
import { watchdogLog } from '../watchdog-board.ts';
import { startWatcher, watcherStatus } from '../watcher.ts';
import {
  bothNormal, killAgent, killAgentAfter, loggedTransitions, reintegrate, restartAgent, signalNode, waitPhase,
  type Scenario, type ScenarioContext,
} from './harness.ts';

const DETECTION_MS = 100 * 5; // the lab's heartbeat interval × misses
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function transitionsSince(ctx: ScenarioContext): string[] {
  return loggedTransitions(ctx.prefix, ctx.since);
}

/** Nothing may have been fenced, taken over or handed over. */
function assertQuiet(ctx: ScenarioContext): void {
  const moves = transitionsSince(ctx).filter((t) => /fencing|taking_over|handing_over|self_fenced|→ fenced/.test(t));
  if (moves.length > 0) throw new Error(`the pair moved: ${moves.join('; ')}`);
}

/** server1 crashed and taken over; then back, fenced, and reintegrated by the operator. */
async function crashAndTakeover(ctx: ScenarioContext): Promise<void> {
  const crashedAt = await powerOff(ctx.prefix, 'server1');
  await waitPhase(ctx.prefix, 'server2', 'serving_both');
  ctx.measure('crash → server2 serving both', Date.now() - crashedAt);
  ctx.measure('crash → first client write + read', (await ctx.writer.okAfter(crashedAt, 30_000)) - crashedAt);
}

async function comeBackAndReintegrate(ctx: ScenarioContext, server: 'server1' | 'server2' = 'server1'): Promise<void> {
  await powerOn(ctx.prefix, server);
  const askedAt = Date.now();
  await reintegrate(ctx.prefix, server);
  ctx.measure('reintegrate → both normal', Date.now() - askedAt);
}

export const serverCrash: Scenario = {
  name: 'server-crash',
  what: 'server1 crashes (every process killed, links cut): server2 takes over; server1 comes back fenced and is reintegrated',
  takeovers: 1,
  reintegrate: 'manual',
  async run(ctx) {
    await crashAndTakeover(ctx);
    await comeBackAndReintegrate(ctx);
  },
};

export const nfsv3ServerCrash: Scenario = {
  name: 'nfsv3-server-crash',
  what: "server-crash with NFSv3: server1's group serves NFSv3 and NLM too, and the kernel client mounts it with vers=3, " +
    'its locks held through NLM and reclaimed after each new owner\'s NSM notification',
  takeovers: 1,
  reintegrate: 'manual',
  nfsv3: true,
  run: serverCrash.run,
};

export const agentCrash: Scenario = {
  name: 'agent-crash',
  what: "server1's agent alone is killed and restarted 1 s later (as systemd would), its watchdog slower than that: " +
    'no takeover; it adopts what runs',
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    killAgent(ctx.prefix, 'server1');
    await sleep(1000);
    await restartAgent(ctx.prefix, 'server1');
    await waitPhase(ctx.prefix, 'server1', 'normal');
    assertQuiet(ctx);
  },
};

export const agentFreeze: Scenario = {
  name: 'agent-freeze',
  what: "server1's agent alone frozen (SIGSTOP) for 3 × the detection time: its machine answers ICMP, no takeover",
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    const pid = readState(ctx.prefix)!.agents.server1!;
    process.kill(pid, 'SIGSTOP');
    await sleep(3 * DETECTION_MS);
    process.kill(pid, 'SIGCONT');
    await sleep(2000);
    if (!transitionsSince(ctx).some((t) => t.includes('→ partner_degraded'))) throw new Error('server2 never saw its partner degraded');
    assertQuiet(ctx);
  },
};

export const agentHung: Scenario = {
  name: 'agent-hung',
  what: "server1's agent hangs for good while its machine answers: server2 powers it off with the fence command and takes over",
  takeovers: 1,
  reintegrate: 'manual',
  settleMs: 60_000,
  async run(ctx) {
    const hungAt = Date.now();
    process.kill(readState(ctx.prefix)!.agents.server1!, 'SIGSTOP');
    await waitPhase(ctx.prefix, 'server2', 'serving_both', 30_000);
    ctx.measure('hang → server2 serving both', Date.now() - hungAt);
    const seen = transitionsSince(ctx).map((t) => t.split(':')[0]);
    for (const step of ['server2 partner_degraded → power_fencing', 'server2 power_fencing → fencing_partner']) {
      if (!seen.includes(step)) throw new Error(`no "${step}" in ${seen.join('; ')}`);
    }
    // The fence command powered the machine off: it is switched on again and boots, fenced.
    await powerOn(ctx.prefix, 'server1');
    await reintegrate(ctx.prefix, 'server1');
  },
};

/** When the lab's watchdog board powered `server` off since `since`, if it did. */
function watchdogFiredAt(prefix: string, server: string, since: number): number | null {
  const file = watchdogLog(prefix);
  const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  const at = lines.map((l) => l.split(' ')).filter(([t, s]) => s === server && Number(t) >= since).map(([t]) => Number(t));
  return at[0] ?? null;
}

/** The watchdog must have powered `server` off since `since`; returns how long after. */
function watchdogFired(ctx: ScenarioContext, server: string, since: number): number {
  const at = watchdogFiredAt(ctx.prefix, server, since);
  if (at === null) throw new Error(`${server}'s watchdog never powered it off`);
  return at - since;
}

const NODE_FREEZE_MS = 8000;

export const nodeFreeze: Scenario = {
  name: 'node-freeze',
  what: `server1 frozen whole (every process stopped, links cut) for ${NODE_FREEZE_MS / 1000} s: its watchdog powers it ` +
    'off one timeout into the freeze and server2 takes over during it; woken, it boots fenced and is given its group back',
  takeovers: 1,
  reintegrate: 'manual',
  settleMs: 60_000,
  watchdog: true,
  async run(ctx) {
    const frozenAt = Date.now();
    await setPort(ctx.prefix, 'server1', 'neta', false);
    await setPort(ctx.prefix, 'server1', 'netb', false);
    await signalNode(ctx.prefix, 'server1', 'SIGSTOP');
    await waitUntil(async () => transitionsSince(ctx).some((t) => t.includes('fencing_partner → taking_over')), NODE_FREEZE_MS,
      "server2's takeover during the freeze");
    ctx.measure('freeze → server2 begins the takeover', Date.now() - frozenAt);
    ctx.measure('freeze → watchdog powers server1 off', watchdogFired(ctx, 'server1', frozenAt));
    await sleep(frozenAt + NODE_FREEZE_MS - Date.now());
    // The wake: whatever was left of server1 resumes (nothing: the watchdog powered it off), and the machine the
    // watchdog reset boots, its links up again.
    const wokenAt = Date.now();
    await signalNode(ctx.prefix, 'server1', 'SIGCONT');
    await powerOn(ctx.prefix, 'server1');
    await waitPhase(ctx.prefix, 'server1', 'fenced');
    ctx.measure('wake → server1 booted fenced, holding nothing', Date.now() - wokenAt);
    await waitPhase(ctx.prefix, 'server2', 'serving_both', 60_000);
    await reintegrate(ctx.prefix, 'server1');
  },
};

export const agentKilled: Scenario = {
  name: 'agent-killed',
  what: "server1's agent killed while its machine runs on (its NFS server, mounts and address left running): its " +
    'watchdog powers the machine off one timeout later, and server2 takes over',
  takeovers: 1,
  reintegrate: 'manual',
  settleMs: 60_000,
  watchdog: true,
  async run(ctx) {
    const killedAt = Date.now();
    killAgent(ctx.prefix, 'server1');
    await waitPhase(ctx.prefix, 'server2', 'serving_both', 30_000);
    ctx.measure('kill → watchdog powers server1 off', watchdogFired(ctx, 'server1', killedAt));
    ctx.measure('kill → server2 serving both', Date.now() - killedAt);
    await powerOn(ctx.prefix, 'server1');
    await reintegrate(ctx.prefix, 'server1');
  },
};

/**
 * Drops the servers' traffic to each other on `nets` (clients still reach both) until `noticed` holds, then 4 s
 * more, then heals it: nothing may have been fenced or moved meanwhile.
 */
async function cutBetweenServers(ctx: ScenarioContext, nets: Array<'neta' | 'netb'>, noticed: () => boolean, what: string): Promise<void> {
  await partitionServers(ctx.prefix, true, nets);
  try {
    await waitUntil(async () => noticed(), 10_000, what);
    await sleep(4000);
  } finally {
    await partitionServers(ctx.prefix, false);
  }
  assertQuiet(ctx);
}

export const primaryNetworkCut: Scenario = {
  name: 'net-a-cut',
  what: 'net A cut between the servers only (clients still reach both): they see each other on net B, no takeover',
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    await cutBetweenServers(ctx, ['neta'], () => agentLog(ctx.prefix, 'server2', ctx.since).some((l) => l.message.includes('network failure')),
      'server2 reports the network failure');
  },
};

export const primaryLinkDown: Scenario = {
  name: 'primary-link-down',
  what: "server1's link to net A (its primary network) down for 10 s: no takeover; client1's watcher routes server1's " +
    'address through its net-B address, and back once the link is up',
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    await ensureWatcher(ctx.prefix);
    const cutAt = Date.now();
    await setPort(ctx.prefix, 'server1', 'neta', false);
    try {
      await waitUntil(async () => (await watcherStatus(ctx.prefix))?.addresses.some((a) => a.route !== null) ?? false, 10_000,
        "client1's watcher routes around net A");
      ctx.measure('link down → watcher reroutes', Date.now() - cutAt);
      ctx.measure('link down → first client write + read', (await ctx.writer.okAfter(cutAt, 20_000)) - cutAt);
      await sleep(Math.max(0, 10_000 - (Date.now() - cutAt)));
    } finally {
      await setPort(ctx.prefix, 'server1', 'neta', true);
    }
    const upAt = Date.now();
    await waitUntil(async () => (await watcherStatus(ctx.prefix))?.addresses.every((a) => a.route === null) ?? false, 20_000,
      'the route removed once net A is back');
    ctx.measure('link up → route removed', Date.now() - upAt);
    assertQuiet(ctx);
  },
};

/** client1's watcher, started once per lab (the scenarios that need it). */
async function ensureWatcher(prefix: string): Promise<void> {
  if ((await watcherStatus(prefix)) === null) startWatcher(prefix);
  await waitUntil(async () => (await watcherStatus(prefix))?.servers.every((sv) => Object.values(sv.nets).every((n) => n.heard)) ?? false,
    20_000, "client1's watcher hears both servers on both networks");
}

export const serversPartitioned: Scenario = {
  name: 'servers-partitioned',
  what: 'all traffic between the servers dropped on both networks, clients reach both, disk fine: no takeover',
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    await cutBetweenServers(ctx, ['neta', 'netb'], () => transitionsSince(ctx).some((t) => t.includes('partner alive on the disk only')),
      'the partner seen alive on the disk only');
  },
};

export const nodeIsolated: Scenario = {
  name: 'node-isolated',
  what: 'server1 cut off from both networks (its ports down on both bridges): it hands its group over through the disk',
  takeovers: 1,
  reintegrate: 'manual',
  async run(ctx) {
    const cutAt = Date.now();
    await setPort(ctx.prefix, 'server1', 'neta', false);
    await setPort(ctx.prefix, 'server1', 'netb', false);
    await waitPhase(ctx.prefix, 'server2', 'serving_both');
    ctx.measure('cut → server2 serving both', Date.now() - cutAt);
    await waitPhase(ctx.prefix, 'server1', 'fenced');
    await setPort(ctx.prefix, 'server1', 'neta', true);
    await setPort(ctx.prefix, 'server1', 'netb', true);
    await reintegrate(ctx.prefix, 'server1');
  },
};

export const mailboxLost: Scenario = {
  name: 'mailbox-lost',
  what: "server1 loses the mailbox disk (its path to it turns read-only) for 10 s: its lease lives on the partner's echo, no takeover",
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    await setMailboxReadOnly(ctx.prefix, 'server1', true);
    try {
      await waitUntil(async () => agentLog(ctx.prefix, 'server1', ctx.since).some((l) => l.message.startsWith('mailbox disk:')),
        10_000, 'server1 reports the mailbox failure');
      await sleep(10_000);
    } finally {
      await setMailboxReadOnly(ctx.prefix, 'server1', false);
    }
    assertQuiet(ctx);
  },
};

/**
 * The takeover's steps: the fence (the lab has a fence device: a restart right after the fence was decided has lost
 * the device's answer, and waits out the lease), then each resource of server1's group.
 */
const TAKEOVER_KILL_POINTS = ['probing → power_fencing', ...RESOURCE_ORDER.map((k) => `start server1/${k}: done`)];
const RELEASE_KILL_POINTS = [...RESOURCE_ORDER].reverse().map((k) => `stop server1/${k}: done`);

/**
 * Kills server2's agent right after each point in turn, restarting it each time; the intent log must carry it on.
 * The first point is looked for from `since` (the crash: the fence device confirms within the power-off's own time).
 */
async function killAtEachPoint(ctx: ScenarioContext, points: string[], since = Date.now()): Promise<void> {
  for (const point of points) {
    await killAgentAfter(ctx.prefix, 'server2', point, since);
    since = Date.now();
    await restartAgent(ctx.prefix, 'server2');
  }
  ctx.measure('agent restarts', points.length);
}

export const takeoverKilledAtEachStep: Scenario = {
  name: 'takeover-killed-at-each-step',
  what: "server1 crashes; server2's agent is killed after each step of the takeover in turn, and restarted: it finishes the takeover",
  takeovers: 1,
  reintegrate: 'manual',
  settleMs: 60_000,
  async run(ctx) {
    const crashedAt = Date.now();
    await powerOff(ctx.prefix, 'server1');
    await killAtEachPoint(ctx, TAKEOVER_KILL_POINTS, crashedAt);
    await waitPhase(ctx.prefix, 'server2', 'serving_both', 60_000);
    const resumed = transitionsSince(ctx).filter((t) => t.startsWith('server2 booting → taking_over: resuming the takeover'));
    ctx.note(`${resumed.length} restarts resumed the takeover from the intent log`);
    if (resumed.length < RESOURCE_ORDER.length) throw new Error(`only ${resumed.length} restarts resumed the takeover`);
    await comeBackAndReintegrate(ctx);
  },
};

export const releaseKilledAtEachStep: Scenario = {
  name: 'release-killed-at-each-step',
  what: "server1 crashes and is taken over; on reintegration server2's agent is killed after each step of the release in turn",
  takeovers: 1,
  reintegrate: 'manual',
  settleMs: 60_000,
  async run(ctx) {
    await crashAndTakeover(ctx);
    await powerOn(ctx.prefix, 'server1');
    await waitPhase(ctx.prefix, 'server1', 'fenced');
    const killing = killAtEachPoint(ctx, RELEASE_KILL_POINTS);
    await reintegrate(ctx.prefix, 'server1', 90_000);
    await killing;
    const resumed = transitionsSince(ctx).filter((t) => t.startsWith('server2 booting → releasing: resuming the release'));
    ctx.note(`${resumed.length} restarts resumed the release from the intent log`);
    const retaken = transitionsSince(ctx).filter((t) => t.startsWith('server2') && t.includes('→ taking_over'));
    if (retaken.length > 1) throw new Error(`server2 took server1's group again during the release: ${retaken.join('; ')}`);
  },
};

export const survivorCrashDuringReintegration: Scenario = {
  name: 'survivor-crash-during-reintegration',
  what: 'server1 crashes and is taken over; during its reintegration the survivor server2 crashes: server1 fences it and serves both',
  takeovers: 2,
  reintegrate: 'manual',
  settleMs: 60_000,
  async run(ctx) {
    await crashAndTakeover(ctx);
    await powerOn(ctx.prefix, 'server1');
    await waitPhase(ctx.prefix, 'server1', 'fenced');
    await askControl(labPath(ctx.prefix, 'server1.sock'), 'reintegrate');
    await waitUntil(async () => transitionsSince(ctx).some((t) => t.startsWith('server2 serving_both → releasing')), 10_000,
      'server2 releasing');
    const crashedAt = await powerOff(ctx.prefix, 'server2');
    await waitPhase(ctx.prefix, 'server1', 'serving_both', 40_000);
    ctx.measure('survivor crash → server1 serving both', Date.now() - crashedAt);
    await comeBackAndReintegrate(ctx, 'server2');
  },
};

export const automaticReintegration: Scenario = {
  name: 'automatic-reintegration',
  what: 'reintegrate: auto; server1 crashes and is taken over; back, it asks for its group by itself',
  takeovers: 1,
  reintegrate: 'auto',
  async run(ctx) {
    await crashAndTakeover(ctx);
    const backAt = Date.now();
    await powerOn(ctx.prefix, 'server1');
    await waitUntil(async () => transitionsSince(ctx).some((t) => t.includes('fenced → reintegrating: automatic')), 30_000,
      'server1 reintegrates by itself');
    await waitUntil(() => bothNormal(ctx.prefix), 30_000, 'both normal');
    ctx.measure('boot → both normal (automatic)', Date.now() - backAt);
  },
};

export const heartbeatFlood: Scenario = {
  name: 'heartbeat-flood',
  what: '100,000 forged, replayed and malformed heartbeat packets at both agents on both networks: nothing changes',
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    const sent = await floodHeartbeats(ctx.prefix, 100_000);
    ctx.measure('packets sent', Object.values(sent.sent).reduce((a, b) => a + b, 0));
    ctx.measure('flood duration', sent.durationMs);
    assertQuiet(ctx);
  },
};

/** server1's heartbeat drops by reason, as its agent reports them. */
async function dropsOf(prefix: string): Promise<Record<string, number>> {
  const status = await agentStatus(prefix, 'server1');
  if (!status) throw new Error("server1's agent does not answer");
  return status.heartbeatDrops as Record<string, number>;
}

function expectDrops(before: Record<string, number>, after: Record<string, number>, least: Record<string, number>): void {
  for (const [reason, count] of Object.entries(least)) {
    const seen = (after[reason] ?? 0) - (before[reason] ?? 0);
    if (seen < count) throw new Error(`server1 dropped ${seen} packets as ${reason}, expected at least ${count}: ${JSON.stringify(after)}`);
  }
}

export const clientForgery: Scenario = {
  name: 'client-forgery',
  what: 'client1, holding all a watcher holds and forging source addresses, sends server1 fences made with the ' +
    "watcher's key material, relayed and replayed heartbeats of server2's, a term jump made with a leaked secret, and " +
    "after server1's agent restarts, the heartbeats it recorded before: each dropped and counted, nothing changes",
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    const before = await dropsOf(ctx.prefix);
    const sent = await forge(ctx.prefix, 'attack');
    await sleep(500);
    const after = await dropsOf(ctx.prefix);
    expectDrops(before, after, {
      hmac: sent['forged with the watcher key material']! + sent['relayed from net B onto net A']!,
      source: sent["forged, from client1's own address"]!,
      jump: sent['with the leaked secret, a fence term jumping ahead']!,
      // Each recorded heartbeat reached server1 first itself; the copies that were the newest one are duplicates.
      replay: sent['replayed on net A']! - 2,
    });
    ctx.measure('forged, relayed and replayed packets dropped', Object.values(sent).reduce((a, b) => a + b, 0));
    // The restart comes 2 s after the recording ends, so the partner's newest heartbeat on record is newer than
    // what was recorded. server2's heartbeats do not reach server1 meanwhile (ICMP and the disk do, for a few seconds:
    // less than the fence command's patience): the restarted agent has no fresh heartbeat of server2's to judge the
    // replays by, only the mark its previous run left.
    await sleep(1500);
    await dropHeartbeatsToServer1(ctx.prefix, true);
    try {
      killAgent(ctx.prefix, 'server1');
      await sleep(1000);
      await restartAgent(ctx.prefix, 'server1');
      await waitUntil(async () => (await phaseOf(ctx.prefix, 'server1')) !== null, 10_000, "server1's agent back");
      const restarted = await dropsOf(ctx.prefix);
      const replayed = await forge(ctx.prefix, 'replay');
      await sleep(500);
      expectDrops(restarted, await dropsOf(ctx.prefix), { replay: replayed['replayed after the restart']! });
      ctx.measure('replayed after the restart, dropped', replayed['replayed after the restart']!);
    } finally {
      await dropHeartbeatsToServer1(ctx.prefix, false);
    }
    await waitUntil(() => bothNormal(ctx.prefix), 30_000, 'both servers normal again');
    assertQuiet(ctx);
    const phases = await Promise.all(SERVERS.map((server) => phaseOf(ctx.prefix, server)));
    if (phases.some((p) => p !== 'normal')) throw new Error(`the pair is not as it was: ${phases.join(', ')}`);
  },
};

export const cpuSaturation: Scenario = {
  name: 'cpu-saturation',
  what: 'both cores saturated for 60 s (stress-ng): no takeover',
  takeovers: 0,
  reintegrate: 'manual',
  async run(ctx) {
    await saturateCpus(60, ctx.track);
    assertQuiet(ctx);
  },
};

export const SCENARIOS: readonly Scenario[] = [
  serverCrash, agentCrash, agentKilled, agentFreeze, agentHung, nodeFreeze, primaryNetworkCut, primaryLinkDown, serversPartitioned,
  nodeIsolated, mailboxLost,
  takeoverKilledAtEachStep, releaseKilledAtEachStep, survivorCrashDuringReintegration, automaticReintegration,
  heartbeatFlood, clientForgery, cpuSaturation, nfsv3ServerCrash,
];
