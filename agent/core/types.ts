// The vocabulary of the pure protocol core: what the adapters feed in (events), what the core asks them to do
// (effects), and the records exchanged through heartbeats and the disk mailbox. Times are milliseconds on the
// node's own monotonic clock; the core never reads a clock itself.

export type NodeId = string;
export type NetId = string;
/** A resource group is named after its home node: group "server1" is server1's file systems, exports and address. */
export type GroupId = NodeId;

export interface CoreTiming {
  heartbeatIntervalMs: number;
  missesBeforeSuspicion: number;
  icmpTimeoutMs: number;
  diskIntervalMs: number;
  diskIoTimeoutMs: number;
  diskProbeTimeoutMs: number;
  selfFenceLeaseMs: number;
  /**
   * How long a partner whose machine answers ICMP may stay silent on heartbeats and the disk before the fence
   * command (if configured) powers it off: shorter stalls of a busy agent must not cost a machine.
   */
  fenceAfterMs: number;
  /**
   * The watchdog device's timeout: it resets the machine this long after the last pet, and the agent pets it only
   * while the lease is good, so a frozen or wedged node may run this long past its lease. 0 without a device.
   */
  watchdogTimeoutMs: number;
}

export interface CoreConfig {
  self: NodeId;
  partner: NodeId;
  /** Settles simultaneous fences: on equal fence terms the node listed first in the config wins. */
  selfWinsTies: boolean;
  networks: NetId[];
  timing: CoreTiming;
  reintegrate: 'manual' | 'auto';
  restartLimit: number;
  /**
   * A fence device (a command that powers the partner off or cuts it from the disks and networks) is configured:
   * used before every takeover of a partner found dead, whose lease wait its confirmation replaces, and on a
   * partner whose machine answers but whose agent does not.
   */
  hasFenceCommand: boolean;
  /** Resources of each group, in start order. */
  groups: Record<GroupId, ResourceSpec[]>;
}

export type ResourceKind = 'log_replay' | 'filesystem' | 'nfs_server' | 'exports' | 'service_ip' | 'arp' | 'nsm_notify';

/** Start order of a group; stop runs it in reverse, so the service address is last up and first down. */
export const RESOURCE_ORDER: readonly ResourceKind[] = [
  'log_replay', 'filesystem', 'nfs_server', 'exports', 'service_ip', 'arp', 'nsm_notify',
];

export interface ResourceSpec {
  name: string;
  kind: ResourceKind;
}

/** A fence placed by one node on the other. `active: false` is its release: the fencer no longer owns anything of the fenced node's. */
export interface FenceRecord {
  term: number;
  active: boolean;
}

/**
 * What a node says to its partner. Written by the node into the partner's inbox sector and carried in every
 * heartbeat. Every field is level-triggered (a state or a counter), never a queue, so a lost, late or repeated
 * copy cannot make the receiver act twice.
 */
export interface Outbox {
  fence: FenceRecord | null;
  /** Disk-mailbox ping: the partner echoes it as `pong` in its status slot. */
  ping: number;
  /** Counter: the fenced sender asks to be given its group back. */
  reintegrateRequest: number;
  /** Counter: the sender has stopped its own group and asks the partner to take it (isolation, local failure, operator). */
  handover: number;
  /** Counter: the sender asks the partner to stop its group and hand it over (operator `takeover`). */
  takeoverRequest: number;
}

/** A node's status, written to its own slot on the mailbox disk and carried in every heartbeat. */
export interface StatusRecord {
  node: NodeId;
  gen: number;
  /** Lease counter: increases with every slot write, so a reader sees the writer is alive on the disk. */
  counter: number;
  phase: Phase;
  owns: GroupId[];
  /** All of the node's own links are down: it is cut off from the networks. */
  isolated: boolean;
  pong: number;
  /** The fence term this node has accepted (it stopped everything and waits): the fencer's signal to go ahead. */
  ackFenceTerm: number;
  /** The partner's request counters this node has already answered, so a restart does not answer them twice. */
  handledReintegrate: number;
  handledHandover: number;
  handledTakeover: number;
}

export interface Heartbeat {
  from: NodeId;
  gen: number;
  seq: number;
  sentAt: number;
  status: StatusRecord;
  outbox: Outbox;
  /** The last heartbeat heard from the receiver, echoed back: with `grant` it renews the receiver's lease. */
  echo: { gen: number; seq: number } | null;
  grant: boolean;
  /** The sender is in maintenance: it takes no failover decision of its own. For the receiver's status only. */
  maintenance: boolean;
}

