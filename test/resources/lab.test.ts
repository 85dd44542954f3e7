// The resource layer for real, in the namespace lab (lab/topology.ts, this run's own prefix, documentation
// ranges only, nothing joined to the host's interfaces): server1's driver runs in server1's network namespace and
// a private mount namespace of this test (a child process entered with nsenter), its disk a loop device with a
// fresh ext4 under this test's temp dir; the client reads and writes through NFS-Ganesha with libnfs. Everything
// is removed in test.after, which uvu runs also when a test or the setup fails: Ganesha and every other process
// killed by PID, the mounts, the mount namespace, the loop device (by its name), the namespaces, the temp dir.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { processAlive } from '../../agent/sensors/process-alive.ts';
import { inNetns, sh, shQuiet } from '../../lab/exec.ts';
import { createNetwork, destroyNetwork, nsName } from '../../lab/topology.ts';
import { pairYaml } from './fixtures.ts';
import type { RanCommand, Request, Step } from './lab-child.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const prefix = `hanfs-r${process.pid}`;
const SERVICE_IP = '198.51.100.11';

let dir = '';
let mountPoint = '';
let runDir = '';
let nsDir = '';
let loopDevice = '';
let child: ChildProcessWithoutNullStreams | null = null;
let replies: AsyncIterator<string> | null = null;
/** Every process this test caused to exist, killed by PID in after. */
const ganeshaPids = new Set<number>();
const holderPids = new Set<number>();
const timings: Record<string, number> = {};
const fileName = `hello-${process.pid}.txt`;
const content = `written through NFS by ${process.pid}\n`;

async function ask<T>(req: Request): Promise<T> {
  child!.stdin.write(`${JSON.stringify(req)}\n`);
  const next = await replies!.next();
  if (next.done) throw new Error('the lab child ended');
  const reply = JSON.parse(next.value) as T & { exception?: string };
  if (reply.exception) throw new Error(`lab child: ${reply.exception}`);
  return reply;
}

interface GroupRun {
  steps: Step[];
  ms: number;
}

async function group(op: 'start' | 'stop'): Promise<GroupRun> {
  const run = await ask<GroupRun>({ do: 'group', op });
  const failed = run.steps.find((s) => !s.ok);
  assert.not.ok(failed, `${op} failed at ${failed?.kind}: ${failed?.error}`);
  await trackGanesha();
  return run;
}

async function ganeshaPid(): Promise<number | null> {
  const pid = Number((await readFile(join(runDir, 'server1', 'ganesha.pid'), 'utf8').catch(() => '')).trim());
  return processAlive(pid) ? pid : null;
}

async function trackGanesha(): Promise<void> {
  const pid = await ganeshaPid();
  if (pid !== null) ganeshaPids.add(pid);
}

/** A client command in the client's namespace; `ok: false` with the error on failure or timeout. */
async function client(argv: string[], timeoutMs = 5_000): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await sh(inNetns(nsName(prefix, 'client1'), argv), { timeoutMs }) };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

