// Crash safety, for real: the survivor's agent is killed in the middle of a takeover (after the mount) and in the
// middle of a release (after the address is down), then started again. What is on the mailbox (the fence, the
// requests) and idempotent resources must let it finish the move, with one owner of every disk and address at
// every 10 ms sample and the client's file intact.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askControl } from '../../agent/daemon/control-socket.ts';
import { boot, phaseOf, powerOff } from '../../lab/agents.ts';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { ownership } from '../../lab/inspect.ts';
import { sampleOwnership, type OwnershipSampler } from '../../lab/sampler.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { labPath, readState } from '../../lab/state.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `hc${process.pid}`;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
let sampler: OwnershipSampler | undefined;

const phase = (server: 'server1' | 'server2') => phaseOf(prefix, server);

/** Resolves once server2's log shows the line; then its agent is killed at once, as a crash would. */
async function killServer2AgentAfter(text: string): Promise<void> {
  const log = labPath(prefix, 'server2.log');
  const from = readFileSync(log, 'utf8').length;
  await waitUntil(async () => readFileSync(log, 'utf8').slice(from).includes(text), 30_000, `server2 logs "${text}"`, () => '', 5);
  process.kill(readState(prefix)!.agents.server2!, 'SIGKILL');
}

const readBack = () => getFile(prefix, SRV1, 'kept.txt');

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  await putFile(prefix, SRV1, 'kept.txt', 'written before any crash\n');
  sampler = sampleOwnership(prefix);
});

test.after(async () => {
  await sampler?.stop();
  await labDown(prefix);
});

test('the survivor killed in the middle of a takeover finishes it when it starts again', async () => {
  await powerOff(prefix, 'server1');
  await killServer2AgentAfter('start server1/filesystem: done');
  await boot(prefix, 'server2');
  await waitUntil(async () => (await phase('server2')) === 'serving_both', 30_000, 'server2 serving both after its restart');
  assert.is(await readBack(), 'written before any crash\n');
  const o = await ownership(prefix);
  assert.equal([o.disks.disk1, o.addresses['198.51.100.11']], [['server2'], ['server2']]);
  assert.equal(sampler!.now().doubles, []);
});

test('the survivor killed in the middle of a release finishes it when it starts again', async () => {
  await boot(prefix, 'server1');
  await waitUntil(async () => (await phase('server1')) === 'fenced', 20_000, 'server1 back, fenced');
  const killed = killServer2AgentAfter('stop server1/service_ip: done');
  await askControl(labPath(prefix, 'server1.sock'), 'reintegrate');
  await killed;
  await boot(prefix, 'server2');
  await waitUntil(async () => (await phase('server1')) === 'normal' && (await phase('server2')) === 'normal', 40_000,
    'both normal after the release was finished');
  assert.is(await readBack(), 'written before any crash\n');
  const o = await ownership(prefix);
  assert.equal([o.disks.disk1, o.addresses['198.51.100.11']], [['server1'], ['server1']]);
  assert.equal(sampler!.now().doubles, []);
});

test.run();
