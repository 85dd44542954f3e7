// Two controllers on real timers with in-memory adapters (fakes.ts), paired through a fake network and disk, with
// fast timing: for the tests of the controller and of what watches it (status, timeline).
import type { CoreConfig } from '../../agent/core/types.ts';
import { RESOURCE_ORDER } from '../../agent/core/types.ts';
import { Controller, type StepObserver } from '../../agent/daemon/controller.ts';
import { timerScheduler } from '../../agent/daemon/scheduler.ts';
import type { LogFn } from '../../agent/ports.ts';
import { DryRunResources } from '../../agent/resources/dry-run.ts';
import { FakeDisk, FakeMailbox, FakeNetwork, FakeProber, FakeTransport, RecordingWatchdog } from './fakes.ts';

export const NODES = ['alpha', 'beta'] as const;
const resources = RESOURCE_ORDER.map((kind) => ({ name: kind, kind }));

export function coreConfig(i: 0 | 1): CoreConfig {
  return {
    self: NODES[i], partner: NODES[1 - i]!, selfWinsTies: i === 0, networks: ['a', 'b'],
    timing: {
      heartbeatIntervalMs: 40, missesBeforeSuspicion: 3, icmpTimeoutMs: 60, diskIntervalMs: 40,
      diskIoTimeoutMs: 80, diskProbeTimeoutMs: 200, selfFenceLeaseMs: 600, fenceAfterMs: 600, watchdogTimeoutMs: 0,
    },
    reintegrate: 'manual', restartLimit: 2, hasFenceCommand: false,
    groups: { alpha: resources, beta: resources },
  };
}

export function pair(observers: [StepObserver[], StepObserver[]] = [[], []]) {
  const network = new FakeNetwork();
  const disk = new FakeDisk();
  const up = [true, true];
  const lines: string[][] = [[], []];
  const transports = ([0, 1] as const).map((i) => new FakeTransport(network, i, ['a', 'b']));
  const controllers = ([0, 1] as const).map((i) => {
    const log: LogFn = (_level, message) => lines[i]!.push(message);
    return new Controller({
      core: coreConfig(i), generation: 1, clock: { now: () => performance.now() }, scheduler: timerScheduler,
      transport: transports[i]!, prober: new FakeProber(() => up[1 - i]!),
      mailbox: new FakeMailbox(disk, i), resources: new DryRunResources(log), watchdog: new RecordingWatchdog(),
      fence: null, links: { poll: () => [] }, extras: () => ({ addresses: [] }), log, tickMs: 10, observers: observers[i],
    });
  });
  return { network, up, lines, controllers, transports };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!what()) {
    if (performance.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}
