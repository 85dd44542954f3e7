// Random fault schedules: what goes wrong, to whom, when and for how long. One schedule per seed.
import type { OperatorCommand } from '../core/types.ts';
import type { Prng } from './prng.ts';

export type NodeIdx = 0 | 1;

export type Fault =
  /** Traffic between the two servers dropped on one network (clients would still reach both). */
  | { kind: 'partition'; net: number; at: number; until: number }
  /** Traffic from `from` to its partner dropped on one network; the other way still flows. */
  | { kind: 'one_way'; net: number; from: NodeIdx; at: number; until: number }
  /** A node's port on one network down: it sees its link go down. */
  | { kind: 'link_down'; node: NodeIdx; net: number; at: number; until: number }
  | { kind: 'lossy'; net: number; at: number; until: number; loss: number; dup: number; delayMaxMs: number }
  /** The node's disk requests hang; they complete, in order, writes landing, when the stall ends. */
  | { kind: 'disk_stall'; node: NodeIdx; at: number; until: number }
  /** Each of the node's disk requests takes `latencyMs` (up to seconds): past the core's deadline they land late. */
  | { kind: 'disk_slow'; node: NodeIdx; at: number; until: number; latencyMs: number }
  | { kind: 'disk_lost'; node: NodeIdx; at: number; until: number }
  /** The node's writes of its slot are acknowledged but never land (a lying cache): its reads show the old record. */
  | { kind: 'lost_writes'; node: NodeIdx; at: number; until: number }
  | { kind: 'agent_crash'; node: NodeIdx; at: number; until: number }
  /**
   * SIGTERM: the agent exits, leaving its NFS server, mounts and address running (KillMode=process); the watchdog
   * is disarmed only if the agent owned nothing. It is started again at \`until\`.
   */
  | { kind: 'agent_stop'; node: NodeIdx; at: number; until: number }
  /** Stops of the node's resources hang this long (umount on dead storage), then succeed. */
  | { kind: 'stop_hang'; node: NodeIdx; at: number; until: number; hangMs: number }
  /**
   * Someone else writes the node's slot sector every disk interval: bytes that do not verify, or old records of the
   * node's own (a replay). Neither is the node's life.
   */
  | { kind: 'slot_replay'; node: NodeIdx; at: number; until: number }
  | { kind: 'agent_freeze'; node: NodeIdx; at: number; until: number }
  /** Power loss: everything the machine held is gone; it boots again at `until`. */
  | { kind: 'machine_crash'; node: NodeIdx; at: number; until: number }
  /** The whole machine stops (processes, network, disk I/O) while its hardware watchdog keeps counting. */
  | { kind: 'machine_freeze'; node: NodeIdx; at: number; until: number }
  /** The node's clock jumps, forward or (jumpMs < 0) backward. */
  | { kind: 'clock_jump'; node: NodeIdx; at: number; jumpMs: number }
  | { kind: 'resource_failures'; node: NodeIdx; at: number; until: number; probability: number }
  | { kind: 'health_failure'; node: NodeIdx; at: number; resource: string }
  | { kind: 'operator'; node: NodeIdx; at: number; command: OperatorCommand };

export interface ScheduleLimits {
  chaosMs: number;
  leaseMs: number;
  resourceNames: readonly string[];
}

const KINDS = [
  'partition', 'one_way', 'link_down', 'lossy', 'disk_stall', 'disk_slow', 'disk_lost', 'lost_writes', 'agent_crash', 'agent_stop',
  'agent_freeze', 'machine_crash', 'machine_freeze', 'clock_jump', 'resource_failures', 'stop_hang', 'health_failure',
  'operator',
] as const;

/**
 * A third of the seeds get one clean machine crash, the case the takeover bound is checked on (some after the
 * servers were cut off from each other, some with the crashed node's slot rewritten by someone else); a third get
 * one of the hard cases (hardCase), composed on purpose; the others get one to six faults of any kind,
 * overlapping as they fall.
 */
