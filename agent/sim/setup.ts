// The pair the simulator runs: two nodes, two networks, one group per node with every resource kind, and the
// timing both cores use. Shorter than the production defaults so that a seed covers many detection cycles.
import { RESOURCE_ORDER, type CoreConfig, type CoreTiming } from '../core/types.ts';
import type { NodeIdx } from './faults.ts';

export interface SimSetup {
  timing: CoreTiming;
  reintegrate: 'manual' | 'auto';
  hasFenceCommand: boolean;
  restartLimit: number;
  chaosMs: number;
  healMs: number;
  /** The agent controller's tick, as the daemon sets it. */
  tickMs: number;
  /** Largest clock-rate error of a machine, either way (0.005 = 0.5 %). */
  maxDrift: number;
  coreConfig(idx: NodeIdx): CoreConfig;
}

export const SIM_NODES = ['node1', 'node2'] as const;

export const SIM_TIMING: CoreTiming = {
  heartbeatIntervalMs: 200,
  missesBeforeSuspicion: 4,
  icmpTimeoutMs: 300,
  diskIntervalMs: 300,
  // As in production, a mailbox cycle may take longer than the fence margin before it counts as failed.
  diskIoTimeoutMs: 1000,
  diskProbeTimeoutMs: 1500,
  selfFenceLeaseMs: 3000,
  fenceAfterMs: 2000,
  watchdogTimeoutMs: 500,
};

export interface SetupOptions {
  reintegrate: 'manual' | 'auto';
  hasFenceCommand: boolean;
  timing?: CoreTiming;
  chaosMs?: number;
  healMs?: number;
}

export function simSetup(opts: SetupOptions): SimSetup {
  const timing = opts.timing ?? SIM_TIMING;
  const resources = RESOURCE_ORDER.map((kind) => ({ name: kind, kind }));
  return {
    timing,
    reintegrate: opts.reintegrate,
    hasFenceCommand: opts.hasFenceCommand,
    restartLimit: 3,
    chaosMs: opts.chaosMs ?? 40_000,
    healMs: opts.healMs ?? 40_000,
    tickMs: 100,
    maxDrift: 0.005,
    coreConfig: (idx) => ({
      self: SIM_NODES[idx],
      partner: SIM_NODES[1 - idx]!,
      selfWinsTies: idx === 0,
      networks: ['a', 'b'],
      timing,
      reintegrate: opts.reintegrate,
      restartLimit: 3,
      hasFenceCommand: opts.hasFenceCommand,
      groups: { node1: resources, node2: resources },
    }),
  };
}
