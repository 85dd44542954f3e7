// Crash safety, for real: the survivor's agent is killed in the middle of a takeover (after the mount) and in the
// middle of a release (after the address is down), then started again. What is on the mailbox (the fence, the
// requests) and idempotent resources must let it finish the move, with one owner of every disk and address at
// every 10 ms sample and the client's file intact.
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askControl } from '../../agent/daemon/control-socket.ts';
import { agentStatus, boot, powerOff } from '../../lab/agents.ts';
import { sh } from '../../lab/exec.ts';
import { ownership } from '../../lab/inspect.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { labPath, readState } from '../../lab/state.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `hc${process.pid}`;
const FILE = 'nfs://198.51.100.11/srv1/kept.txt?version=4';
let doubles: string[] = [];
let sampling = false;
let sampler: Promise<void> = Promise.resolve();

const phase = async (server: 'server1' | 'server2') => (await agentStatus(prefix, server))?.phase;

/** Resolves once server2's log shows the line; then its agent is killed at once, as a crash would. */
async function killServer2AgentAfter(text: string): Promise<void> {
  const log = labPath(prefix, 'server2.log');
  const from = readFileSync(log, 'utf8').length;
  await waitUntil(async () => readFileSync(log, 'utf8').slice(from).includes(text), 30_000, `server2 logs "${text}"`, () => '', 5);
  process.kill(readState(prefix)!.agents.server2!, 'SIGKILL');
}

async function readBack(): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await sh(onNode(prefix, 'client1', ['nfs-cat', FILE]), { timeoutMs: 5000 });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw last;
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  const local = labPath(prefix, 'kept.txt');
  writeFileSync(local, 'written before any crash\n');
  await sh(onNode(prefix, 'client1', ['nfs-cp', local, FILE]));
  sampling = true;
  sampler = (async () => {
    while (sampling) {
      const o = await ownership(prefix);
      for (const [what, who] of [...Object.entries(o.addresses), ...Object.entries(o.disks)]) {
        if (who.length > 1) doubles.push(`${what}: ${who.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
});

test.after(async () => {
  sampling = false;
  await sampler;
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
  assert.equal(doubles, []);
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
  assert.equal(doubles, []);
});

test.run();
