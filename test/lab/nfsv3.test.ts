// NFSv3 with NLM locks from a real Linux kernel client (issue 15). server1's group serves NFSv3 too
// (nodes.server1.protocols: [3, 4]; server2's stays NFSv4 only); a QEMU guest with rpcbind and rpc.statd hard-mounts
// 198.51.100.11:/srv1 with vers=3, writes, fsyncs and reads back new files, keeps a file open, streams reads and holds
// an fcntl lock and a flock (which Linux sends to the server as an NLM lock too), while server1 is powered off and
// server2 takes its group over, and again while server1 comes back fenced and is reintegrated (`hanfs reintegrate`).
//
// What must hold: no operation fails (a hard mount waits), every fsync'ed write is there afterwards (read back by the
// guest, and listed on server1's disk), both locks are kept. And the way they are kept: after each move the new
// owner notified the guest (the group's NSM state number raised, its list on the group's disk retired: the guest
// answered), the guest reclaimed its locks (its SM_MON on the new owner put it back on the list) within Ganesha's
// grace period, and a second party (an NFSv4.1 client, lab/swarm/lock-probe.ts) asking right after each move for a
// conflicting lock was held off during grace and refused after it. One guest, one lab, both moves.
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseOf, powerOff, powerOn } from '../../lab/agents.ts';
import { LAB_NFS, srvDir, type Server } from '../../lab/config.ts';
import { sh } from '../../lab/exec.ts';
import { KernelClient } from '../../lab/kernel-client.ts';
import { parseOps } from '../../lab/guest/results.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { reintegrate, waitPhase } from '../../lab/scenarios/harness.ts';
import { labPath } from '../../lab/state.ts';
import { probeLocks } from '../../lab/swarm/in-lab.ts';
import type { ProbeAnswer } from '../../lab/swarm/lock-probe.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `hv${process.pid}`;
const LOCK_FILES = ['flock.dat', 'fcntl.dat'];
let client: KernelClient | undefined;

/** The group's NSM directory on its disk, as the server that has it mounted sees it. */
const nsmPath = (sub: string) => `${srvDir(prefix, 'server1')}/.hanfs/nsm/${sub}`;

/** What the group's NSM directory says, read on the server that has its disk: state number, listed clients, unanswered ones. */
async function nsmState(on: Server): Promise<{ state: number; listed: string[]; unanswered: string[]; listedAtMs: number | null }> {
  const script = `od -An -tu4 ${nsmPath('state')} 2>/dev/null; echo ---; ls ${nsmPath('sm')}; echo ---; ls ${nsmPath('sm.bak')}; echo ---; `
    + `stat -c %.3Y ${nsmPath('sm')}/* 2>/dev/null | sort -n | tail -1`;
  const [state = '', listed = '', unanswered = '', listedAt = ''] = (await sh(onNode(prefix, on, ['sh', '-c', script]))).split('---\n');
  const words = (text: string) => text.split(/\s+/).filter(Boolean);
  return {
    state: Number(state.trim() || 0), listed: words(listed), unanswered: words(unanswered),
    listedAtMs: listedAt.trim() ? Math.round(Number(listedAt.trim()) * 1000) : null,
  };
}

/** When the agent on `server` finished starting `resource` of server1's group, after `since` (ms), from its log. */
async function startedAt(server: Server, resource: string, since: number): Promise<number> {
  const lines = (await readFile(labPath(prefix, `${server}.log`), 'utf8')).split('\n');
  const done = lines.flatMap((l) => {
    try {
      const j = JSON.parse(l) as { message?: string; timestamp?: string };
      const at = Date.parse(j.timestamp ?? '');
      return j.message?.startsWith(`start server1/${resource}: done`) && at >= since ? [at] : [];
    } catch {
      return [];
    }
  });
  if (done.length === 0) throw new Error(`${server} never finished starting server1/${resource} after ${new Date(since).toISOString()}`);
  return done[0]!;
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000, nfs: { ...LAB_NFS, nfsv3: 'server1' } });
  const bootFrom = Date.now();
  client = await KernelClient.boot(prefix, 'neta', '3');
  console.log(`    guest ${client.label} booted and mounted in ${Date.now() - bootFrom} ms`);
});

test.after(async () => {
  await labDown(prefix); // stops the guest too
});

test('server1 registers NFSv3, MOUNT and NLM with its rpcbind at the fixed ports; server2 serves NFSv4 only', async () => {
  const registered = (text: string) => text.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w[2] === 'tcp').map((w) => `${w[0]} v${w[1]} ${w[3]}`);
  const server1 = registered(await sh(onNode(prefix, 'server1', ['rpcinfo', '-p', '127.0.0.1'])));
  for (const entry of ['100003 v3 2049', '100005 v3 20048', '100021 v4 32803', '100024 v1']) {
    assert.ok(server1.some((r) => r.startsWith(entry)), `server1's rpcbind lists ${entry}: ${server1.join(', ')}`);
  }
  const v4only = (await readFile(labPath(prefix, 'server2-run/server2/ganesha.conf'), 'utf8'));
  assert.ok(v4only.includes('Enable_NLM = false;'), 'server2 stays NFSv4 only');
});

