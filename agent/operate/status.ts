// What `hanfs status` shows: the agent's whole view of the pair as plain data (ages in ms relative to now), and a
// verdict on its health for scripts. Built from the core's state and the adapters' counters; decides nothing.
import type { DetectorStage } from '../core/detector.ts';
import { describe, describeRecord } from '../core/intent.ts';
import { groupStatus, type GroupStatus, type ResourceState } from '../core/resources.ts';
import { heldGroups } from '../core/state.ts';
import type { CoreConfig, FenceRecord, GroupId, NetId, Phase } from '../core/types.ts';
import type { HeartbeatDropReason, NetworkTraffic } from '../ports.ts';
import type { ControllerSnapshot } from '../daemon/controller.ts';
import { healthOf, type Health } from './health.ts';

export const STATUS_VERSION = 1;

/** What a group brings with it: its service address and its disks, as the config names them. */
export interface GroupAssets {
  address: string;
  disks: Array<{ device: string; mountPoint: string }>;
}

export interface StatusInputs {
  core: CoreConfig;
  snapshot: ControllerSnapshot;
  /** This node's interface on each network. */
  interfaces: Record<NetId, string>;
  traffic: Record<NetId, NetworkTraffic>;
  drops: Record<HeartbeatDropReason, number>;
  assets: Record<GroupId, GroupAssets>;
  recentTransitions: TransitionLine[];
}

export interface TransitionLine {
  at: string;
  from: Phase;
  to: Phase;
  cause: string;
}

export interface NetworkStatus {
  interface: string;
  /** Our link, by the sensors. */
  link: 'up' | 'down';
  /** The partner's heartbeats arrive on it (within interval × misses). */
  heard: boolean;
  lastHeardAgoMs: number | null;
  rttMs: number | null;
  sent: number;
  received: number;
}

export interface NodeOwnership {
  phase: Phase | null;
  maintenance: boolean;
  groups: GroupId[];
  addresses: string[];
  disks: GroupAssets['disks'];
}

export interface AgentStatus {
  version: typeof STATUS_VERSION;
  health: Health;
  node: string;
  generation: number;
  uptimeMs: number;
  phase: Phase;
  phaseAgeMs: number;
  cause: string;
  maintenance: boolean;
  /** watchdogTimeoutMs 0: configured without a watchdog device ("watchdog: none"), which is unsafe. */
  lease: { lengthMs: number; renewedAgoMs: number | null; leftMs: number | null; watchdogTimeoutMs: number };
  partner: {
    node: string;
    phase: Phase | null;
    maintenance: boolean;
    generation: number | null;
    isolated: boolean | null;
    /** The last sign of life on any channel: a heartbeat, or its mailbox slot changing. */
    lastEvidenceAgoMs: number | null;
  };
  detector: {
    stage: DetectorStage;
    stageAgeMs: number;
    networks: Record<NetId, NetworkStatus>;
    icmp: { probesSent: number; lastProbeAnswered: boolean | null };
    disk: { consecutiveFailures: number; lastCycleAgoMs: number | null; partnerAliveAgoMs: number | null; partnerQuietMs: number };
  };
  /** Who holds what, each node as this node knows it (the partner by its last heartbeat or slot). */
  ownership: Record<string, NodeOwnership>;
  groups: Record<GroupId, {
    target: 'online' | 'offline';
    status: GroupStatus;
    resources: Array<{ name: string; kind: string; state: ResourceState; failures: number; restarting: boolean; lastError: string | null }>;
  }>;
  fence: {
    /** Our fence on the partner, as we mean it and as it is on the disk (heartbeats carry the latter). */
    ours: FenceRecord | null;
    oursOnDisk: FenceRecord | null;
    /** The partner's fence on us. */
    partners: FenceRecord | null;
    fencedByTerm: number;
    acknowledgedTerm: number;
    maxTerm: number;
  };
  /** This node's intent log on the mailbox disk. */
  intentLog: {
    /** The number of its last record, and of the last one known to be on the disk. */
    lastRecord: number;
    onDisk: number;
    /** Records waiting for a mailbox write, and the steps waiting for their record. */
    waiting: number;
    stepsHeld: string[];
    /** Where this run's log said the previous run stood, if anywhere. */
    previousRun: string | null;
    /** The partner's last record, as replayed at the last takeover. */
    partnerLast: string | null;
  };
  heartbeatDrops: Record<HeartbeatDropReason, number>;
  recentTransitions: TransitionLine[];
}

