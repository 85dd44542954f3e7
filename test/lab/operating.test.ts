// Operating the pair, for real: each agent's metrics endpoint scraped from inside its server's namespace; hanfs
// status and its exit codes; a survivor in maintenance that does not take its crashed partner over until the
// maintenance ends, then does, with the takeover in its events and metrics; an operator's restart of one resource;
// a service address removed by hand and put back by the agent.
// One owner of every address and disk at every 10 ms sample throughout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentStatus } from '../../agent/operate/status.ts';
import type { TimelineEntry } from '../../agent/operate/timeline.ts';
import { phaseOf, powerOff } from '../../lab/agents.ts';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { configPath, METRICS_LISTEN, type Server } from '../../lab/config.ts';
import { sh } from '../../lab/exec.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { sampleOwnership, type OwnershipSampler } from '../../lab/sampler.ts';
import { waitUntil } from '../../lab/wait.ts';
import { captured, type CliResult } from '../cli/fixtures.ts';
import { sample } from '../operate/prometheus-text.ts';

const prefix = `ho${process.pid}`;
const HANFS = new URL('../../bin/hanfs', import.meta.url).pathname;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
let sampler: OwnershipSampler | undefined;

/** The hanfs CLI on a server, against its agent: exit code and output, whatever the code. */
function hanfs(server: Server, args: string[]): Promise<CliResult> {
  return captured(onNode(prefix, server, [process.execPath, HANFS, ...args, '--config', configPath(prefix, server)]));
}

async function status(server: Server): Promise<{ code: number | null; st: AgentStatus }> {
  const r = await hanfs(server, ['status', '--json']);
  return { code: r.code, st: JSON.parse(r.stdout) as AgentStatus };
}

async function events(server: Server): Promise<TimelineEntry[]> {
  const r = await hanfs(server, ['events', '--json']);
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TimelineEntry);
}

