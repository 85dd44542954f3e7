// The OCF resource agent ocf:hanfs:vserver (config/ocf/vserver, `hanfs ocf`) in the lab, run the ways Pacemaker's
// users check an agent: Debian's ocf-tester (every action, the negative ones included) and crm_resource's
// --force-start/--force-check/--force-stop against a CIB file; then what ocf-tester cannot provoke: a crashed NFS
// server, a file system that turned read-only (seen at depth 10 only), a stop that fails, a reload. The agent runs
// on server1 (in its network and mount namespaces) with the lab's configuration, for the group server1; no hanfs
// agent runs in this lab (`hanfs group start` brings both groups up, as an outside cluster manager would).
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { sh } from '../../lab/exec.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { labPath } from '../../lab/state.ts';
import { ownership } from '../../lab/inspect.ts';
import { processAlive } from '../../agent/sensors/process-alive.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const HANFS = join(ROOT, 'bin/hanfs');
const prefix = `ho${process.pid}`;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
const started = Date.now();

// The agent as scripts/install writes it, its hanfs command pointing at this checkout; readable by nobody too
// (ocf-tester runs meta-data as nobody).
const dir = mkdtempSync(join(tmpdir(), 'hanfs-ocf-lab-'));
chmodSync(dir, 0o755);
const AGENT = join(dir, 'resource.d/hanfs/vserver');

const config = () => labPath(prefix, 'server1.yaml');
const params = () => ({ group: 'server1', config: config(), node: 'server1' });
const envOf = (p: Record<string, string>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [`OCF_RESKEY_${k}`, v]));

interface Run { code: number; stdout: string; stderr: string }

