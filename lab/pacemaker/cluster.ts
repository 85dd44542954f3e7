// A Pacemaker cluster lab: three server "machines" (n1, n2, n3) running Debian's corosync and pacemaker, and a
// client, on one bridge (198.51.100.0/24). Each machine is a network namespace plus a persistent mount namespace
// of its own (lab/machine.sh fresh-mountns: its own /run and sysfs), in which it also gets a private /dev/shm
// (libqb's IPC buffers), its own /var/lib/corosync and /var/lib/pacemaker (with a shared /run the second corosync
// refuses: "Another Corosync instance is already running"), and, through read-only overlays, the
// lab's fence agent in /usr/sbin and ocf:hanfs:vserver in /usr/lib/ocf/resource.d. The virtual server is the lab's
// group server1 (lab/config.ts writes the configuration, lab/disks.ts the loop devices every machine sees).
// Everything is recorded in the lab state as soon as it exists; clusterDown removes it all.
import { spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll } from '../agents.ts';
import { stopGuests } from '../guest/lifecycle.ts';
import { createSigningKeys, LAB_NFS, LAB_TIMING, type LabNfs, writeConfigs } from '../config.ts';
import { createDisks, destroyDisks } from '../disks.ts';
import { sh, shQuiet } from '../exec.ts';
import { MACHINE_SCRIPT, mountNsFile, onMachine, privateRunDir, removeRunDir } from '../mountns.ts';
import { labPath, readState, runDir, type LabState, writeState } from '../state.ts';
import { nsName } from '../topology.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
export const CLUSTER_NODES = ['n1', 'n2', 'n3'] as const;
export type ClusterNode = (typeof CLUSTER_NODES)[number];
const NODE_ADDRESS: Record<ClusterNode, string> = { n1: '198.51.100.21', n2: '198.51.100.22', n3: '198.51.100.23' };
const CLIENT_ADDRESS = '198.51.100.31/24';
/**
 * The bridge's namespace, PREFIX-neta as in the pair's lab, so that the kernel-client guests (lab/kernel-client.ts)
 * find it; each machine's port there is named after the machine (fence_hanfslab relies on it).
 */
const NET = 'neta';
const NAMESPACES = [...CLUSTER_NODES, 'client1', NET];
/** The lab's fence agent, overlaid onto /usr/sbin in each machine (where pacemaker-fenced looks). */
const FENCE_BIN = new URL('./bin/', import.meta.url).pathname;

/**
 * corosync's token timeout. With three nodes the token is 1650 ms (token_coefficient, 650 ms, for each node past
 * two), and consensus 1.2 × that: the membership without a lost machine came 3.5 s after its power-off.
 */
export const TOKEN_MS = 1000;

/** The lab state, with the PIDs of the daemons started (a record for inspection). */
function clusterState(prefix: string): LabState & { daemons?: Record<string, number> } {
  return (readState(prefix) ?? { prefix, loops: {}, agents: {} }) as LabState & { daemons?: Record<string, number> };
}

/** The argv that powers a machine off: the lab's switch (lab/machine.sh), as fence_hanfslab runs it. */
export function powerOffMachineArgv(prefix: string, node: ClusterNode): string[] {
  return ['bash', MACHINE_SCRIPT, 'power-off', nsName(prefix, node), mountNsFile(prefix, node), `${nsName(prefix, NET)}:${node}`];
}

