// Issue 17's cluster scenario: three machines running Debian's corosync and pacemaker (lab/pacemaker/cluster.ts),
// fencing by the lab's power switch wrapped as a fence agent (lab/pacemaker/bin/fence_hanfslab), one hanfs NFS
// virtual server as an ocf:hanfs:vserver resource. Its machine is powered off: Pacemaker fences it and starts the
// virtual server on another machine, where the client reads back what it wrote before. Measured from the power-off:
// the resource started elsewhere (as crm_mon shows it) and the client's first successful read.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exportUrl, getFile, putFile } from '../../lab/client.ts';
import { sh } from '../../lab/exec.ts';
import { clusterDown, clusterUp, crmMon, onMachine, powerOffMachineArgv, waitCrmMon } from '../../lab/pacemaker/cluster.ts';
import { labPath } from '../../lab/state.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const prefix = `hp${process.pid}`;
const SRV1 = exportUrl('198.51.100.11', '/srv1');
const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

test.before(async () => {
  await sh(['bash', `${ROOT}scripts/ensure-deps`, `${ROOT}scripts/pacemaker-packages.txt`], { timeoutMs: 600_000 });
  await clusterUp(prefix, 'n1');
  console.log(`cluster up, vs1 started on n1: ${seconds()}`);
});

test.after(async () => {
  await clusterDown(prefix);
  console.log(`pacemaker cluster lab test: ${seconds()}`);
});

test('n1 powered off: fenced through fence_hanfslab, vs1 started on another node, the client reads its data back', async () => {
  await putFile(prefix, SRV1, 'before-move.txt', 'written while vs1 ran on n1\n');
  assert.is(await getFile(prefix, SRV1, 'before-move.txt'), 'written while vs1 ran on n1\n');

  const off = Number((await sh(powerOffMachineArgv(prefix, 'n1'))).split('\n')[0]);
  const moved = waitCrmMon(prefix, 'n2', /vs1\s+\(ocf:hanfs:vserver\):\s+Started n[23]/, 90_000).then((out) => ({ out, at: Date.now() }));
  const read = getFile(prefix, SRV1, 'before-move.txt', 90_000).then((content) => ({ content, at: Date.now() }));
  const [m, r] = await Promise.all([moved, read]);
  assert.is(r.content, 'written while vs1 ran on n1\n');

  const fenceLog = readFileSync(labPath(prefix, 'fence.log'), 'utf8');
  assert.match(fenceLog, /fence_hanfslab: (off|reboot) n1\n/);
  assert.match(fenceLog, /n1 is off/);
  const fencedAt = Number(/^(\d+) fence_hanfslab: n1 is off/m.exec(fenceLog)?.[1]);
  const mon = await crmMon(prefix, 'n2');
  assert.match(mon, /OFFLINE: \[ n1 \]/);
  const history = await sh(onMachine(prefix, 'n2', ['stonith_admin', '--history', 'n1']));
  console.log(`crm_mon -1 after the move:\n${mon}\nstonith_admin --history n1: ${history.trim()}`);
  console.log(`power-off → fenced ${fencedAt - off} ms, → vs1 started elsewhere (crm_mon) ${m.at - off} ms, ` +
    `→ client's first read ${r.at - off} ms (${seconds()})`);

  await putFile(prefix, SRV1, 'after-move.txt', 'written after the move\n');
  assert.is(await getFile(prefix, SRV1, 'after-move.txt'), 'written after the move\n');
});

test.run();
