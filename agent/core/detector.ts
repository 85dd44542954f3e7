// The failure detector for the partner, per channel, with HA-NFS's escalation: heartbeats silent on every
// network → ICMP echo on each network → a ping through the disk mailbox with a deadline → dead. Any answer on
// ICMP or the disk means the partner is alive (busy or cut off), never dead. Heartbeats silent on one network
// while heard on another are a network failure, reported as such.
import type { CoreTiming, NetId } from './types.ts';

export type DetectorStage =
  | 'watching' // heartbeats heard on at least one network
  | 'icmp' // all networks silent: echo requests out
  | 'disk' // no echo reply: a ping in the partner's inbox, waiting for its pong
  | 'unresponsive' // the machine answers ICMP but its agent is silent
  | 'disk_only' // only the disk mailbox answers: every network between the servers is cut
  | 'dead';

export interface DetectorState {
  heardAt: Record<NetId, number | null>;
  netUp: Record<NetId, boolean>;
  stage: DetectorStage;
  stageSince: number;
  probeId: number;
  icmpAnswered: boolean;
  pingSeq: number;
  /** When the partner last showed life on the disk (its slot changed, or it answered our ping). */
  diskAliveAt: number | null;
  /** Our own successful mailbox reads in the current stage: silence on a disk we cannot read proves nothing. */
  readsInStage: number;
  /**
   * ICMP rounds in a row that the machine answered while its heartbeats stayed silent. Counting rounds, each a
   * full silence period apart, keeps one jump of our own clock from passing for a hung partner.
   */
  unresponsiveRounds: number;
}

export type DetectorAction =
  | { kind: 'icmp'; probeId: number }
  | { kind: 'ping'; pingSeq: number }
  | { kind: 'net'; net: NetId; up: boolean };

export function newDetector(networks: NetId[], now: number): DetectorState {
  return {
    heardAt: Object.fromEntries(networks.map((n) => [n, null])),
    netUp: Object.fromEntries(networks.map((n) => [n, false])),
    stage: 'watching',
    stageSince: now,
    probeId: 0,
    icmpAnswered: false,
    pingSeq: 0,
    diskAliveAt: null,
    readsInStage: 0,
    unresponsiveRounds: 0,
  };
}

export function silenceAfter(t: CoreTiming): number {
  return t.heartbeatIntervalMs * t.missesBeforeSuspicion;
}

function enter(d: DetectorState, stage: DetectorStage, now: number): void {
  d.stage = stage;
  d.stageSince = now;
  d.readsInStage = 0;
}

/** A valid heartbeat from the partner arrived on `net`. */
export function heard(d: DetectorState, net: NetId, now: number): void {
  d.heardAt[net] = now;
  d.unresponsiveRounds = 0;
  if (d.stage !== 'watching') enter(d, 'watching', now);
}

export function icmpReply(d: DetectorState, probeId: number): void {
  if (probeId === d.probeId) d.icmpAnswered = true;
}

/** The partner's slot changed, or it echoed our ping: it is alive on the disk. */
export function diskAlive(d: DetectorState, now: number): void {
  d.diskAliveAt = now;
}

/**
 * Reads a disk probe needs before silence counts: the partner writes its slot every disk interval, so this many
 * reads, spaced by the interval on our own clock, see it change even if that clock jumped once meanwhile.
 */
export function minProbeReads(t: CoreTiming): number {
  return Math.max(3, Math.ceil(t.diskProbeTimeoutMs / t.diskIntervalMs));
}

export function diskReadOk(d: DetectorState): void {
  d.readsInStage++;
}

function diskAliveSince(d: DetectorState, t: number): boolean {
  return d.diskAliveAt !== null && d.diskAliveAt >= t;
}

/** Advances the escalation by time. Returns the probes to send and the networks whose heartbeat state changed. */
export function detectorTick(d: DetectorState, now: number, t: CoreTiming): DetectorAction[] {
  const actions: DetectorAction[] = [];
  const silence = silenceAfter(t);
  for (const net of Object.keys(d.heardAt)) {
    const at = d.heardAt[net];
    const up = at != null && now - at < silence;
    if (up !== d.netUp[net]) {
      d.netUp[net] = up;
      actions.push({ kind: 'net', net, up });
    }
  }
  const anyUp = Object.values(d.netUp).some(Boolean);
  switch (d.stage) {
    case 'watching':
      if (!anyUp && now - d.stageSince >= silence) startIcmp(d, now, actions);
      break;
    case 'icmp':
      if (d.icmpAnswered) {
        enter(d, 'unresponsive', now);
        d.unresponsiveRounds++;
      }
      else if (now - d.stageSince >= t.icmpTimeoutMs) startDisk(d, now, actions);
      break;
    case 'disk':
      // An echo reply that was late (we were descheduled) still proves the machine is up.
      if (d.icmpAnswered) {
        enter(d, 'unresponsive', now);
        d.unresponsiveRounds++;
      }
      else if (diskAliveSince(d, d.stageSince)) enter(d, 'disk_only', now);
      else if (now - d.stageSince >= t.diskProbeTimeoutMs && d.readsInStage >= minProbeReads(t)) enter(d, 'dead', now);
      break;
    case 'unresponsive':
      // Keep asking the machine: if it stops answering too, go on to the disk.
      if (now - d.stageSince >= silence) startIcmp(d, now, actions);
      break;
    case 'disk_only':
      // Alive on the disk for as long as its slot keeps changing; once it stops, escalate again.
      if (!diskAliveSince(d, now - t.diskProbeTimeoutMs)) startIcmp(d, now, actions);
      break;
    case 'dead':
      break;
  }
  return actions;
}

function startIcmp(d: DetectorState, now: number, actions: DetectorAction[]): void {
  enter(d, 'icmp', now);
  d.probeId++;
  d.icmpAnswered = false;
  actions.push({ kind: 'icmp', probeId: d.probeId });
}

function startDisk(d: DetectorState, now: number, actions: DetectorAction[]): void {
  enter(d, 'disk', now);
  d.pingSeq++;
  actions.push({ kind: 'ping', pingSeq: d.pingSeq });
}

/** Forget a verdict: after a takeover, or when the partner comes back in a way that is not a heartbeat. */
export function resetDetector(d: DetectorState, now: number): void {
  enter(d, 'watching', now);
  d.unresponsiveRounds = 0;
}