test('the NFSv3 kernel client keeps its fcntl lock and flock through the takeover and the failback, and loses nothing', async () => {
  const c = client!;
  const started = await c.begin();
  const dir = c.lines().find((l) => l.startsWith('started dir='))?.split('dir=/mnt/')[1];
  assert.ok(dir, 'the workload says where it writes');
  const lockFiles = LOCK_FILES.map((f) => `${dir}/${f}`);
  await c.everyLoopSucceeded(started, 3);
  const before = await nsmState('server1');
  assert.equal(before.listed, ['198.51.100.101'], 'server1 monitors the guest, and its record is on the group disk');
  const probes: Record<string, Record<string, ProbeAnswer>> = { 'before the takeover': await probeLocks(prefix, '/srv1', lockFiles) };
  assert.equal(Object.values(probes['before the takeover']!).map((a) => a.answer), ['locked', 'locked'], 'the second party sees both locks');

  /**
   * One move of the group to `owner`: `act` moves it and returns the instant the move is timed from, once the group is
   * online there. The second party asks at once, while the group's grace period runs, as the workload recovers.
   */
  const move = async (owner: Server, act: () => Promise<number>) => {
    const mark = c.mark();
    const from = await act();
    const onlineMs = Date.now() - from;
    const [probe] = await Promise.all([probeLocks(prefix, '/srv1', lockFiles), c.everyLoopSucceeded(mark, 5)]);
    return {
      mark, onlineMs, backMs: Date.now() - from, probe, nsm: await nsmState(owner),
      serverStart: await startedAt(owner, 'nfs_server', from), notified: await startedAt(owner, 'nsm_notify', from),
    };
  };
  // The takeover: server1 powered off, server2 takes its group and notifies the guest.
  const takeover = await move('server2', async () => {
    const darkAt = await powerOff(prefix, 'server1');
    await waitUntil(async () => (await phaseOf(prefix, 'server2')) === 'serving_both', 30_000, 'server2 serving both');
    return darkAt;
  });
  probes['after the takeover'] = takeover.probe;
  await powerOn(prefix, 'server1');
  // The failback: `hanfs reintegrate`, server2 hands the group back, server1 notifies the guest.
  await waitPhase(prefix, 'server1', 'fenced');
  const failback = await move('server1', async () => {
    const askedAt = Date.now();
    await reintegrate(prefix, 'server1'); // asks, waits for both normal
    return askedAt;
  });
  probes['after the failback'] = failback.probe;
  const endMark = c.mark();

  const takeoverPhase = c.phase(takeover.mark, failback.mark);
  const failbackPhase = c.phase(failback.mark, endMark);
  const trial = await c.end();
  const reclaim = (m: typeof takeover) => `notified ${m.notified - m.serverStart} ms after Ganesha started, reclaimed (SM_MON) `
    + `${m.nsm.listedAtMs === null ? '?' : m.nsm.listedAtMs - m.serverStart} ms after (grace ${LAB_NFS.graceSeconds * 1000} ms)`;
  const probeLine = (m: string) => Object.entries(probes[m]!).map(([f, a]) => `${f.split('/')[1]} ${a.answer} after ${a.graceAnswers} × NFS4ERR_GRACE`).join(', ');
  console.log(`    takeover: crash → server2 serving both ${takeover.onlineMs} ms; every loop working again ${takeover.backMs} ms; longest stall ${takeoverPhase.longestStallMs} ms (${takeoverPhase.longestStallStream})`);
  console.log(`      NSM state ${before.state} → ${takeover.nsm.state}; ${reclaim(takeover)}; second party: ${probeLine('after the takeover')}`);
  console.log(`    failback: hanfs reintegrate → both normal ${failback.onlineMs} ms; every loop working again ${failback.backMs} ms; longest stall ${failbackPhase.longestStallMs} ms (${failbackPhase.longestStallStream})`);
  console.log(`      NSM state ${takeover.nsm.state} → ${failback.nsm.state}; ${reclaim(failback)}; second party: ${probeLine('after the failback')}`);
  console.log(`    ${trial.ops} operations, ${trial.failed} failed; ${trial.fsynced} fsync'ed writes, ${trial.lost} lost; locks ${trial.locks}`);

  assert.is(trial.failed, 0, `failed operations: ${trial.failures.join(', ')}`);
  assert.is(trial.lost, 0, "fsync'ed writes lost");
  assert.ok(trial.locksKept, `locks: ${trial.locks}`);
  for (const [moment, m, was] of [['takeover', takeover, before], ['failback', failback, takeover.nsm]] as const) {
    assert.ok(m.nsm.state > was.state, `${moment}: the group's NSM state number raised (${was.state} → ${m.nsm.state})`);
    assert.equal(m.nsm.unanswered, [], `${moment}: every client on the list answered the notification`);
    assert.equal(m.nsm.listed, ['198.51.100.101'], `${moment}: the guest reclaimed on the new owner (back on the list)`);
    assert.ok(m.nsm.listedAtMs !== null && m.nsm.listedAtMs >= m.notified - 1000, `${moment}: the reclaim came with the notification`);
    assert.ok(m.nsm.listedAtMs! - m.serverStart < LAB_NFS.graceSeconds * 1000, `${moment}: the reclaim within grace`);
  }
  for (const moment of ['after the takeover', 'after the failback']) {
    assert.equal(Object.values(probes[moment]!).map((a) => a.answer), ['locked', 'locked'], `the second party is refused both locks ${moment}`);
  }

  // Every acknowledged new file is on the disk server1 serves again, seen from server1 itself.
  const written = parseOps(c.lines().slice(started)).filter((o) => o.op === 'write' && o.ok).map((o) => o.file);
  const onDisk = new Set((await sh(onNode(prefix, 'server1', ['ls', `${srvDir(prefix, 'server1')}/${dir}`]))).split('\n'));
  assert.equal(written.filter((f) => !onDisk.has(f)), [], 'acknowledged files missing on the disk');
  assert.ok(written.length > 0);
});

test.run();
