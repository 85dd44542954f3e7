// Crashes, for real: server1 crashes and server2 takes it over (the client reads /srv1 again; the time is printed);
// server1 comes back fenced; then the survivor server2 crashes too, and the fenced server1 must fence it in turn
// (a newer fence term) and take both groups; server2 comes back fenced and is reintegrated. One owner of every
// address and disk at every 10 ms sample; every file the client wrote is read back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askControl } from '../../agent/process/control-socket.ts';
import { phaseOf, powerOff, powerOn } from '../../lab/agents.ts';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { ownership } from '../../lab/inspect.ts';
import { sampleOwnership, type OwnershipSampler } from '../../lab/sampler.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { labPath } from '../../lab/state.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `ht${process.pid}`;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
const SRV2 = exportUrl('203.0.113.12', '/srv2');
let sampler: OwnershipSampler | undefined;

const phase = (server: 'server1' | 'server2') => phaseOf(prefix, server);

const crash = (server: 'server1' | 'server2') => powerOff(prefix, server);

async function comeBack(server: 'server1' | 'server2'): Promise<void> {
  await powerOn(prefix, server);
  await waitUntil(async () => (await phase(server)) === 'fenced', 20_000, `${server} back, fenced`);
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  await putFile(prefix, SRV1, 'one.txt', 'one\n');
  await putFile(prefix, SRV2, 'two.txt', 'two\n');
  sampler = sampleOwnership(prefix);
});

test.after(async () => {
  await sampler?.stop();
  await labDown(prefix);
});

test('server1 crashes: server2 takes over and the client reads /srv1 through the same address', async () => {
  const crashedAt = Date.now();
  await crash('server1');
  assert.is(await getFile(prefix, SRV1, 'one.txt', 40_000), 'one\n');
  console.log(`    crash → first successful read of /srv1: ${Date.now() - crashedAt} ms`);
  assert.is(await phase('server2'), 'serving_both');
  assert.equal(sampler!.now().doubles, []);
});

test('the survivor crashes while server1 is fenced: server1 fences it in turn and serves both', async () => {
  await comeBack('server1');
  await crash('server2');
  await waitUntil(async () => (await phase('server1')) === 'serving_both', 30_000, 'server1 serving both');
  assert.is(await getFile(prefix, SRV1, 'one.txt', 40_000), 'one\n');
  assert.is(await getFile(prefix, SRV2, 'two.txt', 40_000), 'two\n');
  const o = await ownership(prefix);
  assert.equal([o.addresses['203.0.113.12'], o.disks.disk2], [['server1'], ['server1']]);
  assert.equal(sampler!.now().doubles, []);
});

test('server2 comes back fenced and is reintegrated: each serves its own again', async () => {
  await comeBack('server2');
  await askControl(labPath(prefix, 'server2.sock'), 'reintegrate');
  await waitUntil(async () => (await phase('server1')) === 'normal' && (await phase('server2')) === 'normal', 30_000, 'both normal');
  assert.is(await getFile(prefix, SRV1, 'one.txt', 40_000), 'one\n');
  assert.is(await getFile(prefix, SRV2, 'two.txt', 40_000), 'two\n');
  const o = await ownership(prefix);
  assert.equal([o.disks.disk1, o.disks.disk2], [['server1'], ['server2']]);
  assert.equal(sampler!.now().doubles, []);
});

test.run();
