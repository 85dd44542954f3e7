// The "Deploy on two servers" guide (docs/deploy.md), followed step by step from a tarball made by npm pack, in the
// lab's network namespaces: the tarball unpacked and installed as the guide says (into a temporary prefix), then
// only the INSTALLED hanfs: the secret and the keys, `hanfs config init`, `hanfs config check` on each server,
// `hanfs disk init`, the agents started with the installed unit's command line, `hanfs status`, the planned
// takeover and reintegration, then a real failover (server1 powered off) and its reintegration, with a libnfs client
// reading each export through its service address after every move.
//
// The lab's two servers play nfs-a and nfs-b: each its own network namespace and mount namespace, in which its own
// /etc/hanfs, /var/lib/hanfs and /run/hanfs (per-server directories bound there) hold what a machine keeps, so that the
// one configuration file uses the guide's default paths on both. The lab's loop devices are the shared disks and the
// mailbox, seen by both under the same path. What a namespace cannot do is said where the guide does it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentStatus } from '../../agent/operate/status.ts';
import type { TimelineEntry } from '../../agent/operate/timeline.ts';
import { ensureAddress, powerOff } from '../../lab/agents.ts';
import { exportUrl, getFile } from '../../lab/client.ts';
import type { Server } from '../../lab/config.ts';
import { createDisks } from '../../lab/disks.ts';
import { sh } from '../../lab/exec.ts';
import { labDown } from '../../lab/lifecycle.ts';
import { createMountNs, onNode, privateRunDir } from '../../lab/mountns.ts';
import { labPath, readState, writeState } from '../../lab/state.ts';
import { createNetwork, nsName, SECONDARY_ADDRESS, SERVICE_ADDRESS, setPort } from '../../lab/topology.ts';
import { waitUntil } from '../../lab/wait.ts';
import { captured, type CliResult } from '../cli/fixtures.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const prefix = `hd${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'hanfs-deploy-guide-'));
/** The hanfs command as the guide's install leaves it (PREFIX/bin/hanfs). */
const HANFS = join(work, 'usr/bin/hanfs');
const SERVERS = ['server1', 'server2'] as const;
const NAME: Record<Server, string> = { server1: 'nfs-a', server2: 'nfs-b' };
/** What each machine keeps of its own: configuration and keys, state, runtime files. */
const MACHINE_DIRS = ['/etc/hanfs', '/var/lib/hanfs', '/run/hanfs'];
/** Those of MACHINE_DIRS this test had to create on the host as mount points (removed at the end). */
const createdOnHost: string[] = [];
const EXPORTS = { server1: { pseudo: '/a', clients: '198.51.100.0/24' }, server2: { pseudo: '/b', clients: '203.0.113.0/24' } };
const url = (server: Server) => exportUrl(SERVICE_ADDRESS[server].split('/')[0]!, EXPORTS[server].pseudo);
const publicKeys: Partial<Record<Server, string>> = {};
let agentArgv: string[] = [];
let broken: string | null = null;
// The agents read their configuration where the guide puts it, not where a developer's shell may point.
delete process.env.HANFS_CONFIG;

/** A step of the guide: once one fails, the steps after it say so instead of failing on its leftovers. */
function step(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    if (broken) throw new Error(`not run: "${broken}" failed`);
    const started = Date.now();
    try {
      await body();
    } catch (err) {
      broken = name;
      throw err;
    }
    console.log(`  ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}

/** The installed hanfs on a server, as root there: exit code and output. */
function hanfs(server: Server, args: string[]): Promise<CliResult> {
  return captured(onNode(prefix, server, [HANFS, ...args]));
}

async function ok(server: Server, args: string[]): Promise<string> {
  const r = await hanfs(server, args);
  assert.is(r.code, 0, `hanfs ${args.join(' ')} on ${NAME[server]}: ${r.stderr}`);
  return r.stdout;
}

async function status(server: Server): Promise<{ code: number | null; st: AgentStatus | null }> {
  const r = await hanfs(server, ['status', '--json']);
  return { code: r.code, st: r.code === 3 ? null : (JSON.parse(r.stdout) as AgentStatus) };
}

const phaseIs = (server: Server, phase: string) => async () => (await status(server)).st?.phase === phase;
const healthy = async () => (await status('server1')).code === 0 && (await status('server2')).code === 0;

/** The agents' last log lines, for a wait that timed out. */
function agentLogs(): string {
  return SERVERS.map((s) => {
    const log = labPath(prefix, `${s}.log`);
    return `--- ${NAME[s]}'s agent\n${existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-12).join('\n') : '(no log)'}`;
  }).join('\n');
}

