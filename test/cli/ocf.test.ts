// `hanfs ocf`, the OCF resource agent, without a lab: its meta-data (valid against both the DTD ocf-tester checks
// and OCF 1.1's schema, every parameter with its default), and the return codes of what it refuses before touching
// the system. The actions that start and stop a virtual server run in the lab (test/lab/ocf.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OCF, runOcfAction } from '../../agent/cli/ocf.ts';
import { OCF_ACTIONS, OCF_PARAMETERS, ocfMetadata } from '../../agent/cli/ocf-metadata.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'config/examples/lab.yaml');
const RA_DIR = '/usr/share/resource-agents';
const dir = mkdtempSync(join(tmpdir(), 'hanfs-ocf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('meta-data: hanfs ocf meta-data prints it, exit 0, and it lists every parameter with its default', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/hanfs'), 'ocf', 'meta-data'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /<version>1\.1<\/version>/);
  for (const p of OCF_PARAMETERS) {
    const block = new RegExp(`<parameter name="${p.name}" required="${p.required ? 1 : 0}" unique="${p.unique ? 1 : 0}">[\\s\\S]*?<content type="${p.type}" default="${p.default}"/>`);
    assert.match(r.stdout, block, p.name);
  }
  for (const a of ['start', 'stop', 'monitor', 'validate-all', 'reload', 'meta-data']) assert.ok(OCF_ACTIONS.some((x) => x.name === a), a);
  assert.match(r.stdout, /<action name="monitor" timeout="30s" interval="10s" depth="0"\/>/);
  assert.match(r.stdout, /<action name="monitor" timeout="60s" interval="60s" depth="10"\/>/);
});

test('meta-data: valid against ra-api-1.dtd (what ocf-tester checks) and OCF 1.1 metadata.rng', () => {
  if (!existsSync(join(RA_DIR, 'ra-api-1.dtd'))) throw new Error('resource-agents is needed: scripts/ensure-deps scripts/pacemaker-packages.txt');
  const xml = ocfMetadata('0.0.0-test');
  const dtd = spawnSync('xmllint', ['--noout', '--valid', '-'], { input: xml, cwd: RA_DIR, encoding: 'utf8' });
  assert.is(dtd.status, 0, dtd.stderr);
  const rng = spawnSync('xmllint', ['--noout', '--relaxng', join(RA_DIR, 'metadata.rng'), '-'], { input: xml, encoding: 'utf8' });
  assert.is(rng.status, 0, rng.stderr);
});

const env = (params: Record<string, string>, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`OCF_RESKEY_${k}`, v])), ...extra,
});

test('return codes of what is refused before anything runs', async () => {
  assert.is(await runOcfAction('notify', env({})), OCF.errUnimplemented);
  assert.is(await runOcfAction('promote', env({})), OCF.errUnimplemented);
  assert.is(await runOcfAction('', env({})), OCF.errUnimplemented);
  // No group: the resource's definition is wrong everywhere.
  assert.is(await runOcfAction('validate-all', env({ config: EXAMPLE })), OCF.errConfigured);
  assert.is(await runOcfAction('validate-all', env({ config: EXAMPLE, group: 'server9' })), OCF.errConfigured);
  assert.is(await runOcfAction('validate-all', env({ config: EXAMPLE, group: 'server1', skip: 'disks' })), OCF.errConfigured);
  assert.is(await runOcfAction('validate-all', env({ config: EXAMPLE, group: 'server1', node: 'server9' })), OCF.errConfigured);
  // No configuration on this node: not installed here; a probe finds it stopped, a stop has nothing to do.
  const missing = join(dir, 'absent.yaml');
  assert.is(await runOcfAction('validate-all', env({ config: missing, group: 'server1' })), OCF.errInstalled);
  assert.is(await runOcfAction('start', env({ config: missing, group: 'server1' })), OCF.errInstalled);
  assert.is(await runOcfAction('monitor', env({ config: missing, group: 'server1' }, { OCF_RESKEY_CRM_meta_interval: '0' })), OCF.notRunning);
  assert.is(await runOcfAction('monitor', env({ config: missing, group: 'server1' }, { OCF_RESKEY_CRM_meta_interval: '10000' })), OCF.errInstalled);
  assert.is(await runOcfAction('stop', env({ config: missing, group: 'server1' })), OCF.success);
  // A program the start needs that is not installed: OCF_ERR_INSTALLED, so Pacemaker tries another node.
  assert.is(await runOcfAction('validate-all', { ...env({ config: EXAMPLE, group: 'server1' }), PATH: '/nonexistent' }), OCF.errInstalled);
  assert.is(await runOcfAction('validate-all', env({ config: EXAMPLE, group: 'server1', node: 'server2', interface: 'eth7', skip: 'arp' })), OCF.success);
});

test.run();
