// The whole lab, for real: two agents with NFS-Ganesha on ext4 loop disks, a libnfs client, two networks. Both
// servers serve; the client's writes are read back; a group moved by the operator and given back keeps its data,
// with never two owners of an address or a disk; `down` leaves nothing behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseOf } from '../../lab/agents.ts';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { sh } from '../../lab/exec.ts';
import { ownership } from '../../lab/inspect.ts';
import { sampleOwnership } from '../../lab/sampler.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { labPath } from '../../lab/state.ts';
import { waitUntil as until } from '../../lab/wait.ts';
import { nsName } from '../../lab/topology.ts';

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

test('down removes every namespace, loop device and process of the lab', async () => {
  await labDown(prefix);
  const namespaces = await sh(['ip', 'netns', 'list']);
  assert.not.ok(namespaces.includes(nsName(prefix, '')), namespaces);
  const loops = await sh(['losetup', '-a']);
  assert.not.ok(loops.includes(`/run/hanfs-lab/${prefix}/`), loops);
});

test.run();