async function createNetwork(prefix: string): Promise<void> {
  for (const n of NAMESPACES) {
    await sh(['ip', 'netns', 'add', nsName(prefix, n)]);
    await sh(['ip', '-n', nsName(prefix, n), 'link', 'set', 'lo', 'up']);
  }
  const net = nsName(prefix, NET);
  await sh(['ip', '-n', net, 'link', 'add', 'br0', 'type', 'bridge']);
  await sh(['ip', '-n', net, 'link', 'set', 'br0', 'up']);
  const ports: [string, string][] = [...CLUSTER_NODES.map((n) => [n, `${NODE_ADDRESS[n]}/24`] as [string, string]), ['client1', CLIENT_ADDRESS]];
  for (const [node, address] of ports) {
    const ns = nsName(prefix, node);
    // The interface is "pri", as in the lab's configuration (the group's address goes there) and in machine.sh.
    await sh(['ip', 'link', 'add', 'pri', 'netns', ns, 'type', 'veth', 'peer', 'name', node, 'netns', net]);
    await sh(['ip', '-n', net, 'link', 'set', node, 'master', 'br0', 'up']);
    await sh(['ip', '-n', ns, 'link', 'set', 'pri', 'up']);
    await sh(['ip', '-n', ns, 'addr', 'add', address, 'dev', 'pri']);
  }
  // Ganesha binds the service address before the group adds it.
  for (const n of CLUSTER_NODES) await sh(['ip', 'netns', 'exec', nsName(prefix, n), 'sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1']);
}

function corosyncConf(prefix: string, node: ClusterNode): string {
  const nodes = CLUSTER_NODES.map((n, i) => `  node {\n    name: ${n}\n    nodeid: ${i + 1}\n    ring0_addr: ${NODE_ADDRESS[n]}\n  }\n`);
  return `# The cluster lab "${prefix}" (lab/pacemaker/cluster.ts), machine ${node}.
totem {
  version: 2
  cluster_name: ${prefix}
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: ${TOKEN_MS}
}
nodelist {
${nodes.join('')}}
quorum {
  provider: corosync_votequorum
}
logging {
  to_logfile: yes
  logfile: ${labPath(prefix, `${node}-corosync.log`)}
  to_stderr: no
  to_syslog: no
  timestamp: hires
}
`;
}

/** hacluster's uid and gid: pacemaker's daemons run as that user and own /var/lib/pacemaker's directories. */
function hacluster(): { uid: number; gid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('hacluster:'));
  if (!passwd) throw new Error('no user hacluster: is pacemaker installed (scripts/pacemaker-packages.txt)?');
  const [, , uid, gid] = passwd.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function haclusterOwned(path: string): void {
  chownSync(path, hacluster().uid, hacluster().gid);
}

/** The machine's own state directories and the lab's agents, in its mount namespace. */
async function prepareMachine(prefix: string, node: ClusterNode): Promise<void> {
  await sh(['bash', MACHINE_SCRIPT, 'fresh-mountns', nsName(prefix, node), mountNsFile(prefix, node)]);
  const own = labPath(prefix, `${node}-var`);
  mkdirSync(join(own, 'corosync'), { recursive: true });
  for (const d of ['', 'cib', 'pengine', 'blackbox', 'cores']) {
    mkdirSync(join(own, 'pacemaker', d), { recursive: true, mode: 0o750 });
    haclusterOwned(join(own, 'pacemaker', d));
  }
  writeFileSync(join(own, 'corosync.conf'), corosyncConf(prefix, node));
  const on = (argv: string[]) => sh(onMachine(prefix, node, argv));
  await on(['mount', '-t', 'tmpfs', '-o', 'mode=1777', 'tmpfs', '/dev/shm']);
  await on(['mount', '--bind', join(own, 'corosync'), '/var/lib/corosync']);
  await on(['mount', '--bind', join(own, 'pacemaker'), '/var/lib/pacemaker']);
  await on(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${FENCE_BIN}:/usr/sbin`, '/usr/sbin']);
  await on(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${labPath(prefix, 'ocf')}:/usr/lib/ocf/resource.d`, '/usr/lib/ocf/resource.d']);
}