/** Runs argv on server1 (its network and mount namespaces) with `env` added; never throws on a non-zero exit. */
function onServer1(argv: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Run> {
  const [cmd, ...args] = onNode(prefix, 'server1', argv);
  return new Promise((resolve) => {
    execFile(cmd!, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** One action of the agent, as Pacemaker runs it: a recurring monitor unless `probe`. */
function ra(action: string, opts: { depth?: number; probe?: boolean; extra?: Record<string, string> } = {}): Promise<Run> {
  return onServer1([AGENT, action], {
    ...envOf({ ...params(), ...opts.extra }),
    OCF_RESKEY_CRM_meta_interval: opts.probe ? '0' : '10000',
    ...(opts.depth !== undefined ? { OCF_CHECK_LEVEL: String(opts.depth) } : {}),
  });
}

async function ganeshaPid(): Promise<number> {
  return Number(readFileSync(labPath(prefix, 'server1-run/server1/ganesha.pid'), 'utf8').trim());
}

const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

test.before(async () => {
  await sh(['bash', join(ROOT, 'scripts/ensure-deps'), join(ROOT, 'scripts/pacemaker-packages.txt')], { timeoutMs: 600_000 });
  mkdirSync(join(dir, 'resource.d/hanfs'), { recursive: true });
  writeFileSync(join(dir, 'hanfs'), `#!/bin/sh\nexec ${process.execPath} ${HANFS} "$@"\n`, { mode: 0o755 });
  writeFileSync(AGENT, readFileSync(join(ROOT, 'config/ocf/vserver'), 'utf8').replace('@BINDIR@', dir), { mode: 0o755 });
  // Both groups up without the hanfs agents, each on its own server.
  const startServers = async (p: string) => {
    for (const s of ['server1', 'server2'] as const) {
      await sh(onNode(p, s, [process.execPath, HANFS, 'group', 'start', s, '--config', labPath(p, `${s}.yaml`), '--node', s]), { timeoutMs: 60_000 });
    }
  };
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000, startServers });
  console.log(`lab up: ${seconds()}`);
});

test.after(async () => {
  await labDown(prefix);
  rmSync(dir, { recursive: true, force: true });
  console.log(`ocf lab test: ${seconds()}`);
});

test('ocf-tester passes: meta-data against its DTD, validate-all, probes, start and stop twice each, monitor, reload', async () => {
  // It finds the group running (started above), stops it, and goes through every action.
  const args = Object.entries(params()).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
  const r = await onServer1(['ocf-tester', '-n', 'vs1', ...args, AGENT]);
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /passed all tests/);
  console.log(`ocf-tester: ${r.stdout.trim().split('\n').join(' / ')} (${seconds()})`);
  assert.is((await ra('monitor', { probe: true })).code, 7, 'ocf-tester leaves it stopped');
});

test('started, it serves the client; a crashed NFS server is a failed monitor (1), then stop and monitor 7', async () => {
  assert.is((await ra('start')).code, 0);
  await putFile(prefix, SRV1, 'ocf-one.txt', 'written through the OCF agent\n');
  assert.is(await getFile(prefix, SRV1, 'ocf-one.txt'), 'written through the OCF agent\n');
  assert.equal((await ownership(prefix)).addresses['198.51.100.11'], ['server1']);
  const pid = await ganeshaPid();
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  const failed = await ra('monitor');
  assert.is(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /ocf-exit-reason:group server1 partly running: Ganesha of group server1 is not running/);
  assert.is((await ra('stop')).code, 0);
  assert.is((await ra('monitor')).code, 7);
  assert.equal((await ownership(prefix)).addresses['198.51.100.11'] ?? [], []);
});

test('depth 10 sees a read-only file system that depth 0 does not; reload keeps the NFS server running', async () => {
  assert.is((await ra('start')).code, 0);
  assert.is((await ra('monitor', { depth: 10 })).code, 0);
  const srv = labPath(prefix, 'srv/server1');
  await sh(onNode(prefix, 'server1', ['mount', '-o', 'remount,ro', srv]));
  try {
    assert.is((await ra('monitor', { depth: 0 })).code, 0, 'LooksAlive: all there');
    const deep = await ra('monitor', { depth: 10 });
    assert.is(deep.code, 1, deep.stderr);
    assert.match(deep.stderr, /ocf-exit-reason:group server1 failed its depth-10 check: .*read-only/i);
  } finally {
    await sh(onNode(prefix, 'server1', ['mount', '-o', 'remount,rw', srv]));
  }
  const pid = await ganeshaPid();
  const reload = await ra('reload');
  assert.is(reload.code, 0, reload.stderr);
  assert.is(await ganeshaPid(), pid, 'reload does not restart the server');
  assert.ok(processAlive(pid));
  assert.is(await getFile(prefix, SRV1, 'ocf-one.txt'), 'written through the OCF agent\n');
});

test('a stop that cannot unmount (a mount nested in the export) is OCF_ERR_GENERIC; cleared, the stop succeeds', async () => {
  assert.is((await ra('monitor')).code, 0);
  const nested = labPath(prefix, 'srv/server1/nested');
  await sh(onNode(prefix, 'server1', ['mkdir', '-p', nested]));
  await sh(onNode(prefix, 'server1', ['mount', '-t', 'tmpfs', 'tmpfs', nested]));
  try {
    const stop = await ra('stop');
    assert.is(stop.code, 1, `${stop.stderr}`);
    // "target is busy", or the 10 s bound running out during the last umount.
    assert.match(stop.stderr, /ocf-exit-reason:stop server1: filesystem failed: umount \S+: (exit code 32: .*busy|timed out)/i);
  } finally {
    // What Pacemaker would fence; here the operator clears it and stops again.
    await sh(onNode(prefix, 'server1', ['umount', nested]));
  }
  assert.is((await ra('stop')).code, 0);
  assert.is((await ra('monitor', { probe: true })).code, 7);
});

test('crm_resource --force-start, --force-check (depth 0 and 10), --force-stop against a CIB file', async () => {
  const cib = join(dir, 'cib.xml');
  const nvpairs = Object.entries(params()).map(([k, v]) => `          <nvpair id="vs1-${k}" name="${k}" value="${v}"/>`).join('\n');
  writeFileSync(cib, `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources>
      <primitive id="vs1" class="ocf" provider="hanfs" type="vserver">
        <instance_attributes id="vs1-params">
${nvpairs}
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
`);
  // crm_resource looks for agents in /usr/lib/ocf/resource.d only: this directory goes there in server1's own mount
  // namespace (it never reaches the host's), gone with the namespace at lab down.
  await sh(onNode(prefix, 'server1', ['mount', '--bind', join(dir, 'resource.d'), '/usr/lib/ocf/resource.d']));
  const crm = (...args: string[]) => onServer1(['crm_resource', '-r', 'vs1', ...args], { CIB_file: cib });
  const startR = await crm('--force-start');
  assert.is(startR.code, 0, startR.stdout + startR.stderr);
  assert.match(startR.stdout, /Operation force-start for vs1 \(ocf:hanfs:vserver\) returned 0 \(ok\)/);
  assert.is((await crm('--force-check')).code, 0);
  const deep = await crm('--force-check=10');
  assert.is(deep.code, 0, deep.stdout + deep.stderr);
  await putFile(prefix, SRV1, 'ocf-crm.txt', 'written after crm_resource --force-start\n');
  assert.is(await getFile(prefix, SRV1, 'ocf-crm.txt'), 'written after crm_resource --force-start\n');
  const stopR = await crm('--force-stop');
  assert.is(stopR.code, 0, stopR.stdout + stopR.stderr);
  const check = await crm('--force-check');
  assert.match(check.stdout, /returned 7 \(not running\)/);
  console.log(`crm_resource: ${[startR, deep, stopR, check].map((r) => r.stdout.trim().split('\n')[0]).join(' / ')} (${seconds()})`);
});

test.run();
