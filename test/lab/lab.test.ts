// The whole lab, for real: two agents with NFS-Ganesha on ext4 loop disks, a libnfs client, two networks. Both
// servers serve; the client's writes are read back; a group moved by the operator and given back keeps its data,
// with never two owners of an address or a disk; `down` leaves nothing behind.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseOf, powerOff, powerOn } from '../../lab/agents.ts';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { sh } from '../../lab/exec.ts';
import { ownership } from '../../lab/inspect.ts';
import { sampleOwnership } from '../../lab/sampler.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { mountNsFile, onNode } from '../../lab/mountns.ts';
import { labPath, readState } from '../../lab/state.ts';
import { waitUntil as until } from '../../lab/wait.ts';
import { nsName, SECONDARY_ADDRESS } from '../../lab/topology.ts';

const prefix = `hl${process.pid}`;
const HANFS = new URL('../../bin/hanfs', import.meta.url).pathname;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
const SRV2 = exportUrl('203.0.113.12', '/srv2');

const put = (url: string, name: string, text: string) => putFile(prefix, url, name, text);
const get = (url: string, name: string) => getFile(prefix, url, name);

async function hanfs(server: string, args: string[]): Promise<string> {
  return sh(onNode(prefix, server as 'server1', [process.execPath, HANFS, ...args, '--config', labPath(prefix, `${server}.yaml`)]));
}

async function phase(server: 'server1' | 'server2'): Promise<string> {
  return (await phaseOf(prefix, server)) ?? 'unreachable';
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix);
});

test('both servers serve their exports to a real NFS client', async () => {
  await put(SRV1, 'one.txt', 'written to server1\n');
  await put(SRV2, 'two.txt', 'written to server2\n');
  assert.is(await get(SRV1, 'one.txt'), 'written to server1\n');
  assert.is(await get(SRV2, 'two.txt'), 'written to server2\n');
  const owners = await ownership(prefix);
  assert.equal(owners.addresses['198.51.100.11'], ['server1']);
  assert.equal(owners.disks.disk2, ['server2']);
});

test("the agent runs with hanfs-agent.service's allocator setting; the NFS servers it starts do not inherit it", async () => {
  const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  const agent = readState(prefix)!.agents.server1!;
  assert.ok(environ(agent).includes('MALLOC_ARENA_MAX=2'), 'the agent was started with MALLOC_ARENA_MAX=2');
  const pids = (await sh(['ip', 'netns', 'pids', nsName(prefix, 'server1')])).split('\n').filter(Boolean).map(Number);
  const ganesha = pids.filter((pid) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ganesha.nfsd'; } catch { return false; } });
  assert.ok(ganesha.length > 0, "server1's Ganesha runs");
  for (const pid of ganesha) assert.not.ok(environ(pid).some((v) => v.startsWith('MALLOC_ARENA_MAX=')), `Ganesha ${pid} inherited MALLOC_ARENA_MAX`);
});

test('a group moved to the partner and given back keeps its data, with one owner at every sample', async () => {
  const sampler = sampleOwnership(prefix, 20);
  try {
    await hanfs('server2', ['takeover']);
    await until(async () => (await phase('server2')) === 'serving_both', 30_000, 'server2 serving both');
    assert.is(await get(SRV1, 'one.txt'), 'written to server1\n');
    await put(SRV1, 'three.txt', 'written while server2 served /srv1\n');
    const owners = await ownership(prefix);
    assert.equal(owners.addresses['198.51.100.11'], ['server2']);
    assert.equal(owners.disks.disk1, ['server2']);

    await hanfs('server2', ['release']);
    await until(async () => (await phase('server1')) === 'normal' && (await phase('server2')) === 'normal', 30_000, 'both normal');
    assert.is(await get(SRV1, 'three.txt'), 'written while server2 served /srv1\n');
    assert.equal((await ownership(prefix)).disks.disk1, ['server1']);
  } finally {
    assert.equal((await sampler.stop()).doubles, []);
  }
});

/**
 * server1 as a machine, read under its power switch's lock (lab/machine.sh): on is its agent running with its
 * stable address, off is no process and no IPv4 address on its links; anything else is a machine half on.
 */
async function machineState(agentPid: number): Promise<'on' | 'off' | string> {
  const ns = nsName(prefix, 'server1');
  const out = await sh(['flock', `${mountNsFile(prefix, 'server1')}.lock`, 'sh', '-c',
    `ip netns pids ${ns} | tr '\\n' ' '; echo '|'; ip -n ${ns} -o -4 addr show dev pri; ip -n ${ns} -o -4 addr show dev sec`]);
  const [pids, addresses] = out.split('|');
  const running = pids!.trim().split(' ').filter(Boolean).map(Number);
  const stable = addresses!.includes(` ${SECONDARY_ADDRESS.server1} `);
  if (running.includes(agentPid) && stable) return 'on';
  if (running.length === 0 && !addresses!.includes('inet ')) return 'off';
  return `half on: processes [${running.join(' ')}] (the agent is ${agentPid}), addresses ${addresses!.trim() || 'none'}`;
}

test("a power-off and a power-on raced (the partner's fence against a boot) leave the machine whole, on or off", async () => {
  // The partner in maintenance fences nobody: the only power switches pressed are the test's.
  await hanfs('server2', ['maintenance', 'on']);
  const seen: string[] = [];
  for (let round = 0; round < 4; round++) {
    const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const [, pid] = await Promise.all([
      delay(round * 15).then(() => powerOff(prefix, 'server1')),
      delay(30 - round * 10).then(() => powerOn(prefix, 'server1')),
    ]);
    seen.push(await machineState(pid));
  }
  assert.ok(seen.every((state) => state === 'on' || state === 'off'), seen.join('; '));
  await hanfs('server2', ['maintenance', 'off']);
});

test('down removes every namespace, loop device and process of the lab', async () => {
  await labDown(prefix);
  const namespaces = await sh(['ip', 'netns', 'list']);
  assert.not.ok(namespaces.includes(nsName(prefix, '')), namespaces);
  const loops = await sh(['losetup', '-a']);
  assert.not.ok(loops.includes(`/run/hanfs-lab/${prefix}/`), loops);
});

test.run();