function until(what: () => Promise<boolean>, ms: number, why: string): Promise<void> {
  return waitUntil(what, ms, why, agentLogs, 200);
}

/** A machine's own directory standing for `dir` (one of MACHINE_DIRS). */
const machineDir = (server: Server, dir: string) => labPath(prefix, `${server}-root${dir}`);

/**
 * What a machine has when it boots: its own /etc/hanfs and /var/lib/hanfs (kept across boots, as on its root disk)
 * and an empty /run/hanfs (a tmpfs), bound into its mount namespace, which the lab makes anew at each power-off.
 */
async function machineBoots(server: Server): Promise<void> {
  for (const dir of MACHINE_DIRS) {
    const own = machineDir(server, dir);
    if (dir.startsWith('/run/')) rmSync(own, { recursive: true, force: true });
    mkdirSync(own, { recursive: true, mode: 0o700 });
    await sh(onNode(prefix, server, ['mkdir', '-p', dir]));
    await sh(onNode(prefix, server, ['mount', '--bind', own, dir]));
  }
}

/**
 * §6's `systemctl enable --now hanfs-agent`: no systemd in a namespace, so the installed unit's ExecStart runs as
 * the service would, with the machine's host name (in a UTS namespace of its own): the agent picks its node by it.
 * First the OS brings up the secondary address, never the primary (§5). Its PID goes into the lab's state, so that
 * the lab's removal kills it.
 */
