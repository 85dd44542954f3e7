// The watcher's core, with times: when it routes around a network, when it stops, and what it never does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { watchStatus } from '../../agent/watch/status.ts';
import { step } from '../../agent/watch/step.ts';
import { ADDRESS_1, ADDRESS_2, labCore, NET_A, NET_B, S1, S2, viaNetB, World } from './fixtures.ts';

const VIA_S1 = viaNetB(ADDRESS_1, '203.0.113.11', S1);
const VIA_S2 = viaNetB(ADDRESS_1, '203.0.113.12', S2);

test('both servers heard on both networks: each address reached directly, its owner known', () => {
  const w = new World();
  w.run(10_000);
  assert.equal(w.routeChanges(), []);
  assert.is(w.s.addresses[ADDRESS_1]!.owner, S1);
  assert.is(w.s.addresses[ADDRESS_2]!.owner, S2);
});

test('heartbeats lost for less than interval × misses: no route, ever', () => {
  const w = new World();
  w.run(1000);
  for (let i = 0; i < 20; i++) {
    w.silence(S1, NET_A, 400);
    w.run(100);
  }
  assert.equal(w.routeChanges(), []);
});

test('server1 silent on net A, heard on net B: .11 routed via its net-B address once the silence is long enough', () => {
  const w = new World();
  w.run(1000);
  const cut = w.now;
  w.heard[S1]!.delete(NET_A);
  w.run(3000);
  const changes = w.routeChanges();
  assert.is(changes.length, 1);
  const [change] = changes;
  assert.is(change!.type, 'route_replace');
  assert.equal(change!.type === 'route_replace' && change!.route, VIA_S1);
  assert.ok(change!.at - cut > 500 && change!.at - cut <= 600, `routed ${change!.at - cut} ms after the cut`);
  assert.match(change!.type === 'route_replace' ? change!.cause : '', `${S1} silent on ${NET_A}`);
  assert.equal(w.table.get(ADDRESS_1), VIA_S1);
  assert.ok(w.logs().some((l) => l.startsWith(`${S1} silent on ${NET_A}`)));
});

test('net A heals: the route goes only after holdMs of heartbeats there, and a single loss does not restart the hold', () => {
  const w = new World();
  w.run(1000);
  w.silence(S1, NET_A, 1000);
  const healed = w.now;
  w.run(1000);
  w.silence(S1, NET_A, 100); // one lost heartbeat
  w.run(3000);
  const removals = w.routeChanges(healed);
  assert.is(removals.length, 1);
  assert.is(removals[0]!.type, 'route_remove');
  const after = removals[0]!.at - healed;
  assert.ok(after >= 2000 && after < 2200, `removed ${after} ms after the heal`);
  assert.is(w.table.has(ADDRESS_1), false);
});

test('a network that fails again during the hold keeps its route and starts the hold over', () => {
  const w = new World();
  w.run(1000);
  w.silence(S1, NET_A, 1000);
  w.run(1500);
  w.silence(S1, NET_A, 1000);
  const healedAgain = w.now;
  w.run(4000);
  const changes = w.routeChanges();
  assert.equal(changes.map((c) => c.type), ['route_replace', 'route_remove']);
  assert.ok(changes[1]!.at - healedAgain >= 2000, 'the hold starts over after the second failure');
});

test('takeover seen through heartbeats: server2 claims .11, the client cut off net A routes it via server2 on net B', () => {
  const w = new World();
  w.run(1000);
  // The client loses net A: nobody is heard there; .11 goes via server1 on net B.
  w.heard[S1]!.delete(NET_A);
  w.heard[S2]!.delete(NET_A);
  w.run(1000);
  assert.equal(w.table.get(ADDRESS_1), VIA_S1);
  // server1 dies; server2 takes its group over a few seconds later.
  w.heard[S1]!.clear();
  w.run(3000);
  assert.equal(w.table.get(ADDRESS_1), VIA_S1, 'an owner heard nowhere: nothing better to do, nothing changes');
  w.serves[S2] = [ADDRESS_1, ADDRESS_2];
  w.run(200);
  assert.equal(w.table.get(ADDRESS_1), VIA_S2);
  assert.is(w.s.addresses[ADDRESS_1]!.owner, S2);
  assert.ok(w.logs().some((l) => l === `${ADDRESS_1} is served by ${S2} (was ${S1}), by its heartbeats`));
  assert.is(w.table.has(ADDRESS_2), false, 'server2 is heard on net B, .12’s own network');
});

test('a route through a server that no longer owns the address goes at once when the new owner is heard directly', () => {
  const w = new World();
  w.run(1000);
  w.heard[S1]!.delete(NET_A);
  w.run(1000);
  assert.equal(w.table.get(ADDRESS_1), VIA_S1);
  const moved = w.now;
  w.heard[S1]!.clear();
  w.serves[S2] = [ADDRESS_1, ADDRESS_2];
  w.run(200);
  assert.is(w.table.has(ADDRESS_1), false);
  assert.ok(w.routeChanges(moved)[0]!.at - moved <= 200);
});