export function randomSchedule(rng: Prng, lim: ScheduleLimits): Fault[] {
  const start = 3000;
  const node = (): NodeIdx => (rng.chance(0.5) ? 0 : 1);
  const span = (minMs: number, maxMs: number) => {
    const at = rng.between(start, lim.chaosMs - minMs);
    return { at, until: Math.min(lim.chaosMs, at + rng.between(minMs, maxMs)) };
  };
  const roll = rng.float();
  if (roll < 1 / 3) return hardCase(rng, lim, start).sort((a, b) => a.at - b.at);
  if (roll < 2 / 3) {
    const at = rng.between(start, lim.chaosMs / 2);
    const crash: Fault = { kind: 'machine_crash', node: node(), at, until: lim.chaosMs };
    if (rng.chance(1 / 3)) return [crash];
    // Its slot sector rewritten by someone else, with garbage or its own old records: no life of the crashed node.
    if (rng.chance(1 / 2)) return [crash, { kind: 'slot_replay', node: crash.node, at: rng.between(start, at + 2000), until: lim.chaosMs }];
    // The partner first seen on the disk only, or on one network only, then dead: the verdict must follow it.
    const cutFrom = rng.between(start, at);
    const nets = rng.chance(1 / 2) ? [0, 1] : [rng.int(0, 1)];
    return [...nets.map((net): Fault => ({ kind: 'partition', net, at: cutFrom, until: lim.chaosMs })), crash];
  }
  const faults: Fault[] = [];
  const count = rng.int(1, 6);
  for (let i = 0; i < count; i++) {
    const kind = rng.pick(KINDS);
    switch (kind) {
      case 'partition':
        faults.push({ kind, net: rng.int(0, 1), ...span(500, 15000) });
        break;
      case 'one_way':
        faults.push({ kind, net: rng.int(0, 1), from: node(), ...span(500, 15000) });
        break;
      case 'link_down':
        faults.push({ kind, node: node(), net: rng.int(0, 1), ...span(500, 15000) });
        break;
      case 'lossy':
        faults.push({
          kind, net: rng.int(0, 1), ...span(1000, 15000),
          loss: rng.between(0.05, 0.6), dup: rng.between(0, 0.2), delayMaxMs: rng.between(1, 150),
        });
        break;
      case 'disk_stall':
        faults.push({ kind, node: node(), ...span(200, 2 * lim.leaseMs) });
        break;
      case 'disk_slow':
        faults.push({ kind, node: node(), ...span(500, 15000), latencyMs: rng.between(200, 3000) });
        break;
      case 'disk_lost':
      case 'lost_writes':
        faults.push({ kind, node: node(), ...span(500, 15000) });
        break;
      case 'agent_crash':
        faults.push({ kind, node: node(), ...span(100, 5000) });
        break;
      case 'agent_stop':
        faults.push({ kind, node: node(), ...span(100, 3 * lim.leaseMs) });
        break;
      case 'stop_hang':
        faults.push({ kind, node: node(), ...span(1000, 15000), hangMs: rng.between(lim.leaseMs / 2, 3 * lim.leaseMs) });
        break;
      case 'agent_freeze':
        faults.push({ kind, node: node(), ...span(100, 2 * lim.leaseMs) });
        break;
      case 'machine_crash':
        faults.push({ kind, node: node(), ...span(1000, 30000) });
        break;
      case 'machine_freeze':
        faults.push({ kind, node: node(), ...span(100, 2 * lim.leaseMs) });
        break;
      case 'clock_jump':
        faults.push({
          kind, node: node(), at: rng.between(start, lim.chaosMs),
          jumpMs: rng.between(50, 3 * lim.leaseMs) * (rng.chance(1 / 3) ? -1 : 1),
        });
        break;
      case 'resource_failures':
        faults.push({ kind, node: node(), ...span(1000, 15000), probability: rng.between(0.1, 0.7) });
        break;
      case 'health_failure':
        faults.push({ kind, node: node(), at: rng.between(start, lim.chaosMs), resource: rng.pick(lim.resourceNames) });
        break;
      case 'operator':
        faults.push({
          kind, node: node(), at: rng.between(start, lim.chaosMs),
          command: rng.pick(['takeover', 'release', 'reintegrate'] as const),
        });
        break;
    }
  }
  return faults.sort((a, b) => a.at - b.at);
}

/**
 * The situations where a protocol's margins are thin, each composed on purpose with random timing: a node cut off
 * from its partner and its disk whose stops then hang; a node paused around its partner's verdict; operators who
 * move both groups at once; a takeover, a failback and a second takeover the other way (fences of two terms) with
 * stops that hang; writes that land late on both sides of a fence.
 */
