// The operator's maintenance mode and resource restart, one core stepped by hand (test/core/one-node.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { groupStatus } from '../../agent/core/resources.ts';
import { cfg, normalNode, OneNode, partnerDies } from './one-node.ts';

const transitions = (n: OneNode) => n.trace.filter((l) => l.includes(' → '));

test('without maintenance a dead partner is fenced and taken over (the control case)', () => {
  const n = normalNode();
  partnerDies(n);
  n.runUntil('serving_both', 15_000);
  assert.ok(transitions(n).some((l) => l.startsWith('probing → fencing_partner')));
});

test('in maintenance a dead partner is not fenced; once maintenance ends it is judged again, then taken over', () => {
  const n = normalNode();
  assert.equal(n.command({ command: 'maintenance_on' }), [
    'maintenance on: no fence, takeover or handover of our own, failed health checks ignored; still serving, heartbeating and renewing the lease',
  ]);
  partnerDies(n);
  n.run(15_000);
  assert.is(n.s.detector.stage, 'dead');
  assert.is(n.s.phase, 'probing');
  assert.not.ok(n.trace.some((l) => /fencing|taking_over/.test(l)), n.trace.join('\n'));
  // It still serves and renews its lease by the disk.
  assert.is(groupStatus(n.s.groups[cfg.self]!), 'online');
  assert.ok(n.s.renewedFrom !== null && n.now - n.s.renewedFrom < cfg.timing.selfFenceLeaseMs / 2);
  assert.ok(n.sent.at(-1)!.maintenance, 'heartbeats say so');

  const off = n.now;
  assert.equal(n.command({ command: 'maintenance_off' }), [
    'maintenance off: failure detection starts over and its verdicts are acted on again',
  ]);
  assert.is(n.s.detector.stage, 'watching', 'the old verdict is dropped');
  assert.ok(n.trace.includes('probing → normal: watching the partner afresh: its probes start over'), n.trace.slice(-5).join('\n'));
  n.runUntil('serving_both', 15_000);
  // Fresh evidence first: silence, ICMP, then the disk probe, all after maintenance ended.
  const silence = cfg.timing.heartbeatIntervalMs * cfg.timing.missesBeforeSuspicion;
  assert.ok(n.s.phaseSince - off > silence + cfg.timing.icmpTimeoutMs + cfg.timing.diskProbeTimeoutMs);
});

test('maintenance on and off again say so, and change nothing', () => {
  const n = normalNode();
  n.command({ command: 'maintenance_on' });
  assert.equal(n.command({ command: 'maintenance_on' }), ['maintenance is already on']);
  n.command({ command: 'maintenance_off' });
  assert.equal(n.command({ command: 'maintenance_off' }), ['maintenance is already off']);
  assert.not.ok(n.s.maintenance);
});

test('in maintenance failed health checks are ignored; out of it they restart the resource', () => {
  const n = normalNode();
  const before = n.ops.length;
  n.command({ command: 'maintenance_on' });
  n.feed({ type: 'health', group: cfg.self, resource: 'nfs_server', ok: false, detail: 'process gone' });
  n.run(1000);
  assert.equal(n.ops.slice(before), []);
  n.command({ command: 'maintenance_off' });
  n.feed({ type: 'health', group: cfg.self, resource: 'nfs_server', ok: false, detail: 'process gone' });
  n.run(1000);
  assert.ok(n.ops.includes(`stop ${cfg.self}/nfs_server`));
});

test('in maintenance the node still obeys a fence: it stops serving', () => {
  const n = normalNode();
  n.command({ command: 'maintenance_on' });
  n.partnerOutbox = { ...n.partnerOutbox, fence: { term: 1, active: true } };
  n.runUntil('fenced', 5000);
  n.run(2000);
  assert.is(groupStatus(n.s.groups[cfg.self]!), 'offline');
});

test('in maintenance the node still fences itself when its lease runs out', () => {
  const n = normalNode();
  n.command({ command: 'maintenance_on' });
  partnerDies(n);
  n.diskOk = false;
  n.runUntil('self_fenced', 5000);
  n.run(2000);
  assert.is(groupStatus(n.s.groups[cfg.self]!), 'offline');
});

test("in maintenance the partner's handover is still taken: its group would be served by nobody", () => {
  const n = normalNode();
  n.command({ command: 'maintenance_on' });
  n.partnerOutbox = { ...n.partnerOutbox, handover: 1 };
  n.run(200);
  assert.ok(transitions(n).some((l) => l.endsWith('fencing_partner: the partner handed its group over')));
});

test("the partner's maintenance is seen in its heartbeats", () => {
  const n = normalNode();
  assert.not.ok(n.s.partner.maintenance);
  n.partner.maintenance = true;
  n.run(500);
  assert.ok(n.s.partner.maintenance);
});

test('a resource restart stops it with everything above it and starts them again, counting no failure', () => {
  const n = normalNode();
  const before = n.ops.length;
  assert.equal(n.command({ command: 'restart_resource', group: null, resource: 'nfs_server' }), [
    `restarting ${cfg.self}/nfs_server and everything above it, as the operator asked`,
  ]);
  n.run(2000);
  const g = `${cfg.self}/`;
  assert.equal(n.ops.slice(before), [
    `stop ${g}nsm_notify`, `stop ${g}arp`, `stop ${g}service_ip`, `stop ${g}exports`, `stop ${g}nfs_server`,
    `start ${g}nfs_server`, `start ${g}exports`, `start ${g}service_ip`, `start ${g}arp`, `start ${g}nsm_notify`,
  ]);
  const group = n.s.groups[cfg.self]!;
  assert.is(groupStatus(group), 'online');
  assert.ok(group.resources.every((r) => r.failures === 0 && !r.restart && r.lastError === null));
  assert.is(n.s.phase, 'normal');
});

test('a restart is refused, saying why, when it cannot be done', () => {
  const n = normalNode();
  const refused = (group: string | null, resource: string) => n.command({ command: 'restart_resource', group, resource });
  assert.equal(refused(null, 'ganesha'), [
    `resource restart refused: group ${cfg.self} has no resource ganesha (it has log_replay, filesystem, nfs_server, exports, service_ip, arp, nsm_notify)`,
  ]);
  assert.equal(refused(cfg.partner, 'nfs_server'), [`resource restart refused: this node does not serve group ${cfg.partner}`]);
  assert.equal(refused('node9', 'nfs_server'), ['resource restart refused: no group node9 (known: node1, node2)']);
  n.command({ command: 'restart_resource', group: cfg.self, resource: 'exports' });
  n.run(50); // the first stop is under way
  assert.equal(refused(cfg.self, 'exports'), [`resource restart refused: group ${cfg.self} is partial: wait until it is online`]);
});

test('serving both groups, a restart must name the group', () => {
  const n = normalNode();
  partnerDies(n);
  n.runUntil('serving_both', 15_000);
  assert.equal(n.command({ command: 'restart_resource', group: null, resource: 'arp' }), [
    'resource restart refused: this node serves node1 and node2: name the group, as GROUP/arp',
  ]);
  const before = n.ops.length;
  n.command({ command: 'restart_resource', group: cfg.partner, resource: 'arp' });
  n.run(1000);
  assert.equal(n.ops.slice(before), [`stop ${cfg.partner}/nsm_notify`, `stop ${cfg.partner}/arp`, `start ${cfg.partner}/arp`, `start ${cfg.partner}/nsm_notify`]);
});

test.run();
