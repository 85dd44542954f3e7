// The whole lab, for real: two agents with NFS-Ganesha on ext4 loop disks, a libnfs client, two networks. Both
// servers serve; the client's writes are read back; a group moved by the operator and given back keeps its data,
// with never two owners of an address or a disk; `down` leaves nothing behind.
import { writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sh } from '../../lab/exec.ts';
import { ownership } from '../../lab/inspect.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { labPath } from '../../lab/state.ts';
import { waitUntil as until } from '../../lab/wait.ts';
import { nsName } from '../../lab/topology.ts';

const prefix = `hl${process.pid}`;
const HANFS = new URL('../../bin/hanfs', import.meta.url).pathname;
const SRV1 = 'nfs://198.51.100.11/srv1';
const SRV2 = 'nfs://203.0.113.12/srv2';

async function client(argv: string[]): Promise<string> {
  return sh(onNode(prefix, 'client1', argv), { timeoutMs: 10_000 });
}

/** libnfs exits at once during a grace period: retry for a while, as an application's NFS client would. */
async function retry<T>(what: () => Promise<T>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await what();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function put(url: string, name: string, text: string): Promise<void> {
  const file = labPath(prefix, `client-${name}`);
  writeFileSync(file, text);
  await retry(() => client(['nfs-cp', file, `${url}/${name}?version=4`]));
}

const get = (url: string, name: string) => retry(() => client(['nfs-cat', `${url}/${name}?version=4`]));

async function hanfs(server: string, args: string[]): Promise<string> {
  return sh(onNode(prefix, server as 'server1', [process.execPath, HANFS, ...args, '--config', labPath(prefix, `${server}.yaml`)]));
}

async function phase(server: string): Promise<string> {
  try {
    return (JSON.parse(await hanfs(server, ['status'])) as { result: { phase: string } }).result.phase;
  } catch {
    return 'unreachable';
  }
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
  let sampling = true;
  const doubles: string[] = [];
  const sampler = (async () => {
    while (sampling) {
      const o = await ownership(prefix);
      for (const [what, who] of [...Object.entries(o.addresses), ...Object.entries(o.disks)]) {
        if (who.length > 1) doubles.push(`${what}: ${who.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
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
    sampling = false;
    await sampler;
  }
  assert.equal(doubles, []);
});

test('down removes every namespace, loop device and process of the lab', async () => {
  await labDown(prefix);
  const namespaces = await sh(['ip', 'netns', 'list']);
  assert.not.ok(namespaces.includes(nsName(prefix, '')), namespaces);
  const loops = await sh(['losetup', '-a']);
  assert.not.ok(loops.includes(`/run/hanfs-lab/${prefix}/`), loops);
});

test.run();