/** ocf:hanfs:vserver as scripts/install writes it, its hanfs command pointing at this checkout. */
function writeOcfAgent(prefix: string): void {
  const dir = labPath(prefix, 'ocf/hanfs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(labPath(prefix, 'hanfs'), `#!/bin/sh\nexec ${process.execPath} ${ROOT}bin/hanfs "$@"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'vserver'), readFileSync(`${ROOT}config/ocf/vserver`, 'utf8').replace('@BINDIR@', runDir(prefix)), { mode: 0o755 });
}

/** Starts a daemon in the machine's namespaces, its output to LABDIR/NODE-NAME.out; records its PID. */
function startDaemon(prefix: string, node: ClusterNode, name: string, argv: string[], env: Record<string, string> = {}): number {
  const out = openSync(labPath(prefix, `${node}-${name}.out`), 'a');
  const [cmd, ...args] = onMachine(prefix, node, argv);
  const child = spawn(cmd!, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  closeSync(out);
  child.unref();
  const state = clusterState(prefix);
  state.daemons = { ...state.daemons, [`${node}-${name}`]: child.pid! };
  writeState(state);
  return child.pid!;
}

async function bootMachine(prefix: string, node: ClusterNode): Promise<void> {
  startDaemon(prefix, node, 'corosync', ['corosync', '-f', '-c', labPath(prefix, `${node}-var/corosync.conf`)]);
  const log = labPath(prefix, `${node}-pacemaker.log`);
  writeFileSync(log, '');
  haclusterOwned(log);
  startDaemon(prefix, node, 'pacemakerd', ['pacemakerd'], { PCMK_logfile: log, PCMK_logfacility: 'none', PCMK_debug: 'no' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `crm_mon -1` on a machine (its text output). */
export function crmMon(prefix: string, node: ClusterNode): Promise<string> {
  return sh(onMachine(prefix, node, ['crm_mon', '-1']), { timeoutMs: 10_000 });
}

/** Waits until `crm_mon -1` on `node` matches `pattern`; returns its output. */
export async function waitCrmMon(prefix: string, node: ClusterNode, pattern: RegExp, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await crmMon(prefix, node).catch((err: Error) => err.message);
    if (pattern.test(last)) return last;
    if (Date.now() > end) throw new Error(`crm_mon on ${node} never matched ${pattern} within ${timeoutMs} ms:\n${last}`);
    await sleep(300);
  }
}

/**
 * The cluster's configuration, through the CIB: fencing on (power-off, by fence_hanfslab: one device for all three
 * machines), and the virtual server `vs1` (ocf:hanfs:vserver, group server1) preferring `home`.
 */
async function configure(prefix: string, on: ClusterNode, home: ClusterNode): Promise<void> {
  const run = (argv: string[]) => sh(onMachine(prefix, on, argv), { timeoutMs: 30_000 });
  const property = (name: string, value: string) => run(['crm_attribute', '--type', 'crm_config', '--name', name, '--update', value]);
  await property('stonith-enabled', 'true');
  await property('stonith-action', 'off');
  const attrs = (id: string, kv: Record<string, string>) =>
    `<instance_attributes id="${id}-params">${Object.entries(kv).map(([k, v]) => `<nvpair id="${id}-${k}" name="${k}" value="${v}"/>`).join('')}</instance_attributes>`;
  const fence = `<primitive id="fence-lab" class="stonith" type="fence_hanfslab">${attrs('fence-lab', {
    pcmk_host_list: CLUSTER_NODES.join(' '), pcmk_host_check: 'static-list', pcmk_reboot_action: 'off',
    prefix, labdir: runDir(prefix), bridge: nsName(prefix, NET), board: String(process.pid), machine: MACHINE_SCRIPT,
  })}<operations><op id="fence-lab-monitor" name="monitor" interval="60s"/></operations></primitive>`;
  const vserver = `<primitive id="vs1" class="ocf" provider="hanfs" type="vserver">${attrs('vs1', {
    group: 'server1', config: labPath(prefix, 'server1.yaml'),
  })}<operations>
    <op id="vs1-start" name="start" interval="0" timeout="120s"/>
    <op id="vs1-stop" name="stop" interval="0" timeout="60s"/>
    <op id="vs1-monitor" name="monitor" interval="10s" timeout="30s"/>
  </operations></primitive>`;
  await run(['cibadmin', '--create', '--scope', 'resources', '--xml-text', fence]);
  await run(['cibadmin', '--create', '--scope', 'resources', '--xml-text', vserver]);
  await run(['cibadmin', '--create', '--scope', 'constraints', '--xml-text',
    `<rsc_location id="vs1-prefers-${home}" rsc="vs1" node="${home}" score="100"/>`]);
}

/**
 * Brings the cluster lab up: network, disks and the group's configuration, the three machines with corosync and
 * pacemaker, fencing and the virtual server, which runs on the node `home` picks (given the DC) when this returns;
 * returns that node. `nfs`: the group's NFSv4 lease and grace (KERNEL_CLIENT_NFS where a kernel client sits idle).
 */
export async function clusterUp(prefix: string, home: (dc: ClusterNode) => ClusterNode, timeoutMs = 90_000, nfs: LabNfs = LAB_NFS): Promise<ClusterNode> {
  if (readState(prefix)) throw new Error(`lab "${prefix}" is already up`);
  const state: LabState = { prefix, loops: {}, agents: {} };
  try {
    await privateRunDir(prefix);
    writeState(state);
    await createNetwork(prefix);
    await createDisks(state);
    writeFileSync(labPath(prefix, 'secret'), `${prefix}-lab-secret-${Date.now()}\n`, { mode: 0o600 });
    writeConfigs(state, await createSigningKeys(prefix), 'manual', LAB_TIMING, nfs, false);
    writeOcfAgent(prefix);
    for (const n of CLUSTER_NODES) await prepareMachine(prefix, n);
    for (const n of CLUSTER_NODES) await bootMachine(prefix, n);
    const up = await waitCrmMon(prefix, 'n1', /Online: \[ n1 n2 n3 \]/, timeoutMs);
    const dc = /Current DC: (n\d)/.exec(up)?.[1] as ClusterNode | undefined;
    if (!dc) throw new Error(`crm_mon names no DC:\n${up}`);
    const chosen = home(dc);
    await configure(prefix, 'n1', chosen);
    await waitCrmMon(prefix, 'n1', new RegExp(`vs1\\s+\\(ocf:hanfs:vserver\\):\\s+Started ${chosen}`), timeoutMs);
    // Settled: no action left in flight. In two runs without this wait, the surviving DC asked for the fence 67 and
    // 70 s after the power-off instead of about 1.1 s after the new membership; in one of them (the other did not
    // record it) crm_mon had not shown the fence device Started before the power-off. The cause is not confirmed:
    // an action still in flight on the lost machine, waited for until it timed out, would explain it.
    await waitCrmMon(prefix, 'n1', /fence-lab\s+\(stonith:fence_hanfslab\):\s+Started n\d/, timeoutMs);
    await sh(onMachine(prefix, 'n1', ['crm_resource', '--wait', `--timeout=${Math.round(timeoutMs / 1000)}s`]), { timeoutMs: timeoutMs + 5000 });
    return chosen;
  } catch (err) {
    const tails = await Promise.all(CLUSTER_NODES.map((n) => sh(['tail', '-n', '15', labPath(prefix, `${n}-pacemaker.log`)]).catch(() => '')));
    const corosync = await sh(['tail', '-n', '5', labPath(prefix, 'n1-corosync.log')]).catch(() => '');
    await clusterDown(prefix);
    throw new Error(`${(err as Error).message}\n--- n1-corosync.log\n${corosync}\n${CLUSTER_NODES.map((n, i) => `--- ${n}-pacemaker.log\n${tails[i]}`).join('\n')}`);
  }
}

/** Removes everything of the cluster lab that exists: processes (by PID), namespaces, mounts, loop devices. */
export async function clusterDown(prefix: string): Promise<void> {
  const state = readState(prefix);
  // Kernel-client guests first: their QEMU lives in the bridge's namespace.
  await stopGuests(prefix);
  // Every daemon (and the Ganesha a start ran) lives in its machine's network namespace: killed by the PIDs that
  // namespace holds. The PIDs recorded at start are not killed again: a powered-off machine's may have been reused.
  for (const n of NAMESPACES) await killAll(prefix, n);
  const existing = new Set((await sh(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0]));
  for (const n of NAMESPACES) if (existing.has(nsName(prefix, n))) await shQuiet(['ip', 'netns', 'del', nsName(prefix, n)]);
  for (const n of CLUSTER_NODES) if (existsSync(mountNsFile(prefix, n))) await shQuiet(['umount', '-l', mountNsFile(prefix, n)]);
  await destroyDisks(prefix, state);
  await removeRunDir(prefix);
}