/** Retries while the server is in grace (libnfs exits at once on NFS4ERR_GRACE): a few seconds at most. */
async function clientRetrying(argv: string[], withinMs = 10_000): Promise<string> {
  const until = Date.now() + withinMs;
  for (;;) {
    const result = await client(argv);
    if (result.ok) return result.out;
    if (Date.now() > until) throw new Error(`client kept failing: ${result.out}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const url = (name: string) => `nfs://${SERVICE_IP}/srv1/${name}?version=4`;

async function serverShows(argv: string[]): Promise<{ code: number | null; stdout: string }> {
  return ask({ do: 'sh', argv });
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hanfs-resources-lab-'));
  mountPoint = join(dir, 'srv', 'server1');
  runDir = join(dir, 'run');
  nsDir = join(dir, 'mntns');
  await createNetwork(prefix);

  const image = join(dir, 'disk1.img');
  await writeFile(image, '');
  await sh(['truncate', '-s', '64M', image]);
  loopDevice = (await sh(['losetup', '--find', '--show', image])).trim();
  await sh(['mkfs.ext4', '-q', '-F', loopDevice]);

  // A mount namespace that outlives its processes: mounts made in it stay in it (none reach the host).
  await mkdir(nsDir);
  await sh(['mount', '--bind', nsDir, nsDir]);
  await sh(['mount', '--make-private', nsDir]);
  await writeFile(join(nsDir, 'ns'), '');
  await sh(['unshare', `--mount=${join(nsDir, 'ns')}`, '--propagation', 'slave', 'true']);

  const configs: Record<string, string> = { normal: join(dir, 'pair.yaml'), brokenMount: join(dir, 'broken-mount.yaml') };
  const options = { dir, device: loopDevice, mountPoint };
  await writeFile(configs.normal!, pairYaml(options));
  await writeFile(configs.brokenMount!, pairYaml({ ...options, commands: { mount: ['false'] } }));
  await writeFile(join(dir, fileName), content);

  child = spawn('nsenter', [
    `--mount=${join(nsDir, 'ns')}`, `--net=/run/netns/${nsName(prefix, 'server1')}`, `--wd=${ROOT}`,
    process.execPath, '--import', 'tsx', join(ROOT, 'test/resources/lab-child.ts'), JSON.stringify(configs), runDir,
  ], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  // A child that died makes writes to it fail with EPIPE: the next ask() reports that it ended.
  child.stdin.on('error', () => {});
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[lab child] ${chunk.toString()}`));
  replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
});

test.after(async () => {
  if (child) await Promise.race([ask({ do: 'idle' }).catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
  await trackGanesha().catch(() => {});
  for (const pid of [...ganeshaPids, ...holderPids]) {
    // Only what is still the process we started: its command line names this test's directory or is our sleep.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir) || (holderPids.has(pid) && cmdline.startsWith('sleep\0'))) process.kill(pid, 'SIGKILL');
  }
  if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  const nsFile = join(nsDir, 'ns');
  // Whatever is still mounted on the mount point inside the namespace (possibly stacked), then the namespace.
  for (let i = 0; i < 3 && (await shQuiet(['nsenter', `--mount=${nsFile}`, 'umount', mountPoint])); i++);
  await shQuiet(['umount', nsFile]);
  await shQuiet(['umount', nsDir]);
  if (loopDevice) await shQuiet(['losetup', '-d', loopDevice]);
  await destroyNetwork(prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
  if (Object.keys(timings).length > 0) console.log(`\n  resource timings (ms): ${JSON.stringify(timings)}`);
});

test("server1's group starts in order, and a client writes and reads a file through it", async () => {
  const run = await group('start');
  assert.equal(run.steps.map((s) => s.kind), ['log_replay', 'filesystem', 'nfs_server', 'exports', 'service_ip', 'arp', 'nsm_notify']);
  await ask({ do: 'idle' });
  const ran = await ask<RanCommand[]>({ do: 'commands' });
  timings.groupStart = run.ms;
  timings.ganeshaUntilListening = run.steps.find((s) => s.kind === 'nfs_server')!.ms;
  timings.serviceIp = run.steps.find((s) => s.kind === 'service_ip')!.ms;
  timings.arpingDad = ran.find((c) => c.line.startsWith('arping -D'))!.ms;
  assert.ok(ran.some((c) => c.line === `e2fsck -p -E journal_only ${loopDevice}`));
  const added = ran.findIndex((c) => c.line === `ip addr add ${SERVICE_IP}/24 dev pri`);
  assert.ok(added >= 0);
  assert.ok(ran.findIndex((c) => c.line.startsWith('arping -D')) > added, 'the duplicate-address probe ran before the address was added');
  assert.ok((await ganeshaPid()) !== null, 'no live Ganesha behind the pid file');

  await clientRetrying(['nfs-cp', join(dir, fileName), url(fileName)]);
  assert.is(await clientRetrying(['nfs-cat', url(fileName)]), content);
});

test('starting again is a no-op: same Ganesha, no fsck, mount or address change', async () => {
  const before = await ganeshaPid();
  await group('start');
  assert.is(await ganeshaPid(), before);
  const ran = (await ask<RanCommand[]>({ do: 'commands' })).map((c) => c.line);
  const changes = ran.filter((line) => /^(e2fsck|mount|ip addr add)/.test(line));
  assert.equal(changes, [], `ran: ${ran.join('; ')}`);
  assert.equal(await ask({ do: 'monitor' }), [{ group: 'server1', resource: 'nfs_server', ok: true, detail: `Ganesha PID ${before} runs` }]);
});

test('stopping in reverse takes the address, the server and the mount away; the client fails', async () => {
  await ask({ do: 'idle' });
  const run = await group('stop');
  timings.groupStop = run.ms;
  timings.ganeshaStop = run.steps.find((s) => s.kind === 'nfs_server')!.ms;
  assert.equal(run.steps.map((s) => s.kind), ['nsm_notify', 'arp', 'service_ip', 'exports', 'nfs_server', 'filesystem', 'log_replay']);
  assert.is(await ganeshaPid(), null);
  assert.not.ok((await serverShows(['ip', '-o', '-4', 'addr', 'show', 'dev', 'pri'])).stdout.includes(SERVICE_IP));
  assert.not.ok((await readMountinfoInNamespace()).includes(` ${mountPoint} `));
  assert.is((await client(['nfs-cat', url(fileName)], 3_000)).ok, false);
  assert.equal(await ask({ do: 'monitor' }), []);
});

async function readMountinfoInNamespace(): Promise<string> {
  return (await serverShows(['cat', '/proc/self/mountinfo'])).stdout;
}

test('started again, the file is still there with its content (after grace)', async () => {
  await ask({ do: 'commands' });
  await group('start');
  assert.is(await clientRetrying(['nfs-cat', url(fileName)]), content);
});

test('a Ganesha killed behind the driver is reported by monitor, and nfs_server start brings a new one', async () => {
  const dead = (await ganeshaPid())!;
  process.kill(dead, 'SIGKILL');
  const until = Date.now() + 3_000;
  let health: Array<{ ok: boolean; detail: string }> = [];
  while (Date.now() < until && (health = await ask({ do: 'monitor' }))[0]?.ok !== false) await new Promise((r) => setTimeout(r, 50));
  assert.equal(health, [{ group: 'server1', resource: 'nfs_server', ok: false, detail: `Ganesha of group server1 (PID ${dead}) has died` }]);
  const restart = await ask<Step>({ do: 'run', config: 'normal', kind: 'nfs_server', op: 'start' });
  assert.ok(restart.ok, restart.error);
  await trackGanesha();
  const fresh = await ganeshaPid();
  assert.ok(fresh !== null && fresh !== dead);
  assert.is(await clientRetrying(['nfs-cat', url(fileName)]), content);
});

test('another server on the NFS port: nfs_server start fails with what Ganesha logged', async () => {
  assert.ok((await ask<Step>({ do: 'run', config: 'normal', kind: 'nfs_server', op: 'stop' })).ok);
  await ask({ do: 'occupy', ip: SERVICE_IP, port: 2049 });
  try {
    const result = await ask<Step>({ do: 'run', config: 'normal', kind: 'nfs_server', op: 'start' });
    assert.is(result.ok, false);
    assert.match(result.error ?? '', /^Ganesha \(PID \d+\) exited while starting; its log \S+ganesha.log says: .*Address already in use.*FATAL/);
  } finally {
    await ask({ do: 'release' });
  }
  assert.ok((await ask<Step>({ do: 'run', config: 'normal', kind: 'nfs_server', op: 'start' })).ok);
  await trackGanesha();
});

test('a process keeping the mount busy is ended (TERM) and the disk unmounted', async () => {
  const { pid } = await ask<{ pid: number }>({ do: 'holder', cwd: mountPoint });
  holderPids.add(pid);
  assert.ok(processAlive(pid));
  await ask({ do: 'idle' });
  await group('stop');
  assert.not.ok(processAlive(pid), 'the process holding the mount survived');
  assert.not.ok((await readMountinfoInNamespace()).includes(` ${mountPoint} `));
});

test('someone else answering for the service address: the arp resource raises an alarm naming its MAC', async () => {
  const server2 = nsName(prefix, 'server2');
  const mac = /link\/ether (\S+)/.exec(await sh(['ip', '-n', server2, '-o', 'link', 'show', 'sec']))![1]!.toUpperCase();
  await sh(['ip', '-n', server2, 'addr', 'add', `${SERVICE_IP}/32`, 'dev', 'sec']);
  try {
    await ask({ do: 'logs' });
    assert.ok((await ask<Step>({ do: 'run', config: 'normal', kind: 'arp', op: 'start' })).ok);
    await ask({ do: 'idle' });
    const errors = (await ask<string[]>({ do: 'logs' })).filter((l) => l.startsWith('error: '));
    assert.equal(errors, [
      `error: ${SERVICE_IP} is also answered by another host (MAC ${mac}): two hosts answer for the service address; remove it from the other host`,
    ]);
  } finally {
    await sh(['ip', '-n', server2, 'addr', 'del', `${SERVICE_IP}/32`, 'dev', 'sec']);
  }
});

test('another file system in the way on the mount point: filesystem start refuses', async () => {
  const mounted = await serverShows(['mount', '-t', 'tmpfs', 'hanfs-in-the-way', mountPoint]);
  assert.is(mounted.code, 0);
  try {
    const result = await ask<Step>({ do: 'run', config: 'normal', kind: 'filesystem', op: 'start' });
    assert.is(result.ok, false);
    assert.match(result.error ?? '', new RegExp(`^${mountPoint} already has hanfs-in-the-way \\(device 0:\\d+\\) mounted on it, not ${loopDevice}`));
  } finally {
    await serverShows(['umount', mountPoint]);
  }
});

test('a mount template overridden to `false`: filesystem start fails with the command and its exit code', async () => {
  const result = await ask<Step>({ do: 'run', config: 'brokenMount', kind: 'filesystem', op: 'start' });
  assert.equal({ ok: result.ok, error: result.error }, { ok: false, error: 'false: exit code 1' });
});

test.run();