/** GET /metrics from inside the server's network namespace, where the agent listens on its loopback. */
function scrape(server: Server): Promise<string> {
  const script = `fetch('http://${METRICS_LISTEN}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  return sh(onNode(prefix, server, [process.execPath, '-e', script]), { timeoutMs: 10_000 });
}

const phase = (server: Server) => phaseOf(prefix, server);

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  await putFile(prefix, SRV1, 'kept.txt', 'kept\n');
  sampler = sampleOwnership(prefix);
});

test.after(async () => {
  await sampler?.stop();
  await labDown(prefix);
});

test('each agent serves its metrics and reports itself healthy: both normal, heard on both networks', async () => {
  // Right after start a lease renewal or a network may still lag: healthy within a few seconds.
  await waitUntil(async () => (await status('server1')).code === 0 && (await status('server2')).code === 0, 15_000, 'both healthy');
  for (const server of ['server1', 'server2'] as const) {
    const { st } = await status(server);
    assert.equal([st.phase, st.health.level, st.partner.phase], ['normal', 'healthy', 'normal']);
    const text = await scrape(server);
    assert.is(sample(text, 'hanfs_phase', 'phase="normal"'), 1, server);
    for (const net of ['198.51.100.0/24', '203.0.113.0/24']) {
      assert.ok(sample(text, 'hanfs_heartbeats_received_total', `net="${net}"`)! > 0, `${server} hears ${net}`);
      assert.ok(sample(text, 'hanfs_heartbeat_rtt_seconds_count', `net="${net}"`)! > 0, `${server} measures ${net}`);
      assert.ok(st.detector.networks[net]!.rttMs !== null, `${server} shows the round trip on ${net}`);
    }
    assert.is(sample(text, 'hanfs_resource_state', `group="${server}",resource="service_ip",state="online"`), 1);
    assert.ok(sample(text, 'hanfs_command_duration_seconds_count', 'command="mount",outcome="ok"')! >= 1);
  }
  const human = await hanfs('server1', ['status']);
  assert.match(human.stdout, /\nhealth: healthy\n$/);
});

test('a survivor in maintenance leaves its crashed partner alone; once maintenance ends it takes over', async () => {
  const on = await hanfs('server2', ['maintenance', 'on']);
  assert.is(on.code, 0, on.stderr);
  assert.match(on.stdout, /^maintenance on: /);
  await powerOff(prefix, 'server1');
  // Without maintenance the fence decision comes after about 1.7 s (silence, ICMP, the disk probe) and the takeover
  // once the 3 s lease has run out: by 6 s it would be done.
  await new Promise((r) => setTimeout(r, 6000));
  const during = await status('server2');
  assert.is(during.st.detector.stage, 'dead');
  assert.ok(!['fencing_partner', 'taking_over', 'serving_both'].includes(during.st.phase), during.st.phase);
  assert.is(during.code, 2, 'failed: /srv1 is served by nobody');
  assert.ok(during.st.health.reasons.includes('group server1 is served by neither node'), during.st.health.reasons.join('\n'));

  const from = (await events('server2')).at(-1)!.id;
  const off = await hanfs('server2', ['maintenance', 'off']);
  assert.is(off.code, 0, off.stderr);
  await waitUntil(async () => (await phase('server2')) === 'serving_both', 30_000, 'server2 serving both');
  assert.is(await getFile(prefix, SRV1, 'kept.txt', 40_000), 'kept\n');

  const after = (await events('server2')).filter((e) => e.id > from);
  const steps = after.flatMap((e) => (e.kind === 'transition' ? [e.to] : e.kind === 'command' ? [e.command] : []));
  assert.equal(steps.slice(0, 1), ['maintenance off']);
  assert.equal(steps.filter((s) => s === 'fencing_partner' || s === 'taking_over' || s === 'serving_both'),
    ['fencing_partner', 'taking_over', 'serving_both']);
  const started = after.flatMap((e) => (e.kind === 'resource' && e.op === 'start' && e.ok ? [e.resource] : []));
  assert.equal(started, ['log_replay', 'filesystem', 'nfs_server', 'exports', 'service_ip', 'arp', 'nsm_notify']);
  const move = after.find((e) => e.kind === 'move');
  assert.ok(move?.kind === 'move' && move.move === 'takeover' && move.completed, JSON.stringify(move));
  console.log(`    maintenance off → serving both: ${move.durationMs} ms from the fence decision`);

  const text = await scrape('server2');
  assert.is(sample(text, 'hanfs_moves_total', 'move="takeover",outcome="completed"'), 1);
  assert.is(sample(text, 'hanfs_move_duration_seconds_count', 'move="takeover"'), 1);
  assert.is(sample(text, 'hanfs_maintenance', 'of="self"'), 0);
  assert.equal(sampler!.now().doubles, []);
});

test("the operator restarts the partner's NFS server on the survivor: stopped and started with all above it", async () => {
  const from = (await events('server2')).at(-1)!.id;
  const ambiguous = await hanfs('server2', ['resource', 'restart', 'nfs_server']);
  assert.is(ambiguous.code, 1);
  assert.match(ambiguous.stdout, /^resource restart refused: this node serves server1 and server2: name the group/);
  const r = await hanfs('server2', ['resource', 'restart', 'server1/nfs_server']);
  assert.is(r.code, 0, r.stderr);
  await waitUntil(async () => (await events('server2')).some((e) => e.id > from && e.kind === 'resource' && e.op === 'start'
    && e.resource === 'nsm_notify'), 30_000, 'the restart done');
  const ops = (await events('server2')).flatMap((e) => (e.id > from && e.kind === 'resource' ? [`${e.op} ${e.group}/${e.resource}`] : []));
  assert.equal(ops, [
    'stop server1/nsm_notify', 'stop server1/arp', 'stop server1/service_ip', 'stop server1/exports', 'stop server1/nfs_server',
    'start server1/nfs_server', 'start server1/exports', 'start server1/service_ip', 'start server1/arp', 'start server1/nsm_notify',
  ]);
  assert.is(await getFile(prefix, SRV1, 'kept.txt', 40_000), 'kept\n');
  assert.equal(sampler!.now().doubles, []);
});

test("server1's address flushed from the survivor by hand: its agent finds it gone, puts it back and announces it", async () => {
  const from = (await events('server2')).at(-1)!.id;
  await sh(onNode(prefix, 'server2', ['ip', 'addr', 'del', '198.51.100.11/24', 'dev', 'sec']));
  await waitUntil(async () => (await events('server2')).some((e) => e.id > from && e.kind === 'resource' && e.op === 'start'
    && e.group === 'server1' && e.resource === 'nsm_notify'), 30_000, 'the service address restarted');
  const after = (await events('server2')).filter((e) => e.id > from);
  assert.ok(after.some((e) => e.kind === 'report' && /service address 198\.51\.100\.11 is no longer on sec/.test(e.message)),
    'the health check says why');
  assert.ok(after.some((e) => e.kind === 'resource' && e.op === 'start' && e.resource === 'service_ip' && e.ok));
  assert.match(await sh(onNode(prefix, 'server2', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'sec'])), /inet 198\.51\.100\.11\//);
  assert.is(await getFile(prefix, SRV1, 'kept.txt', 40_000), 'kept\n');
  assert.equal(sampler!.now().doubles, []);
});

test.run();
