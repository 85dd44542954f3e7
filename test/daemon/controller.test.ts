// The controller on real timers with in-memory adapters (test/daemon/fakes.ts): it must carry the core's effects
// out and feed the results back, so that two controllers pair up and one takes the other over when it stops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CoreConfig } from '../../agent/core/types.ts';
import { RESOURCE_ORDER } from '../../agent/core/types.ts';
import { Controller } from '../../agent/daemon/controller.ts';
import { DryRunResources } from '../../agent/resources/dry-run.ts';
import type { LogFn } from '../../agent/ports.ts';
import { FakeDisk, FakeMailbox, FakeNetwork, FakeProber, FakeTransport, RecordingWatchdog } from './fakes.ts';

const NODES = ['alpha', 'beta'] as const;
const resources = RESOURCE_ORDER.map((kind) => ({ name: kind, kind }));

function coreConfig(i: 0 | 1): CoreConfig {
  return {
    self: NODES[i], partner: NODES[1 - i]!, selfWinsTies: i === 0, networks: ['a', 'b'],
    timing: {
      heartbeatIntervalMs: 40, missesBeforeSuspicion: 3, icmpTimeoutMs: 60, diskIntervalMs: 40,
      diskIoTimeoutMs: 80, diskProbeTimeoutMs: 200, selfFenceLeaseMs: 600, fenceAfterMs: 600,
    },
    reintegrate: 'manual', restartLimit: 2, hasFenceCommand: false,
    groups: { alpha: resources, beta: resources },
  };
}

function pair() {
  const network = new FakeNetwork();
  const disk = new FakeDisk();
  const up = [true, true];
  const lines: string[][] = [[], []];
  const controllers = ([0, 1] as const).map((i) => {
    const log: LogFn = (_level, message) => lines[i]!.push(message);
    return new Controller({
      core: coreConfig(i), generation: 1, clock: { now: () => performance.now() },
      transport: new FakeTransport(network, i, ['a', 'b']), prober: new FakeProber(() => up[1 - i]!),
      mailbox: new FakeMailbox(disk, i), resources: new DryRunResources(log), watchdog: new RecordingWatchdog(),
      fence: null, links: { poll: () => [] }, extras: () => ({ addresses: [] }), log, tickMs: 10,
    });
  });
  return { network, up, lines, controllers };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!what()) {
    if (performance.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

const phase = (c: Controller) => c.status().phase;

test('two controllers pair up, each serving its own group', async () => {
  const { controllers } = pair();
  try {
    await Promise.all(controllers.map((c) => c.start()));
    await until(() => controllers.every((c) => phase(c) === 'normal'), 3000);
    const groups = controllers[0]!.status().groups as Record<string, { status: string }>;
    assert.is(groups.alpha!.status, 'online');
    assert.is(groups.beta!.status, 'offline');
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
  }
});

test('a controller whose partner stops takes its group over', async () => {
  const { controllers, up, lines } = pair();
  try {
    await Promise.all(controllers.map((c) => c.start()));
    await until(() => controllers.every((c) => phase(c) === 'normal'), 3000);
    await controllers[1]!.stop();
    up[1] = false;
    await until(() => phase(controllers[0]!) === 'serving_both', 5000);
    assert.ok(lines[0]!.some((l) => l.startsWith('probing → fencing_partner')));
    assert.ok(lines[0]!.some((l) => l === 'dry run: would start beta/service_ip'));
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
  }
});

test('a command answers with what the core said', async () => {
  const { controllers } = pair();
  try {
    await Promise.all(controllers.map((c) => c.start()));
    await until(() => controllers.every((c) => phase(c) === 'normal'), 3000);
    assert.equal(controllers[0]!.command('reintegrate'), ['reintegrate refused: this node is normal, not fenced']);
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
  }
});

test.run();
