// The pair's config names commands that run as root (the fence command, the NFS server's): a file anyone but root
// could change is refused by the agent and by config check alike (both read it through loadConfig).
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatConfigError } from '../../config/errors.ts';
import { loadConfig } from '../../config/load.ts';

const example = new URL('../../config/examples/lab.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hanfs-config-perm-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function loadWith(mode: number, uid = 0): Promise<string[]> {
  const path = join(dir, `pair-${mode.toString(8)}-${uid}.yaml`);
  copyFileSync(example, path);
  chmodSync(path, mode);
  chownSync(path, uid, 0);
  const loaded = await loadConfig(path);
  return loaded.ok ? [] : loaded.errors.map(formatConfigError);
}

test('a root-owned file that only root may change is read', async () => {
  if (process.getuid?.() !== 0) return;
  assert.equal(await loadWith(0o644), []);
  assert.equal(await loadWith(0o600), []);
});

test('group- or world-writable, or owned by another user: refused, saying why', async () => {
  if (process.getuid?.() !== 0) return;
  assert.match((await loadWith(0o664))[0] ?? '', /refused: mode 0664 lets its group change it: chmod go-w/);
  assert.match((await loadWith(0o646))[0] ?? '', /refused: mode 0646 lets anyone change it/);
  assert.match((await loadWith(0o644, 1000))[0] ?? '', /refused: owned by uid 1000, must be owned by root/);
});

test.run();
