// client1's watcher in the namespace lab, for real: real agents and NFS-Ganesha, real routes in client1's
// namespace, a real libnfs client, the watcher running with CAP_NET_ADMIN as its only capability.
// (1) server1 cut off net A only: no failover; client1 reaches /srv1 through server1's net-B address, and back
//     through net A once healed.
// (2) a flood of garbage, replayed and forged heartbeats at the watcher changes nothing.
// (3) client1 cut off net A, then server1 crashes: server2 takes over .11 on its net-A interface, out of client1's
//     reach, and the watcher follows the takeover through server2's net-B address.
// Times are printed, never asserted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRoutes } from '../../agent/watch/route-table.ts';
import { phaseOf, powerOff } from '../../lab/agents.ts';
import { exportUrl, getFile, putFile, Writer } from '../../lab/client.ts';
import { sh } from '../../lab/exec.ts';
import { ownership } from '../../lab/inspect.ts';
import { flood } from '../../lab/flood.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { sampleOwnership } from '../../lab/sampler.ts';
import { labPath } from '../../lab/state.ts';
import { nsName, setPort } from '../../lab/topology.ts';
import { waitUntil } from '../../lab/wait.ts';
import { startWatcher, watcherStatus } from '../../lab/watcher.ts';

const prefix = `hw${process.pid}`;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
const ADDRESS_1 = '198.51.100.11';
const HOLD_MS = 2000; // config/examples/watch/lab.yaml

async function routeOf(address: string): Promise<{ via: string; dev: string; src: string } | null> {
  const routes = parseRoutes(await sh(['ip', '-n', nsName(prefix, 'client1'), '-j', '-4', 'route', 'show']), [address]);
  return routes[0] ? { via: routes[0].via, dev: routes[0].dev, src: routes[0].src } : null;
}

/** Bytes client1 has sent on each interface. */
async function sentBytes(): Promise<Record<string, number>> {
  const links = JSON.parse(await sh(['ip', '-n', nsName(prefix, 'client1'), '-j', '-s', 'link', 'show'])) as Array<{
    ifname: string; stats64: { tx: { bytes: number } };
  }>;
  return Object.fromEntries(links.map((l) => [l.ifname, l.stats64.tx.bytes]));
}

/** A write and a read of /srv1; returns the bytes client1 sent on each interface meanwhile. */
async function writeAndRead(name: string): Promise<Record<string, number>> {
  const before = await sentBytes();
  await putFile(prefix, SRV1, name, `${name}\n`);
  assert.is(await getFile(prefix, SRV1, name), `${name}\n`);
  const after = await sentBytes();
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

const watchLog = () => sh(['cat', labPath(prefix, 'watch.log')]).catch(() => '');
const context = () => '';

async function allHeard(): Promise<boolean> {
  const status = await watcherStatus(prefix);
  return !!status && status.servers.every((s) => Object.values(s.nets).every((n) => n.heard === true));
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  startWatcher(prefix);
  await waitUntil(allHeard, 10_000, 'the watcher hears both servers on both networks', () => '', 100);
});

test.after(async () => {
  await labDown(prefix);
});

test('the watcher runs with CAP_NET_ADMIN only, and sees both servers and who serves what', async () => {
  const pid = Number((await sh(['cat', labPath(prefix, 'state.json')])).match(/"watcher": (\d+)/)![1]);
  const caps = await sh(['grep', '^Cap', `/proc/${pid}/status`]);
  assert.match(caps, /CapEff:\s+0000000000001000/, caps);
  const status = (await watcherStatus(prefix))!;
  assert.equal(status.addresses.map((a) => [a.address, a.owner, a.route]), [
    ['198.51.100.11', 'lab/server1', null],
    ['203.0.113.12', 'lab/server2', null],
  ]);
});

test('server1 cut off net A: no failover; .11 routed via server1’s net-B address; /srv1 read and written; back on net A once healed', async () => {
  const sampler = sampleOwnership(prefix);
  await putFile(prefix, SRV1, 'before-cut.txt', 'before-cut.txt\n');
  const writer = new Writer(prefix, SRV1, 100, 'cut');
  await writer.okAfter(Date.now(), 20_000);
  const cut = Date.now();
  await setPort(prefix, 'server1', 'neta', false);
  try {
    await waitUntil(async () => (await routeOf(ADDRESS_1)) !== null, 10_000, 'a route for .11', context, 10);
    const routed = Date.now();
    assert.is(await getFile(prefix, SRV1, 'before-cut.txt'), 'before-cut.txt\n');
    const freshRead = Date.now();
    const firstOk = await writer.okAfter(cut, 30_000);
    console.log(`  server1 cut off net A → route for .11: ${routed - cut} ms; → a new client's read of /srv1 OK: ${freshRead - cut} ms; `
      + `→ the running writer's first write + read OK: ${firstOk - cut} ms (its attempt under way at the cut hangs until the writer's 5 s timeout)`);
    assert.equal(await routeOf(ADDRESS_1), { via: '203.0.113.11', dev: 'netb', src: '203.0.113.50' });
    const sent = await writeAndRead('routed.txt');
    assert.ok(sent.netb! > sent.neta!, `the client's traffic goes by net B: ${JSON.stringify(sent)}`);
    assert.is(await phaseOf(prefix, 'server1'), 'normal');
    assert.is(await phaseOf(prefix, 'server2'), 'normal');
    assert.equal((await ownership(prefix)).addresses[ADDRESS_1], ['server1']);
  } finally {
    await setPort(prefix, 'server1', 'neta', true);
  }
  const healed = Date.now();
  await waitUntil(async () => (await routeOf(ADDRESS_1)) === null, HOLD_MS + 10_000, 'the route for .11 removed', context, 10);
  const removed = Date.now() - healed;
  console.log(`  net A healed → route removed: ${removed} ms (hold ${HOLD_MS} ms)`);
  assert.ok(removed >= HOLD_MS, `removed after ${removed} ms, before the hold time`);
  const sent = await writeAndRead('healed.txt');
  assert.ok(sent.neta! > sent.netb!, `the client's traffic goes by net A again: ${JSON.stringify(sent)}`);
  await writer.stop();
  assert.equal(await writer.lost(), []);
  assert.equal((await sampler.stop()).doubles, []);
  const log = await watchLog();
  assert.match(log, /routing 198\.51\.100\.11 via 203\.0\.113\.11 dev netb src 203\.0\.113\.50: lab\/server1 silent on 198\.51\.100\.0\/24/);
  assert.match(log, /removing the route of 198\.51\.100\.11 via 203\.0\.113\.11: lab\/server1 heard on 198\.51\.100\.0\/24 again/);
});

