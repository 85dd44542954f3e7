// The watcher's controller against stand-ins for its listener and route table, with a clock the test moves: it
// reads the table before anything, carries the core's route changes out, logs each with its cause, and stops
// only once a change under way has finished.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { noDrops } from '../../agent/ports.ts';
import { WatchController } from '../../agent/watch/controller.ts';
import type { HeartbeatSource, OnWatchedHeartbeat } from '../../agent/watch/listener.ts';
import type { RouteTable } from '../../agent/watch/route-table.ts';
import type { FoundRoute, Route } from '../../agent/watch/types.ts';
import { ADDRESS_1, ADDRESS_2, labCore, NET_A, NET_B } from './fixtures.ts';

class FakeListener implements HeartbeatSource {
  hear: OnWatchedHeartbeat | null = null;
  closed = false;
  async start(onHeartbeat: OnWatchedHeartbeat): Promise<void> {
    this.hear = onHeartbeat;
  }
  drops() {
    return { ...noDrops(), signature: 3 };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeTable implements RouteTable {
  readonly calls: string[] = [];
  release: (() => void) | null = null;
  constructor(private readonly found: FoundRoute[] = []) {}
  async list(): Promise<FoundRoute[]> {
    this.calls.push('list');
    return this.found;
  }
  replace(route: Route): Promise<{ ok: boolean }> {
    this.calls.push(`replace ${route.address} via ${route.via}`);
    // Held until the test lets it finish, as a slow `ip` would be.
    return new Promise((resolve) => (this.release = () => resolve({ ok: true })));
  }
  async remove(route: Route): Promise<{ ok: boolean }> {
    this.calls.push(`remove ${route.address} via ${route.via}`);
    return { ok: true };
  }
}

function setup(found: FoundRoute[] = []) {
  let now = 0;
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const listener = new FakeListener();
  const table = new FakeTable(found);
  const controller = new WatchController({
    core: labCore(), clock: { now: () => now }, listener, routes: table, tickMs: 60_000,
    log: (level, message, fields) => lines.push({ level, message, fields }),
  });
  const advance = (ms: number, heard: Array<[string, string]>) => {
    for (let t = 0; t < ms; t += 100) {
      now += 100;
      for (const [node, net] of heard) listener.hear!('lab', node, net, node === 'server1' ? [ADDRESS_1] : [ADDRESS_2]);
    }
  };
  return { controller, listener, table, lines, advance };
}

test('net A lost for server1: the controller runs the route change the core decides, logged with its cause', async () => {
  const { controller, listener, table, lines, advance } = setup();
  await controller.start();
  assert.equal(table.calls, ['list']);
  advance(500, [['server1', NET_A], ['server1', NET_B], ['server2', NET_A], ['server2', NET_B]]);
  advance(700, [['server1', NET_B], ['server2', NET_A], ['server2', NET_B]]);
  assert.equal(table.calls, ['list', `replace ${ADDRESS_1} via 203.0.113.11`]);
  const routed = lines.find((l) => l.fields?.event === 'route')!;
  assert.match(routed.message, `routing ${ADDRESS_1} via 203.0.113.11 dev netb src 203.0.113.50: lab/server1 silent on ${NET_A}`);
  assert.is(controller.status().addresses[0]!.pending, true);
  assert.is(controller.status().drops.signature, 3);

  // Stopping waits for the change under way.
  let stopped = false;
  const stopping = controller.stop().then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.is(stopped, false);
  assert.is(listener.closed, true);
  table.release!();
  await stopping;
  assert.is(table.calls.length, 2, 'nothing more once stopped');
});

test('a route found at start is reported as in force from the first status', async () => {
  const { controller } = setup([{ address: ADDRESS_1, via: '203.0.113.11', dev: 'netb', src: '203.0.113.50' }]);
  await controller.start();
  const a1 = controller.status().addresses.find((a) => a.address === ADDRESS_1)!;
  assert.equal(a1.route, { via: '203.0.113.11', dev: 'netb', src: '203.0.113.50' });
  assert.is(a1.cause, 'found in the routing table at start');
  await controller.stop();
});

test.run();