function hardCase(rng: Prng, lim: ScheduleLimits, start: number): Fault[] {
  const x: NodeIdx = rng.chance(0.5) ? 0 : 1;
  const y: NodeIdx = x === 0 ? 1 : 0;
  const lease = lim.leaseMs;
  const t0 = rng.between(start, lim.chaosMs / 2);
  const cut = (from: number, until: number): Fault[] =>
    [0, 1].map((net): Fault => ({ kind: 'partition', net, at: from, until }));
  switch (rng.int(0, 9)) {
    case 0: {
      // Cut off from the partner and from its own disk (or its writes lost or slow); its stops may hang; either
      // clock may jump.
      const until = t0 + rng.between(2 * lease, 5 * lease);
      const disk = rng.pick(['disk_lost', 'lost_writes', 'disk_slow'] as const);
      const faults: Fault[] = [...cut(t0, until),
        disk === 'disk_slow' ? { kind: disk, node: x, at: t0, until, latencyMs: rng.between(200, 3000) } : { kind: disk, node: x, at: t0, until }];
      if (rng.chance(0.6)) faults.push({ kind: 'stop_hang', node: x, at: t0, until, hangMs: rng.between(lease / 2, 3 * lease) });
      if (rng.chance(0.7)) faults.push({ kind: 'clock_jump', node: y, at: t0 + rng.between(500, 2 * lease), jumpMs: rng.between(200, 3 * lease) });
      // Y restarting a resource of its own meanwhile: its steps' intent records make its mailbox cycles run back to
      // back, so a count of quiet reads fills faster than time passes.
      if (rng.chance(0.5)) {
        faults.push({ kind: 'health_failure', node: y, at: t0 + rng.between(0, 2 * lease), resource: rng.pick(lim.resourceNames) });
        faults.push({ kind: 'resource_failures', node: y, at: t0, until, probability: rng.between(0.2, 0.6) });
      }
      if (rng.chance(0.3)) faults.push({ kind: 'clock_jump', node: x, at: t0 + rng.between(0, lease), jumpMs: -rng.between(200, 2 * lease) });
      return faults;
    }
    case 1: {
      // X's agent pauses; Y, already suspecting it, pauses too, and X wakes while Y sleeps.
      const xUntil = t0 + rng.between(lease / 4, 2 * lease);
      const yAt = t0 + rng.between(500, 2500);
      return [
        { kind: 'agent_freeze', node: x, at: t0, until: xUntil },
        { kind: rng.pick(['agent_freeze', 'machine_freeze'] as const), node: y, at: yAt, until: Math.max(yAt + 200, xUntil + rng.between(0, 3000)) },
      ];
    }
    case 2: {
      // Both operators move the partner's group at once.
      const command = rng.pick(['takeover', 'takeover', 'release', 'reintegrate'] as const);
      return [
        { kind: 'operator', node: x, at: t0, command: 'takeover' },
        { kind: 'operator', node: y, at: t0 + rng.between(0, 300), command },
      ];
    }
    case 3: {
      // X crashes and is taken over; it comes back and is given its group (stops on Y may hang); then Y crashes.
      const back = t0 + rng.between(8000, 12000);
      const yCrash = back + rng.between(3000, 12000);
      return [
        { kind: 'machine_crash', node: x, at: t0, until: back },
        { kind: 'stop_hang', node: y, at: back, until: back + rng.between(2000, 10000), hangMs: rng.between(lease / 2, 2 * lease) },
        { kind: 'operator', node: x, at: back + rng.between(2000, 6000), command: 'reintegrate' },
        { kind: 'machine_crash', node: y, at: yCrash, until: Math.min(lim.chaosMs, yCrash + rng.between(3000, 15000)) },
      ];
    }
    case 5: {
      // A disk whose cycles complete just inside their deadline, then X's disk lost and X heard by nobody while it
      // still hears Y (one way), its stops hanging. Renewals counted from when a write completed or an echo
      // arrived, not from when the write started or the echoed heartbeat was sent, outlast what Y measured.
      // The disk may go a little after the networks, so that X's last sign of life is a slow write of its slot.
      const cutAt = t0 + rng.between(1000, 3000);
      const diskGone = cutAt + (rng.chance(0.5) ? 0 : rng.between(0, 2000));
      const until = diskGone + rng.between(2 * lease, 4 * lease);
      return [
        { kind: 'disk_slow', node: x, at: t0, until: diskGone, latencyMs: rng.between(500, 990) },
        ...[0, 1].map((net): Fault => ({ kind: 'one_way', net, from: x, at: cutAt, until })),
        // A stalled disk lands nothing more; a lost one may still land the write its failed cycle began with.
        { kind: rng.pick(['disk_stall', 'disk_lost'] as const), node: x, at: diskGone, until },
        { kind: 'stop_hang', node: x, at: cutAt, until, hangMs: rng.between(lease, 3 * lease) },
      ];
    }
    case 6: {
      // X is taken over and comes back fenced, watching Y; Y is cut off from X and loses its disk for a while, so
      // X probes it; Y's disk returns and Y writes again, and X, which owns nothing and so has no watchdog armed,
      // pauses across that moment. Its probes from before the pause are stale when it wakes.
      const back = t0 + rng.between(5000, 8000);
      const cutAt = back + rng.between(4000, 8000);
      const diskBack = cutAt + rng.between(1500, 3000);
      const pause = diskBack - rng.between(0, 600);
      return [
        { kind: 'machine_crash', node: x, at: t0, until: back },
        ...cut(cutAt, diskBack + rng.between(3000, 8000)),
        { kind: 'disk_lost', node: y, at: cutAt, until: diskBack },
        { kind: 'agent_freeze', node: x, at: pause, until: pause + rng.between(1000, 4000) },
      ];
    }
    case 7: {
      // X is taken over (a fence of term 1), and before it is given its group back Y dies too, so that X, fenced,
      // takes everything with a fence of term 2 while Y's term 1 is still on its outbox.
      const xBack = t0 + rng.between(4000, 8000);
      // Late enough after X's return that the survivor's takeover is owed (invariants.ts, t0Slack).
      const yCrash = xBack + rng.between(6500, 10000);
      return [
        { kind: 'machine_crash', node: x, at: t0, until: xBack },
        { kind: rng.pick(['machine_crash', 'machine_freeze'] as const), node: y, at: yCrash, until: yCrash + rng.between(2000, 12000) },
      ];
    }
    case 8: {
      // As 7, but Y stays down, and the operator then releases Y's group from X (or asks for more): X's fence of
      // term 2 is released while Y's of term 1 is still on Y's outbox. X must go on serving its own group.
      const early = start + rng.between(0, 3000);
      const xBack = early + rng.between(4000, 8000);
      const yCrash = xBack + rng.between(6500, 10000);
      return [
        { kind: 'machine_crash', node: x, at: early, until: xBack },
        { kind: 'machine_crash', node: y, at: yCrash, until: lim.chaosMs },
        { kind: 'operator', node: x, at: yCrash + rng.between(9000, 13_000), command: rng.pick(['release', 'release', 'takeover', 'reintegrate'] as const) },
      ];
    }
    case 9: {
      // Y is heard by nobody (one way) and its disk stalls, so X fences it while X's heartbeats still reach Y;
      // around that verdict X's disk goes, and X's agent crashes and restarts: a fence that never reached the
      // disk must not have been announced either, or Y obeys one its issuer has forgotten.
      const diskGone = t0 + rng.between(2000, 3500);
      const crashAt = diskGone + rng.between(50, 1500);
      const quietUntil = crashAt + rng.between(3000, 8000);
      return [
        ...[0, 1].map((net): Fault => ({ kind: 'one_way', net, from: y, at: t0, until: quietUntil })),
        { kind: 'disk_stall', node: y, at: t0, until: quietUntil },
        { kind: 'disk_lost', node: x, at: diskGone, until: crashAt + rng.between(500, 4000) },
        { kind: 'agent_crash', node: x, at: crashAt, until: crashAt + rng.between(200, 3000) },
      ];
    }
    default: {
      // Cut off from each other, and each side's writes late: the fence lands late, and so do X's renewals. X's
      // disk may stall for about a lease (Y sees it quiet and fences it) and then serve again, slowly, so that a
      // renewal of X's and Y's fence cross on the disk.
      const until = t0 + rng.between(2 * lease, 4 * lease);
      const stallEnd = t0 + rng.between(0.8 * lease, 2 * lease);
      return [...cut(t0, until),
        ...(rng.chance(0.5)
          ? [{ kind: 'disk_stall', node: x, at: t0, until: stallEnd } as Fault,
            { kind: 'disk_slow', node: x, at: stallEnd, until, latencyMs: rng.between(300, 990) } as Fault]
          : [{ kind: 'disk_slow', node: x, at: t0 + rng.between(0, lease), until, latencyMs: rng.between(300, 3000) } as Fault]),
        { kind: 'disk_slow', node: y, at: t0, until, latencyMs: rng.between(200, 1500) },
        ...(rng.chance(0.5) ? [{ kind: 'stop_hang', node: x, at: t0, until, hangMs: rng.between(lease / 2, 2 * lease) } as Fault] : []),
      ];
    }
  }
}

export function describeFault(f: Fault): string {
  const who = 'node' in f ? ` node${f.node + 1}` : '';
  const net = 'net' in f ? ` net${'ab'[f.net]}${f.kind === 'one_way' ? ` from node${f.from + 1}` : ''}` : '';
  const until = 'until' in f ? `–${(f.until / 1000).toFixed(3)}s` : '';
  const extra =
    f.kind === 'clock_jump' ? ` ${f.jumpMs < 0 ? '' : '+'}${Math.round(f.jumpMs)}ms`
    : f.kind === 'disk_slow' ? ` ${Math.round(f.latencyMs)}ms`
    : f.kind === 'stop_hang' ? ` ${Math.round(f.hangMs)}ms`
    : f.kind === 'operator' ? ` ${f.command}`
    : f.kind === 'health_failure' ? ` ${f.resource}`
    : f.kind === 'lossy' ? ` loss ${f.loss.toFixed(2)} dup ${f.dup.toFixed(2)} delay≤${Math.round(f.delayMaxMs)}ms`
    : f.kind === 'resource_failures' ? ` p=${f.probability.toFixed(2)}`
    : '';
  return `${(f.at / 1000).toFixed(3)}s${until} ${f.kind}${who}${net}${extra}`;
}