test('a flood of garbage, replayed and forged heartbeats at the watcher changes nothing', async () => {
  const before = (await watcherStatus(prefix))!;
  // From server2, on both networks at their broadcast addresses, where the watcher listens.
  const flooding = flood(prefix, 'server2', {
    port: 7405, captureMs: 1000, floodMs: 3000, everyMs: 10, perRound: 10, pair: 'lab', nodes: ['server1', 'server2'],
    nets: [
      { net: '198.51.100.0/24', from: '198.51.100.12', broadcast: '198.51.100.255', targets: ['198.51.100.255'] },
      { net: '203.0.113.0/24', from: '203.0.113.12', broadcast: '203.0.113.255', targets: ['203.0.113.255'] },
    ],
  });
  // Throughout, the watcher hears both servers on both networks and routes nothing.
  let samples = 0;
  let done = false;
  void flooding.finally(() => (done = true)).catch(() => {});
  while (!done) {
    const status = await watcherStatus(prefix);
    assert.ok(status, 'the watcher answers');
    assert.ok(status!.servers.every((s) => Object.values(s.nets).every((n) => n.heard === true)), JSON.stringify(status!.servers));
    assert.equal(status!.addresses.map((a) => [a.owner, a.route]), [['lab/server1', null], ['lab/server2', null]]);
    samples++;
    await new Promise((r) => setTimeout(r, 100));
  }
  const report = await flooding;
  const after = (await watcherStatus(prefix))!;
  const dropped = (reason: string) => (after.drops[reason] ?? 0) - (before.drops[reason] ?? 0);
  console.log(`  flood: ${JSON.stringify(report)}; the watcher dropped ${JSON.stringify(after.drops)} (${samples} status samples)`);
  for (const reason of ['signature', 'replay', 'source', 'truncated']) assert.ok(dropped(reason) > 0, `drops for ${reason}`);
  assert.equal(after.addresses.map((a) => [a.owner, a.route]), [['lab/server1', null], ['lab/server2', null]]);
  assert.is(await routeOf(ADDRESS_1), null);
  assert.is(await phaseOf(prefix, 'server1'), 'normal');
  assert.is(await phaseOf(prefix, 'server2'), 'normal');
});

test('client1 cut off net A and server1 dead: server2 takes .11 over on net A; the watcher routes it via server2’s net-B address', async () => {
  const sampler = sampleOwnership(prefix);
  await setPort(prefix, 'client1', 'neta', false);
  await waitUntil(async () => (await routeOf(ADDRESS_1))?.via === '203.0.113.11', 10_000, '.11 via server1 on net B', context, 20);
  await writeAndRead('before-crash.txt');
  const writer = new Writer(prefix, SRV1, 100, 'crash');
  const crashed = Date.now();
  await powerOff(prefix, 'server1');
  await waitUntil(async () => (await phaseOf(prefix, 'server2')) === 'serving_both', 30_000, 'server2 serving both', context, 100);
  const takenOver = Date.now();
  await waitUntil(async () => (await routeOf(ADDRESS_1))?.via === '203.0.113.12', 10_000, '.11 via server2 on net B', context, 20);
  const rerouted = Date.now();
  assert.is(await getFile(prefix, SRV1, 'before-crash.txt'), 'before-crash.txt\n');
  const freshRead = Date.now();
  const firstOk = await writer.okAfter(crashed, 30_000);
  console.log(`  server1 crash → server2 serving both: ${takenOver - crashed} ms; → route via server2: ${rerouted - crashed} ms; `
    + `→ a new client's read of /srv1 OK: ${freshRead - crashed} ms; → the running writer's first write + read OK: ${firstOk - crashed} ms`);
  assert.equal(await routeOf(ADDRESS_1), { via: '203.0.113.12', dev: 'netb', src: '203.0.113.50' });
  assert.equal((await ownership(prefix)).addresses[ADDRESS_1], ['server2']);
  await writer.stop();
  assert.equal(await writer.lost(), []);
  assert.equal((await sampler.stop()).doubles, []);
  assert.match(await watchLog(), /198\.51\.100\.11 is served by lab\/server2 \(was lab\/server1\)/);
});

test.run();
