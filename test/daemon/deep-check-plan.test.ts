import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../config/load.ts';
import { deepChecksFor, MACHINE } from '../../agent/daemon/deep-check-plan.ts';
import { pairView } from '../../agent/pair-view.ts';

const EXAMPLE = new URL('../../config/examples/lab.yaml', import.meta.url).pathname;

/** The lab example, with mount points that exist nowhere. */
function view() {
  const text = readFileSync(EXAMPLE, 'utf8').replaceAll('/srv/', `/nonexistent-${process.pid}/`);
  const loaded = parseConfig(text, EXAMPLE);
  if (!loaded.ok) throw new Error('the lab example does not load');
  return pairView(loaded.config, 'server1');
}

test('a group not served here is not checked', async () => {
  const checks = deepChecksFor(await view(), () => false);
  for (const c of checks.filter((c) => c.group !== MACHINE)) assert.equal(await c.run(), { ok: true, detail: 'not served here' });
});

test('a served group whose file system is not mounted fails against its file system resource', async () => {
  const checks = deepChecksFor(await view(), (g) => g === 'server1');
  const onMountPoint = checks.filter((c) => c.group === 'server1' && /^(mounted|writable) /.test(c.name));
  const results = await Promise.all(onMountPoint.map(async (c) => ({ c, r: await c.run() })));
  assert.is(results.length, 2);
  for (const { c, r } of results) {
    assert.is(c.resource, 'filesystem');
    assert.is(r.ok, false, `${c.name}: ${r.detail}`);
  }
});

test('space, inodes, load and memory are machine warnings, never a group failure', async () => {
  const machine = deepChecksFor(await view(), () => true).filter((c) => c.group === MACHINE);
  assert.equal([...new Set(machine.map((c) => c.resource))].sort(), ['inodes', 'load', 'memory', 'space']);
});

test.run();