/**
 * Why a node takes a step: the transition it is carrying out. Every step, and the start and end of every
 * transition, is written to the node's intent log on the shared disk before it is acted on.
 */
export type TransitionKind = 'start_own' | 'takeover' | 'release' | 'handover' | 'stand_down' | 'restart';

/**
 * One record of a node's intent log. A step (`step` set) is `begun` before its command runs, then `done` or
 * `failed`; a transition (`step` null) is `begun` when the node enters it and `complete` once it is over.
 */
export interface IntentRecord {
  /** Increases with every record the node writes, across restarts: the log's order. */
  seq: number;
  transition: TransitionKind;
  /** The fence term a takeover or release acts under; for a handover, the handover counter it raises; else 0. */
  term: number;
  step: { group: GroupId; resource: ResourceKind; op: 'start' | 'stop' } | null;
  state: 'begun' | 'done' | 'failed' | 'complete';
  /** Why a step failed, shortened to fit the record. */
  detail: string;
}

/** What one mailbox cycle read: the sectors of the pair that concern this node. */
export interface MailboxView {
  ownSlot: StatusRecord | null;
  /** What this node last wrote into the partner's inbox (recovered at boot). */
  ownOutbox: Outbox | null;
  inbox: Outbox | null;
  /**
   * The partner's slot, if it verifies: evidence of life rests on these records advancing (a sector that does not
   * verify, torn, damaged or forged, is no record, and shows no life however it changes).
   */
  partnerSlot: StatusRecord | null;
  /** The intent logs asked for by the cycle (`readIntents`), oldest record first; records that do not verify are left out. */
  ownIntents?: IntentRecord[];
  partnerIntents?: IntentRecord[];
}

export type Phase =
  | 'booting'
  | 'starting'
  | 'normal'
  | 'suspecting'
  | 'probing'
  | 'partner_degraded'
  | 'power_fencing'
  | 'fencing_partner'
  | 'taking_over'
  | 'serving_both'
  | 'releasing'
  | 'handing_over'
  | 'fenced'
  | 'reintegrating'
  | 'self_fenced';

export type OperatorCommand = 'reintegrate' | 'takeover' | 'release' | 'maintenance_on' | 'maintenance_off';

/** What the operator asks of the node (through the control socket), as the core receives it. */
export type OperatorRequest =
  | { command: OperatorCommand }
  /** Restart one resource, with everything above it, of a group this node serves; `group` null: the one that has it. */
  | { command: 'restart_resource'; group: GroupId | null; resource: string };

export type CoreEvent =
  | { type: 'tick' }
  | { type: 'heartbeat'; net: NetId; hb: Heartbeat }
  | { type: 'icmp_reply'; net: NetId; probeId: number }
  | { type: 'disk_done'; opId: number; ok: boolean; view?: MailboxView; error?: string }
  | { type: 'resource_done'; group: GroupId; resource: string; op: 'start' | 'stop'; ok: boolean; error?: string }
  | { type: 'health'; group: GroupId; resource: string; ok: boolean; detail?: string }
  | { type: 'link'; net: NetId; up: boolean }
  | { type: 'fence_command_done'; ok: boolean; error?: string }
  | ({ type: 'command' } & OperatorRequest);

export type Effect =
  | { type: 'send_heartbeat'; hb: Heartbeat }
  | { type: 'icmp_probe'; net: NetId; probeId: number }
  /**
   * One mailbox cycle: write our slot, the partner's inbox and the new records of our intent log (when `write` is
   * given), then read the four sectors of slots and inboxes, and the intent logs named in `readIntents`.
   */
  | {
    type: 'disk_cycle'; opId: number; write: { slot: StatusRecord; outbox: Outbox; intents: IntentRecord[] } | null;
    readIntents: Array<'own' | 'partner'>;
  }
  /** Issued only once the step's `begun` record is on the disk (a stop: once its write was tried). */
  | { type: 'start_resource'; group: GroupId; resource: string; kind: ResourceKind }
  | { type: 'stop_resource'; group: GroupId; resource: string; kind: ResourceKind }
  /** Arm the watchdog so the machine resets at `until` unless armed again; null disarms (nothing is owned). */
  | { type: 'watchdog'; until: number | null }
  | { type: 'run_fence_command' }
  | { type: 'transition'; from: Phase; to: Phase; cause: string }
  | { type: 'report'; level: 'info' | 'warn' | 'error'; message: string };
