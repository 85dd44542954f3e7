// Crashes, for real: server1 crashes and server2 takes it over (the client reads /srv1 again; the time is printed);
// server1 comes back fenced; then the survivor server2 crashes too, and the fenced server1 must fence it in turn
// (a newer fence term) and take both groups; server2 comes back fenced and is reintegrated. One owner of every
// address and disk at every 10 ms sample; every file the client wrote is read back.
import { writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askControl } from '../../agent/daemon/control-socket.ts';
import { agentStatus, boot, powerOff } from '../../lab/agents.ts';
import { sh } from '../../lab/exec.ts';
import { ownership } from '../../lab/inspect.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { labPath } from '../../lab/state.ts';
import { setPort } from '../../lab/topology.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `ht${process.pid}`;
const URL1 = 'nfs://198.51.100.11/srv1/one.txt?version=4';
const URL2 = 'nfs://203.0.113.12/srv2/two.txt?version=4';
const doubles: string[] = [];
let sampling = false;
let sampler: Promise<void> = Promise.resolve();

const phase = async (server: 'server1' | 'server2') => (await agentStatus(prefix, server))?.phase;

async function crash(server: 'server1' | 'server2'): Promise<void> {
  await setPort(prefix, server, 'neta', false);
  await setPort(prefix, server, 'netb', false);
  await powerOff(prefix, server);
}

async function comeBack(server: 'server1' | 'server2'): Promise<void> {
  await setPort(prefix, server, 'neta', true);
  await setPort(prefix, server, 'netb', true);
  await boot(prefix, server);
  await waitUntil(async () => (await phase(server)) === 'fenced', 20_000, `${server} back, fenced`);
}

/** Reads a file until it succeeds (no server, or a grace period, fails fast); resolves with its content. */
async function read(url: string, timeoutMs = 40_000): Promise<string> {
  let content = '';
  await waitUntil(async () => {
    content = await sh(onNode(prefix, 'client1', ['nfs-cat', url]), { timeoutMs: 5000 });
    return true;
  }, timeoutMs, `reading ${url}`);
  return content;
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  for (const [url, text] of [[URL1, 'one\n'], [URL2, 'two\n']] as const) {
    const local = labPath(prefix, `client-${text.trim()}`);
    writeFileSync(local, text);
    await sh(onNode(prefix, 'client1', ['nfs-cp', local, url]));
  }
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

test('server1 crashes: server2 takes over and the client reads /srv1 through the same address', async () => {
  const crashedAt = Date.now();
  await crash('server1');
  assert.is(await read(URL1), 'one\n');
  console.log(`    crash → first successful read of /srv1: ${Date.now() - crashedAt} ms`);
  assert.is(await phase('server2'), 'serving_both');
  assert.equal(doubles, []);
});

test('the survivor crashes while server1 is fenced: server1 fences it in turn and serves both', async () => {
  await comeBack('server1');
  await crash('server2');
  await waitUntil(async () => (await phase('server1')) === 'serving_both', 30_000, 'server1 serving both');
  assert.is(await read(URL1), 'one\n');
  assert.is(await read(URL2), 'two\n');
  const o = await ownership(prefix);
  assert.equal([o.addresses['203.0.113.12'], o.disks.disk2], [['server1'], ['server1']]);
  assert.equal(doubles, []);
});

test('server2 comes back fenced and is reintegrated: each serves its own again', async () => {
  await comeBack('server2');
  await askControl(labPath(prefix, 'server2.sock'), 'reintegrate');
  await waitUntil(async () => (await phase('server1')) === 'normal' && (await phase('server2')) === 'normal', 30_000, 'both normal');
  assert.is(await read(URL1), 'one\n');
  assert.is(await read(URL2), 'two\n');
  const o = await ownership(prefix);
  assert.equal([o.disks.disk1, o.disks.disk2], [['server1'], ['server2']]);
  assert.equal(doubles, []);
});

test.run();