async function startAgent(server: Server): Promise<void> {
  await ensureAddress(prefix, server, 'sec', SECONDARY_ADDRESS[server]);
  const log = openSync(labPath(prefix, `${server}.log`), 'a');
  const argv = onNode(prefix, server, ['unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', NAME[server], ...agentArgv]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const state = readState(prefix)!;
  state.agents[server] = child.pid!;
  writeState(state);
}

/** What a client reads of the file on the server's disk, through the server's service address (libnfs, NFSv4). */
function clientReads(server: Server): Promise<string> {
  // NFSv4 opens wait out the grace period after each move (10 s by default): getFile retries until then.
  return getFile(prefix, url(server), 'guide.txt', 30_000);
}

test.after(async () => {
  await labDown(prefix);
  for (const dir of createdOnHost.reverse()) {
    try {
      rmdirSync(dir);
    } catch { /* not empty: not ours any more */ }
  }
  rmSync(work, { recursive: true, force: true });
});

step('§2 install: npm pack, unpacked, scripts/ensure-deps and scripts/install into a temporary prefix', async () => {
  // "From a checkout ... or an unpacked release tarball (npm pack makes one)": prepack builds dist/ if it is stale.
  const pack = await captured(['npm', 'pack', '--pack-destination', work, '--json'], ROOT);
  assert.is(pack.code, 0, pack.stderr);
  const tarball = join(work, (JSON.parse(pack.stdout) as [{ filename: string }])[0].filename);
  await sh(['tar', 'xzf', tarball, '-C', work]);
  const unpacked = join(work, 'package');
  assert.not.ok(existsSync(join(unpacked, 'agent')), 'a release: the compiled program, no sources');
  // ensure-deps: the Debian packages a server needs (all there already on a machine that runs the lab, so apt-get
  // is not reached) and the production npm dependencies, the native addons built against /usr's Node headers.
  await sh(['bash', join(unpacked, 'scripts/ensure-deps')], { timeoutMs: 300_000 });
  await sh(['bash', join(unpacked, 'scripts/install'), '--prefix', join(work, 'usr'), '--sysconfdir', join(work, 'etc'),
    '--unitdir', join(work, 'units'), '--ocfdir', join(work, 'ocf')], { timeoutMs: 120_000 });
  const version = await captured([HANFS, '--version']);
  assert.is(version.stdout.trim(), (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  // What systemctl would run: the installed unit's command line.
  const unit = readFileSync(join(work, 'units/hanfs-agent.service'), 'utf8');
  agentArgv = unit.match(/^ExecStart=(.*)$/m)![1]!.split(' ');
  assert.equal(agentArgv, [HANFS, 'agent', '--config', '/etc/hanfs/pair.yaml']);

  // The lab's machines: two servers and a client on two networks, the shared disks, each server's mount namespace.
  await privateRunDir(prefix);
  writeState({ prefix, loops: {}, agents: {} });
  await createNetwork(prefix);
  await createDisks(readState(prefix)!);
  for (const dir of MACHINE_DIRS) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      createdOnHost.push(dir);
    }
  }
  for (const server of SERVERS) {
    await createMountNs(prefix, server);
    await machineBoots(server);
    // `sysctl --system` with the installed 90-hanfs.conf: net.* settings are the network namespace's own.
    await sh(['ip', 'netns', 'exec', nsName(prefix, server), 'sysctl', '-q', '-p', join(work, 'etc/sysctl.d/90-hanfs.conf')]);
  }
  // `systemctl mask nfs-ganesha.service nfs-server.service nfsdcld.service`: no systemd in a namespace, nothing to mask.
});

step('§3 keys: the secret made on nfs-a and copied to nfs-b, a signing key made on each', async () => {
  assert.is((await ok('server1', ['secret', 'generate'])).trim(), 'wrote /etc/hanfs/secret');
  // scp -p nfs-a:/etc/hanfs/secret nfs-b:/etc/hanfs/secret: here the machines' directories are on one host.
  await sh(['cp', '-p', join(machineDir('server1', '/etc/hanfs'), 'secret'), join(machineDir('server2', '/etc/hanfs'), 'secret')]);
  for (const server of SERVERS) {
    const printed = (await ok(server, ['key', 'generate'])).trim();
    assert.match(printed, /^publicKey: [A-Za-z0-9_-]{43}$/);
    publicKeys[server] = printed.split(' ')[1]!;
  }
});

step('§4 configuration: hanfs config init on nfs-a, copied to nfs-b, hanfs config check on each', async () => {
  const { loops } = readState(prefix)!;
  const node = (server: Server, disk: string) => [
    '--node', NAME[server], '--public-key', publicKeys[server]!,
    '--primary', `pri=${SERVICE_ADDRESS[server]}`, '--secondary', `sec=${SECONDARY_ADDRESS[server]}`,
    // The mount point: a directory of the lab's (the agent creates it), not /export on this host's root.
    '--disk', disk, '--mount-point', labPath(prefix, `export/${NAME[server]}`),
    '--pseudo', EXPORTS[server].pseudo, '--clients', EXPORTS[server].clients,
  ];
  // The watchdog: the guide's /dev/watchdog from softdog would reset this host (modprobe softdog is not for a
  // test): the agent pets a file of its machine's instead, with the lab's 1 s timeout.
  const init = await ok('server1', ['config', 'init', '--pair', 'prod-nfs', '--mailbox', loops.mailbox!,
    '--watchdog', '/run/hanfs/watchdog', '--watchdog-timeout', '1000',
    ...node('server1', loops.disk1!), ...node('server2', loops.disk2!), '--out', '/etc/hanfs/pair.yaml']);
  assert.is(init, 'wrote /etc/hanfs/pair.yaml\n');
  const written = join(machineDir('server1', '/etc/hanfs'), 'pair.yaml');
  assert.ok(readFileSync(written, 'utf8').split('\n').length <= 25, 'the smallest configuration');
  await sh(['cp', '-p', written, join(machineDir('server2', '/etc/hanfs'), 'pair.yaml')]);
  for (const server of SERVERS) {
    const check = await hanfs(server, ['config', 'check', '/etc/hanfs/pair.yaml']);
    assert.is(check.code, 0, check.stderr);
    // Notes only (exit 0), among them whose key this server holds.
    assert.ok(check.stderr.split('\n').includes(`/etc/hanfs/pair.yaml: note: signing key /etc/hanfs/signing.key is node ${NAME[server]}'s`), check.stderr);
  }
});

step('§5–§6 start: hanfs disk init once, both agents, hanfs status healthy on both; each export read by a client', async () => {
  // Data on each disk, as a real pair has before it is made highly available; world-readable, since the exports
  // squash root (their default). The firewall of §5 has nothing to open in the lab: no rules in its namespaces.
  const { loops } = readState(prefix)!;
  for (const [server, disk] of [['server1', loops.disk1!], ['server2', loops.disk2!]] as const) {
    const file = join(work, `${server}.txt`);
    writeFileSync(file, `${NAME[server]}'s data\n`, { mode: 0o644 });
    await sh(['debugfs', '-w', '-R', `write ${file} guide.txt`, disk]);
  }
  await ok('server1', ['disk', 'init', loops.mailbox!, '--pair', 'prod-nfs', '--nodes', 'nfs-a,nfs-b', '--config', '/etc/hanfs/pair.yaml']);
  for (const server of SERVERS) await startAgent(server);
  await until(healthy, 60_000, 'hanfs status: healthy on both (exit 0)');
  for (const server of SERVERS) {
    const { st } = await status(server);
    assert.equal([st!.node, st!.phase, st!.partner.phase], [NAME[server], 'normal', 'normal']);
    // §5 "Clients mount the service address, hard": a kernel mount is the lab's guest (kernel-client.test.ts);
    // here libnfs reads through the same address and path.
    assert.is(await clientReads(server), `${NAME[server]}'s data\n`);
  }
});

step('§7 a planned move: hanfs takeover on nfs-b, then hanfs reintegrate on nfs-a', async () => {
  await ok('server2', ['takeover']);
  await until(async () => (await phaseIs('server2', 'serving_both')()) && (await phaseIs('server1', 'fenced')()), 60_000, 'nfs-b serving both, nfs-a fenced');
  assert.is(await clientReads('server1'), "nfs-a's data\n", "nfs-a's export, served by nfs-b at nfs-a's address");
  await ok('server1', ['reintegrate']);
  await until(healthy, 60_000, 'both healthy again after the reintegration');
  assert.is(await clientReads('server1'), "nfs-a's data\n");
});

step('§7 a real one: nfs-a powered off, nfs-b takes its group over; nfs-a back, fenced, until hanfs reintegrate', async () => {
  const crash = await powerOff(prefix, 'server1');
  await until(phaseIs('server2', 'serving_both'), 60_000, 'nfs-b serving both after nfs-a lost power');
  console.log(`  nfs-a powered off → nfs-b serving both: ${Date.now() - crash} ms`);
  const events = (await ok('server2', ['events', '--json'])).trim().split('\n').map((line) => JSON.parse(line) as TimelineEntry);
  assert.ok(events.some((e) => e.kind === 'move' && e.move === 'takeover' && e.completed), 'the takeover in hanfs events');
  assert.is(await clientReads('server1'), "nfs-a's data\n");
  assert.is(await clientReads('server2'), "nfs-b's data\n");

  // Power back on: links up, the machine's directories, the agent as systemd starts it at boot.
  for (const net of ['neta', 'netb'] as const) await setPort(prefix, 'server1', net, true);
  await machineBoots('server1');
  await startAgent('server1');
  await until(phaseIs('server1', 'fenced'), 30_000, 'nfs-a back, fenced');
  await ok('server1', ['reintegrate']);
  await until(healthy, 60_000, 'both healthy after the reintegration');
  assert.is(await clientReads('server1'), "nfs-a's data\n");
});

test.run();
