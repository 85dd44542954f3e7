// The small interfaces between the agent's controller and the outside world. Each adapter (UDP heartbeats, ICMP,
// the disk mailbox, commands, sensors) implements one; the controller only ever talks to these, so the same
// controller logic runs against real sockets and disks, or against the simulated world (agent/sim). What completes
// later is a PromiseLike: the simulator settles its own, synchronously, so that a seed stays one ordered run.
import type {
  GroupId, Heartbeat, IntentRecord, MailboxView, NetId, Outbox, ResourceKind, StatusRecord,
} from './core/types.ts';

/** One of this node's two networks, as the network adapters (heartbeats, ICMP) need it. */
export interface NetworkEndpoint {
  /** The subnet, e.g. "198.51.100.0/24": the same network has the same name on both nodes. */
  net: NetId;
  iface: string;
  /** This node's address on the network, without prefix. */
  localAddress: string;
  /** The prefix length of localAddress: packets from sources in that subnet arrived on this network. */
  prefix: number;
  partnerAddress: string;
  broadcast: string;
}

/** Monotonic milliseconds (never the wall clock): what the core's `now` is measured in. */
export interface Clock {
  now(): number;
}

/** Repeating timers: Node's in the agent, the simulated world's agenda in the simulator. */
export interface Scheduler {
  /** Calls `fn` every `ms` until the returned function cancels it. */
  every(ms: number, fn: () => void): () => void;
}

/** What a heartbeat carries besides the core's record: for client watchers, the addresses the sender now serves. */
export interface HeartbeatExtras {
  addresses: string[];
}

/**
 * Why a packet was dropped. `signature`: a watcher's check of the sender's signature failed; `source`: not from the
 * sender's own configured address on the network it arrived on; `jump`: a counter far past what the sender could have
 * reached (a fence term jumping ahead, any counter near the top of its 32 bits).
 */
export const HEARTBEAT_DROP_REASONS = [
  'truncated', 'oversized', 'magic', 'version', 'pair', 'hmac', 'signature', 'malformed', 'source', 'replay', 'jump', 'self',
] as const;
export type HeartbeatDropReason = (typeof HEARTBEAT_DROP_REASONS)[number];

/** A count of zero for every reason: where drop counters start. */
export function noDrops(): Record<HeartbeatDropReason, number> {
  return Object.fromEntries(HEARTBEAT_DROP_REASONS.map((r) => [r, 0])) as Record<HeartbeatDropReason, number>;
}

/** One network's heartbeats so far: for status and metrics. */
export interface NetworkTraffic {
  /** Heartbeats handed to the network's socket (each to the partner's address and the broadcast address). */
  sent: number;
  /** Fresh, authentic heartbeats of the partner that arrived on this network. */
  received: number;
  /** The last round trip measured from the partner's echo, ms; null before the first. */
  rttMs: number | null;
}

export interface HeartbeatTransport {
  /** Binds the sockets; `onHeartbeat` gets every authentic, fresh heartbeat from the partner with its network. */
  start(onHeartbeat: (net: NetId, hb: Heartbeat, extras: HeartbeatExtras) => void): PromiseLike<void>;
  /** Sends on every network: to the partner's address there, and to that network's broadcast address. */
  send(hb: Heartbeat, extras: HeartbeatExtras): void;
  /** Packets dropped so far, by reason. */
  drops(): Record<HeartbeatDropReason, number>;
  traffic(): Record<NetId, NetworkTraffic>;
  close(): PromiseLike<void>;
}

export interface IcmpProber {
  /** Sends one echo request to the partner on `net`; calls `onReply` if the reply comes within `timeoutMs`. */
  probe(net: NetId, timeoutMs: number, onReply: () => void): void;
  close(): void;
}

export interface MailboxWrite {
  slot: StatusRecord;
  outbox: Outbox;
  /** New records of our intent log, each to its sector of the ring. */
  intents: IntentRecord[];
}

export interface Mailbox {
  /**
   * One cycle: write our slot, the partner's inbox and our new intent records (when `write` is given, each verified
   * by reading it back), then read the four sectors that concern us, and the intent logs asked for. Rejects on an
   * I/O error, a corrupt or foreign sector we would have to act on, or when `deadlineMs` passes (the I/O runs off
   * the event loop, so a hung disk delays nothing else).
   */
  cycle(write: MailboxWrite | null, deadlineMs: number, readIntents?: ReadonlyArray<'own' | 'partner'>): PromiseLike<MailboxView>;
  close(): PromiseLike<void>;
}

export interface CommandResult {
  argv: string[];
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  dryRun: boolean;
}

export interface CommandRunner {
  /** Runs argv (never through a shell); resolves with the result, whatever the exit code. */
  run(argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CommandResult>;
}

/** The machine's watchdog: resets the machine at `until` (monotonic ms) unless armed again; null disarms it. */
export interface Watchdog {
  arm(until: number | null): void;
  close(): void;
}

/**
 * A watchdog character device (/dev/watchdog): opening it starts the countdown, each write restarts it, and the
 * countdown stops only when 'V' is written just before the close (the magic close). Any other close, or an exit,
 * leaves it counting: the machine resets one device timeout after the last write.
 */
export interface WatchdogDevice {
  open(): void;
  pet(): void;
  close(magic: boolean): void;
}

/** Carries out one start or stop of one resource of a group; idempotent, as OCF resource agents are. */
export interface ResourceDriver {
  run(group: GroupId, resource: string, kind: ResourceKind, op: 'start' | 'stop'): PromiseLike<{ ok: boolean; error?: string }>;
  /** Cheap liveness of what it started (read on every tick: no child processes), e.g. an NFS server that died. */
  monitor(): Array<{ group: GroupId; resource: string; ok: boolean; detail: string }>;
  /** Resolves once background work (gratuitous ARP announcements) is done: awaited before the agent exits. */
  idle(): PromiseLike<void>;
}

/** Powers the partner off through its management board (the configured fence command) and confirms it. */
export type FenceAction = () => PromiseLike<{ ok: boolean; error?: string }>;

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
