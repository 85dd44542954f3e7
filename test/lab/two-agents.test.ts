// Two real agents, each in its own network namespace (created by this test, documentation ranges only), exchanging
// real heartbeats and ICMP and sharing a mailbox file: they find each other, report a cut network as a network
// failure, and one takes the other over when it is killed and its addresses are gone. Resource actions are a dry
// run here (the resource layer has its own lab tests), so the test brings the service addresses up itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { generateSigningKey } from '../../agent/net/keys.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askControl } from '../../agent/process/control-socket.ts';
import { inNetns, sh } from '../../lab/exec.ts';
import { SERVICE_ADDRESS, createNetwork, destroyNetwork, nsName, setPort } from '../../lab/topology.ts';
import { waitUntil } from '../../lab/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const HANFS = join(ROOT, 'bin/hanfs');
const prefix = `hanfs-t${process.pid}`;
const agents = new Map<string, ChildProcess>();
const logs = new Map<string, string[]>();
let dir = '';
const publicKeys = { server1: '', server2: '' };

function config(): string {
  return `pair: lab-test
secretFile: ${dir}/secret
signingKeyFile: ${dir}/NODE.key
watchdog: none
stateDir: ${dir}/state
controlSocket: ${dir}/SOCKET
reintegrate: manual
timing: { heartbeatIntervalMs: 100, missesBeforeSuspicion: 4, icmpTimeoutMs: 300, diskIntervalMs: 200, diskIoTimeoutMs: 400, diskProbeTimeoutMs: 800, selfFenceLeaseMs: 2000 }
nfs: { profile: ganesha }
nodes:
  server1:
    publicKey: ${publicKeys.server1}
    primary: { interface: pri, address: ${SERVICE_ADDRESS.server1} }
    secondary: { interface: sec, address: 203.0.113.11/24 }
    mailbox: ${dir}/mailbox
    disks: [{ device: /dev/hanfs-test-1, mountPoint: /srv/server1, fsType: ext4 }]
    exports: [{ path: /srv/server1, pseudo: /srv1 }]
  server2:
    publicKey: ${publicKeys.server2}
    primary: { interface: pri, address: ${SERVICE_ADDRESS.server2} }
    secondary: { interface: sec, address: 198.51.100.12/24 }
    mailbox: ${dir}/mailbox
    disks: [{ device: /dev/hanfs-test-2, mountPoint: /srv/server2, fsType: ext4 }]
    exports: [{ path: /srv/server2, pseudo: /srv2 }]
`;
}

async function startAgent(node: 'server1' | 'server2'): Promise<void> {
  await writeFile(join(dir, `${node}.yaml`), config().replace('SOCKET', `${node}.sock`).replace('NODE.key', `${node}.key`));
  const child = spawn('ip', inNetns(nsName(prefix, node), [
    process.execPath, HANFS, 'agent', '--config', join(dir, `${node}.yaml`), '--node', node, '--dry-run',
  ]).slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  logs.set(node, lines);
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  agents.set(node, child);
}

async function status(node: string): Promise<Record<string, unknown>> {
  const answer = (await askControl(join(dir, `${node}.sock`), 'status')) as { ok: boolean; result: Record<string, unknown> };
  return answer.result;
}

/** Waits for a condition; on a time-out, shows the agents' last log lines. */
function until(what: () => Promise<boolean>, ms: number, why: string): Promise<void> {
  return waitUntil(what, ms, why, () => [...logs].map(([n, l]) => `${n}:\n${l.slice(-15).join('\n')}`).join('\n'));
}

const phaseIs = (node: string, phase: string) => async () => (await status(node)).phase === phase;
const logged = (node: string, text: string) => () => Promise.resolve((logs.get(node) ?? []).some((l) => l.includes(text)));

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hanfs-two-agents-'));
  await createNetwork(prefix);
  // The test plays the resource layer: both service addresses are up, as after each group's start.
  await sh(['ip', '-n', nsName(prefix, 'server1'), 'addr', 'add', SERVICE_ADDRESS.server1, 'dev', 'pri']);
  await sh(['ip', '-n', nsName(prefix, 'server2'), 'addr', 'add', SERVICE_ADDRESS.server2, 'dev', 'pri']);
  await writeFile(join(dir, 'secret'), 'a-shared-secret-for-the-lab-test\n', { mode: 0o600 });
  for (const node of ['server1', 'server2'] as const) publicKeys[node] = await generateSigningKey(join(dir, `${node}.key`));
  await writeFile(join(dir, 'mailbox'), Buffer.alloc(1 << 20));
  await sh([process.execPath, HANFS, 'disk', 'init', join(dir, 'mailbox'), '--pair', 'lab-test', '--nodes', 'server1,server2',
    '--secret-file', join(dir, 'secret')]);
  await startAgent('server1');
  await startAgent('server2');
});

test.after(async () => {
  for (const child of agents.values()) {
    try {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    } catch { /* already gone */ }
  }
  await destroyNetwork(prefix);
  await rm(dir, { recursive: true, force: true });
});

/** A node reaches normal without hearing anyone (its own group starts regardless): wait for both networks heard. */
const hearsOnBothNetworks = (node: string) => async () => {
  const nets = ((await status(node)).detector as { networks: Record<string, { heard: boolean }> }).networks;
  return Object.values(nets).length === 2 && Object.values(nets).every((n) => n.heard);
};

test('the two agents find each other and settle in normal', async () => {
  await until(async () => (await phaseIs('server1', 'normal')()) && (await phaseIs('server2', 'normal')()), 15_000, 'both normal');
  await until(async () => (await hearsOnBothNetworks('server1')()) && (await hearsOnBothNetworks('server2')()), 10_000, 'heard on both networks');
});

test('server1 cut off net A: a network failure on both sides, no suspicion', async () => {
  await setPort(prefix, 'server1', 'neta', false);
  await until(logged('server2', "network failure: partner's heartbeats lost on 198.51.100.0/24"), 5000, 'server2 reports net A');
  assert.ok((await status('server2')).phase === 'normal');
  await setPort(prefix, 'server1', 'neta', true);
  await until(logged('server2', "partner's heartbeats heard again on 198.51.100.0/24"), 5000, 'net A heard again');
});

test('server1 killed and its addresses gone: server2 takes its group over', async () => {
  const s1 = agents.get('server1')!;
  process.kill(s1.pid!, 'SIGKILL');
  await sh(['ip', '-n', nsName(prefix, 'server1'), 'addr', 'flush', 'dev', 'pri']);
  await sh(['ip', '-n', nsName(prefix, 'server1'), 'addr', 'flush', 'dev', 'sec']);
  await until(phaseIs('server2', 'serving_both'), 15_000, 'server2 serving both');
  const lines = logs.get('server2')!.join('\n');
  for (const step of ['normal → suspecting', 'suspecting → probing', 'probing → fencing_partner', 'fencing_partner → taking_over']) {
    assert.ok(lines.includes(step), `server2 did not log ${step}`);
  }
});

test.run();
