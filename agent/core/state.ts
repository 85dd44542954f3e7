// A node's whole protocol state: plain data, so the simulator can keep thousands of them and a test can snapshot one.
import { newDetector, type DetectorState } from './detector.ts';
import { emptyOutbox } from './fence.ts';
import { newIntentState, type IntentState } from './intent.ts';
import { groupHeld, newGroup, type GroupRuntime } from './resources.ts';
import type { CoreConfig, FenceRecord, GroupId, NetId, Outbox, Phase, StatusRecord } from './types.ts';

const SENT_RING = 64;

export interface PartnerView {
  /** Boot generation and sequence of the last heartbeat accepted: older ones are stale or replayed. */
  gen: number;
  seq: number;
  /** The sequence last heard on each network. */
  seqOnNet: Record<NetId, number>;
  status: StatusRecord | null;
  /** What the partner says to us, merged over heartbeats and the disk. */
  outbox: Outbox;
  /** Its last heartbeat said it is in maintenance. */
  maintenance: boolean;
  /** The last time we had any evidence that the partner is alive (a heartbeat, or a newer record in its slot). */
  lastEvidenceAt: number | null;
  /** The newest record of its slot that we have read, verified: only a newer one is evidence of life. */
  slotSeen: { gen: number; counter: number } | null;
  /**
   * Time on our own monotonic clock, since the last evidence, covered by successful reads of its slot that found it
   * unchanged: the gap before each such read, capped (quietGapCapMs), so that one jump of our clock adds at most one
   * cap. Reads that come back to back (while intent records wait) add only the little time that really passed.
   */
  quietMs: number;
  lastQuietReadStartedAt: number | null;
}

export interface FenceWait {
  decidedAt: number;
  term: number;
  /** The fence reached the disk (a mailbox write that carried it succeeded). */
  onDisk: boolean;
  /** When that write completed: a partner cycle that read its inbox later saw the fence, and renewed nothing. */
  onDiskAt: number | null;
  /** The fence command confirmed the partner's machine is off: no lease to wait for. */
  powerFenced: boolean;
}

export interface NodeState {
  phase: Phase;
  phaseSince: number;
  cause: string;
  lastStepAt: number | null;
  gen: number;
  counter: number;
  /** Mailbox recovered at boot: until then the node neither serves nor sends. */
  recovered: boolean;
  hbSeq: number;
  lastHbAt: number | null;
  sentAt: number[];
  links: Record<NetId, { up: boolean; since: number }>;
  partner: PartnerView;
  /** Start of the latest lease renewal (a mailbox write, or a heartbeat the partner echoed with a grant). */
  renewedFrom: number | null;
  disk: {
    opId: number;
    pendingStartedAt: number | null;
    pendingWrite: boolean;
    /** The fence record the pending write carries. */
    pendingFence: FenceRecord | null;
    /** The pending cycle reads the partner's intent log. */
    pendingReadsPartner: boolean;
    lastStartAt: number | null;
    failures: number;
  };
  out: Outbox;
  /**
   * The fence record last written to the disk. Heartbeats carry this one, not `out.fence`: a fence the partner saw
   * must survive our crash, or after a reboot we could not know to release it.
   */
  persistedFence: FenceRecord | null;
  pong: number;
  ackFenceTerm: number;
  handledReintegrate: number;
  handledHandover: number;
  handledTakeover: number;
  maxTerm: number;
  releasedTerm: number;
  /** The term of the fence that put us in `fenced` (0 when we stood down on our own). */
  fencedByTerm: number;
  fenceWait: FenceWait | null;
  /** waiting: for our fence to reach the disk; pending: the command runs; then its outcome. */
  powerFence: { startedAt: number; result: 'waiting' | 'pending' | 'ok' | 'failed' } | null;
  detector: DetectorState;
  groups: Record<GroupId, GroupRuntime>;
  operator: { reintegrate: boolean; release: boolean };
  /**
   * The operator's maintenance mode: the node keeps serving, heartbeating and renewing its lease, and still obeys
   * fences and answers the partner's requests, but starts no move of its own (no fence or takeover on its
   * detector's verdict, no handover, no automatic reintegration) and ignores failed health checks.
   */
  maintenance: boolean;
  reintegrateSentAt: number | null;
  watchdogUntil: number | null;
  intent: IntentState;
  /** The handover counter the handover under way raises the partner's to (its intent record keeps it too). */
  handoverTo: number;
}

/**
 * `gen` is this agent run's boot generation, kept by the adapter on local storage and increased at every start:
 * the partner takes a heartbeat of a higher generation as news even if its sequence number starts again at 1.
 */
export function initialState(cfg: CoreConfig, now: number, gen: number): NodeState {
  return {
    phase: 'booting',
    phaseSince: now,
    cause: 'agent started',
    lastStepAt: null,
    gen,
    counter: 0,
    recovered: false,
    hbSeq: 0,
    lastHbAt: null,
    sentAt: new Array<number>(SENT_RING).fill(-1),
    links: Object.fromEntries(cfg.networks.map((n) => [n, { up: true, since: now }])),
    partner: {
      gen: 0, seq: 0, seqOnNet: {}, status: null, outbox: emptyOutbox(), maintenance: false,
      lastEvidenceAt: null, slotSeen: null, quietMs: 0, lastQuietReadStartedAt: null,
    },
    renewedFrom: null,
    disk: {
      opId: 0, pendingStartedAt: null, pendingWrite: false, pendingFence: null, pendingReadsPartner: false, lastStartAt: null,
      failures: 0,
    },
    out: emptyOutbox(),
    persistedFence: null,
    pong: 0,
    ackFenceTerm: 0,
    handledReintegrate: 0,
    handledHandover: 0,
    handledTakeover: 0,
    maxTerm: 0,
    releasedTerm: 0,
    fencedByTerm: 0,
    fenceWait: null,
    powerFence: null,
    detector: newDetector(cfg.networks, now),
    groups: Object.fromEntries(Object.entries(cfg.groups).map(([id, specs]) => [id, newGroup(id, specs)])),
    operator: { reintegrate: false, release: false },
    maintenance: false,
    reintegrateSentAt: null,
    watchdogUntil: null,
    intent: newIntentState(),
    handoverTo: 0,
  };
}

export function recordSent(s: NodeState, seq: number, at: number): void {
  s.sentAt[seq % SENT_RING] = at;
}

/** When we sent heartbeat `seq`, if it is recent enough to still be remembered. */
export function sentTime(s: NodeState, seq: number): number | null {
  if (seq > s.hbSeq || seq <= s.hbSeq - SENT_RING) return null;
  const at = s.sentAt[seq % SENT_RING]!;
  return at < 0 ? null : at;
}

export function heldGroups(s: NodeState): GroupId[] {
  const held: GroupId[] = [];
  for (const g of Object.values(s.groups)) if (groupHeld(g)) held.push(g.id);
  return held;
}

export function statusRecord(s: NodeState, self: string): StatusRecord {
  return {
    node: self,
    gen: s.gen,
    counter: s.counter,
    phase: s.phase,
    owns: heldGroups(s),
    isolated: isIsolated(s),
    pong: s.pong,
    ackFenceTerm: s.ackFenceTerm,
    handledReintegrate: s.handledReintegrate,
    handledHandover: s.handledHandover,
    handledTakeover: s.handledTakeover,
  };
}

export function isIsolated(s: NodeState): boolean {
  for (const l of Object.values(s.links)) if (l.up) return false;
  return true;
}

/** A deep copy, for callers that want to keep a state while `step` moves on from it. */
export function cloneState(s: NodeState): NodeState {
  return structuredClone(s);
}