export function buildStatus(i: StatusInputs): AgentStatus {
  const { core, snapshot: { state: s, now, startedAt } } = i;
  const age = (t: number | null) => (t === null ? null : Math.round(now - t));
  const p = s.partner;
  const lease = core.timing.selfFenceLeaseMs;
  const status: Omit<AgentStatus, 'health'> = {
    version: STATUS_VERSION,
    node: core.self,
    generation: s.gen,
    uptimeMs: Math.round(now - startedAt),
    phase: s.phase,
    phaseAgeMs: Math.round(now - s.phaseSince),
    cause: s.cause,
    maintenance: s.maintenance,
    lease: {
      lengthMs: lease,
      renewedAgoMs: age(s.renewedFrom),
      leftMs: s.renewedFrom === null ? null : Math.round(s.renewedFrom + lease - now),
      watchdogTimeoutMs: core.timing.watchdogTimeoutMs,
    },
    partner: {
      node: core.partner,
      phase: p.status?.phase ?? null,
      maintenance: p.maintenance,
      generation: p.status?.gen ?? null,
      isolated: p.status?.isolated ?? null,
      lastEvidenceAgoMs: age(p.lastEvidenceAt),
    },
    detector: {
      stage: s.detector.stage,
      stageAgeMs: Math.round(now - s.detector.stageSince),
      networks: Object.fromEntries(core.networks.map((net) => [net, {
        interface: i.interfaces[net] ?? '?',
        link: s.links[net]?.up === false ? 'down' : 'up',
        heard: s.detector.netUp[net] ?? false,
        lastHeardAgoMs: age(s.detector.heardAt[net] ?? null),
        rttMs: roundTenth(i.traffic[net]?.rttMs ?? null),
        sent: i.traffic[net]?.sent ?? 0,
        received: i.traffic[net]?.received ?? 0,
      } satisfies NetworkStatus])),
      icmp: { probesSent: s.detector.probeId, lastProbeAnswered: s.detector.probeId > 0 ? s.detector.icmpAnswered : null },
      disk: {
        consecutiveFailures: s.disk.failures,
        lastCycleAgoMs: age(s.disk.lastStartAt),
        partnerAliveAgoMs: age(s.detector.diskAliveAt),
        partnerQuietMs: Math.round(p.quietMs),
      },
    },
    ownership: {
      [core.self]: ownership(s.phase, s.maintenance, heldGroups(s), i.assets),
      [core.partner]: ownership(p.status?.phase ?? null, p.maintenance, p.status?.owns ?? [], i.assets),
    },
    groups: Object.fromEntries(Object.values(s.groups).map((g) => [g.id, {
      target: g.target,
      status: groupStatus(g),
      resources: g.resources.map((r) => ({
        name: r.spec.name, kind: r.spec.kind, state: r.state, failures: r.failures, restarting: r.restart, lastError: r.lastError,
      })),
    }])),
    fence: {
      ours: s.out.fence,
      oursOnDisk: s.persistedFence,
      partners: p.outbox.fence,
      fencedByTerm: s.fencedByTerm,
      acknowledgedTerm: s.ackFenceTerm,
      maxTerm: s.maxTerm,
    },
    intentLog: {
      lastRecord: s.intent.seq,
      onDisk: s.intent.writtenUpTo,
      waiting: s.intent.unwritten.length + s.intent.writing.length,
      stepsHeld: s.intent.held.map((h) => `${h.effect.type === 'start_resource' ? 'start' : 'stop'} ${h.effect.group}/${h.effect.resource}`),
      previousRun: s.intent.resume && describe(s.intent.resume),
      partnerLast: s.intent.partnerLast && describeRecord(s.intent.partnerLast),
    },
    heartbeatDrops: i.drops,
    recentTransitions: i.recentTransitions,
  };
  const { version, ...rest } = status;
  return { version, health: healthOf(status), ...rest };
}

function ownership(
  phase: Phase | null, maintenance: boolean, groups: readonly GroupId[], assets: Record<GroupId, GroupAssets>,
): NodeOwnership {
  return {
    phase,
    maintenance,
    groups: [...groups],
    addresses: groups.flatMap((g) => (assets[g] ? [assets[g].address] : [])),
    disks: groups.flatMap((g) => assets[g]?.disks ?? []),
  };
}

function roundTenth(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 10) / 10;
}