test('a failed route change is tried again after retryMs, and not before', () => {
  const w = new World();
  w.run(1000);
  w.routeFails = true;
  w.heard[S1]!.delete(NET_A);
  w.run(1000);
  const tries = w.routeChanges();
  assert.is(tries.length, 1);
  assert.match(String(w.s.addresses[ADDRESS_1]!.error), 'Network is unreachable');
  w.run(1000);
  assert.is(w.routeChanges().length, 2);
  w.routeFails = false;
  w.run(1000);
  assert.equal(w.table.get(ADDRESS_1), VIA_S1);
  assert.is(w.s.addresses[ADDRESS_1]!.error, null);
  assert.is(w.routeChanges().length, 3);
});

test('a route found at start is kept until its network is heard for the hold time, then removed', () => {
  const w = new World(labCore(), { foundRoutes: [VIA_S1] });
  w.run(1900);
  assert.equal(w.routeChanges(), []);
  w.run(300);
  assert.equal(w.routeChanges().map((c) => c.type), ['route_remove']);
});

test('no route is changed before the table has been read', () => {
  const cfg = labCore();
  const w = new World(cfg);
  w.s.routesKnown = false;
  w.heard[S1]!.delete(NET_A);
  w.run(2000);
  assert.equal(w.routeChanges(), []);
  assert.ok(w.s.addresses[ADDRESS_1]!.want !== null, 'decided, waiting for the table');
});

test('a pair speaks only for its own service addresses', () => {
  const w = new World();
  w.serves[S2] = [ADDRESS_2, '192.0.2.99', '198.51.100.77'];
  w.run(1000);
  assert.equal(w.s.servers[S2]!.claims, [ADDRESS_2]);
});

test('servers not heard at all since the start: nothing is routed until their networks have been silent long enough', () => {
  const w = new World();
  w.heard[S1]!.delete(NET_A);
  w.run(400);
  assert.equal(w.routeChanges(), []);
  w.run(300);
  assert.equal(w.table.get(ADDRESS_1), VIA_S1);
  assert.ok(w.logs().some((l) => l.startsWith(`${S1} not heard on ${NET_A}`)));
});

test('after a pause of the watcher, stale heartbeats read in any order route nothing', () => {
  const w = new World();
  w.run(1000);
  // Paused for 2 s; on waking, net B's socket is read first, and a tick comes before net A's.
  w.now += 2000;
  w.send({ type: 'heartbeat', server: S1, net: NET_B, addresses: [ADDRESS_1] });
  w.send({ type: 'tick' });
  w.send({ type: 'heartbeat', server: S1, net: NET_A, addresses: [ADDRESS_1] });
  w.run(2000);
  assert.equal(w.routeChanges(), []);
  assert.ok(w.logs().some((l) => l.includes('the watcher was paused')));
});

test('the status shows servers, networks, owners and routes in force', () => {
  const w = new World();
  w.run(1000);
  w.heard[S1]!.delete(NET_A);
  w.run(1000);
  const status = watchStatus(w.cfg, w.s, w.now);
  const s1 = status.servers.find((s) => s.server === S1)!;
  assert.equal(s1.serves, [ADDRESS_1]);
  assert.is(s1.nets[NET_A]!.heard, false);
  assert.is(s1.nets[NET_B]!.heard, true);
  assert.is(s1.nets[NET_B]!.lastHeardMsAgo, 0);
  assert.is(s1.nets[NET_B]!.heardForMs, 1900);
  const a1 = status.addresses.find((a) => a.address === ADDRESS_1)!;
  assert.equal(a1.route, { via: '203.0.113.11', dev: 'netb', src: '203.0.113.50' });
  assert.is(a1.owner, S1);
  assert.is(a1.pending, false);
  assert.equal(status.addresses.find((a) => a.address === ADDRESS_2)!.route, null);
});

test('heartbeats from servers or networks it does not know change nothing', () => {
  const cfg = labCore();
  const w = new World(cfg);
  w.run(1000);
  const before = JSON.stringify(w.s);
  assert.equal(step(cfg, w.s, { type: 'heartbeat', server: 'other/server1', net: NET_A, addresses: [ADDRESS_1] }, w.now), []);
  assert.equal(step(cfg, w.s, { type: 'heartbeat', server: S2, net: '192.0.2.0/24', addresses: [ADDRESS_1] }, w.now), []);
  assert.is(JSON.stringify(w.s), before.replace(/"lastStepAt":\d+/, `"lastStepAt":${w.now}`));
});

test.run();
