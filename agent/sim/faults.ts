// Random fault schedules: what goes wrong, to whom, when and for how long. One schedule per seed.
import type { OperatorCommand } from '../core/types.ts';
import type { Prng } from './prng.ts';

export type NodeIdx = 0 | 1;

export type Fault =
  /** Traffic between the two servers dropped on one network (clients would still reach both). */
  | { kind: 'partition'; net: number; at: number; until: number }
  /** A node's port on one network down: it sees its link go down. */
  | { kind: 'link_down'; node: NodeIdx; net: number; at: number; until: number }
  | { kind: 'lossy'; net: number; at: number; until: number; loss: number; dup: number; delayMaxMs: number }
  | { kind: 'disk_stall'; node: NodeIdx; at: number; until: number }
  | { kind: 'disk_lost'; node: NodeIdx; at: number; until: number }
  | { kind: 'agent_crash'; node: NodeIdx; at: number; until: number }
  | { kind: 'agent_freeze'; node: NodeIdx; at: number; until: number }
  /** Power loss: everything the machine held is gone; it boots again at `until`. */
  | { kind: 'machine_crash'; node: NodeIdx; at: number; until: number }
  /** The whole machine stops (processes, network, disk I/O) while its hardware watchdog keeps counting. */
  | { kind: 'machine_freeze'; node: NodeIdx; at: number; until: number }
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
  'partition', 'link_down', 'lossy', 'disk_stall', 'disk_lost', 'agent_crash', 'agent_freeze',
  'machine_crash', 'machine_freeze', 'clock_jump', 'resource_failures', 'health_failure', 'operator',
] as const;

/**
 * A third of the seeds get one clean machine crash, the case the takeover bound is checked on, half of them after
 * the servers were cut off from each other on one or both networks; the others get one to six faults of any
 * kind, overlapping as they fall.
 */
export function randomSchedule(rng: Prng, lim: ScheduleLimits): Fault[] {
  const start = 3000;
  const node = (): NodeIdx => (rng.chance(0.5) ? 0 : 1);
  const span = (minMs: number, maxMs: number) => {
    const at = rng.between(start, lim.chaosMs - minMs);
    return { at, until: Math.min(lim.chaosMs, at + rng.between(minMs, maxMs)) };
  };
  if (rng.chance(1 / 3)) {
    const at = rng.between(start, lim.chaosMs / 2);
    const crash: Fault = { kind: 'machine_crash', node: node(), at, until: lim.chaosMs };
    if (rng.chance(1 / 2)) return [crash];
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
      case 'disk_lost':
        faults.push({ kind, node: node(), ...span(500, 15000) });
        break;
      case 'agent_crash':
        faults.push({ kind, node: node(), ...span(100, 5000) });
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
        faults.push({ kind, node: node(), at: rng.between(start, lim.chaosMs), jumpMs: rng.between(50, 3 * lim.leaseMs) });
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

export function describeFault(f: Fault): string {
  const who = 'node' in f ? ` node${f.node + 1}` : '';
  const net = 'net' in f ? ` net${'ab'[f.net]}` : '';
  const until = 'until' in f ? `–${(f.until / 1000).toFixed(3)}s` : '';
  const extra =
    f.kind === 'clock_jump' ? ` +${Math.round(f.jumpMs)}ms`
    : f.kind === 'operator' ? ` ${f.command}`
    : f.kind === 'health_failure' ? ` ${f.resource}`
    : f.kind === 'lossy' ? ` loss ${f.loss.toFixed(2)} dup ${f.dup.toFixed(2)} delay≤${Math.round(f.delayMaxMs)}ms`
    : f.kind === 'resource_failures' ? ` p=${f.probability.toFixed(2)}`
    : '';
  return `${(f.at / 1000).toFixed(3)}s${until} ${f.kind}${who}${net}${extra}`;
}
