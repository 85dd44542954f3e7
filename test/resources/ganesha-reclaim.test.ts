// The list of clients that may reclaim (agent/resources/ganesha-reclaim.ts), on a recovery root laid out as
// Ganesha 4.3's fs backend lays it out, and moved through what that backend does to it: a start moves v4recov to
// v4old, the end of grace deletes v4old, an expiry deletes a client's record.
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientRecords, dropReclaimList, keepReclaimList, reclaimList, restoreReclaimList } from '../../agent/resources/ganesha-reclaim.ts';

/** Two clients with state; the second's long name split over two levels, as Ganesha splits names past NAME_MAX. */
const CLIENT_A = 'node0/198.51.100.101-(42:Linux NFSv4.1 client-a)';
const CLIENT_B = join('node0/198.51.100.102-(300:Linux NFSv4.1 client-b', 'second part of its long name)');

async function withRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'hanfs-recovery-'));
  try {
    for (const record of [CLIENT_A, CLIENT_B]) await mkdir(join(root, 'v4recov', record), { recursive: true });
    await mkdir(join(root, 'v4old', 'node0'), { recursive: true });
    await body(root);
  } finally {
    await rm(root, { recursive: true });
  }
}

async function failure(step: () => Promise<unknown>): Promise<string> {
  try {
    await step();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

/** Ganesha starting: every record moves from v4recov to v4old. */
async function ganeshaStarts(root: string): Promise<void> {
  await rm(join(root, 'v4old'), { recursive: true, force: true });
  await rename(join(root, 'v4recov'), join(root, 'v4old'));
  await mkdir(join(root, 'v4recov', 'node0'), { recursive: true });
}

/** Ganesha's grace ending with nobody reclaimed: v4old emptied. */
async function graceEnds(root: string): Promise<void> {
  await rm(join(root, 'v4old', 'node0'), { recursive: true });
  await mkdir(join(root, 'v4old', 'node0'));
}

test('the client records are the leaf directories below v4recov and v4old; files beside them are not records', async () => {
  await withRoot(async (root) => {
    await writeFile(join(root, 'v4recov', CLIENT_A, '\x01revoked-handle'), '');
    assert.equal(await clientRecords(root), [CLIENT_A, CLIENT_B].sort());
    await ganeshaStarts(root);
    assert.equal(await clientRecords(root), [CLIENT_A, CLIENT_B].sort(), 'found in v4old as well');
  });
});

test('a Ganesha whose grace ran out unreachable loses no client: the list kept at its start puts them back', async () => {
  await withRoot(async (root) => {
    assert.is(await keepReclaimList(root), 2);
    await ganeshaStarts(root);
    await graceEnds(root);
    assert.equal(await clientRecords(root), [], 'what Ganesha 4.3 leaves after such a grace');
    assert.is(await restoreReclaimList(root), 2);
    assert.equal((await readdir(join(root, 'v4recov', 'node0'))).length, 2, 'back in v4recov, where the next start reads them');
    assert.equal(await clientRecords(root), [CLIENT_A, CLIENT_B].sort());
    assert.is(await restoreReclaimList(root), 0, 'a second restore has nothing to do');
  });
});

test('a list is never narrowed while kept: a record Ganesha expired in between stays on it', async () => {
  await withRoot(async (root) => {
    await keepReclaimList(root);
    await rm(join(root, 'v4recov', CLIENT_A), { recursive: true });
    assert.is(await keepReclaimList(root), 2);
    assert.equal(await reclaimList(root), [CLIENT_A, CLIENT_B].sort());
  });
});

test('once dropped (the address is up) there is no list and nothing to restore', async () => {
  await withRoot(async (root) => {
    await keepReclaimList(root);
    await dropReclaimList(root);
    assert.is(await reclaimList(root), null);
    await rm(join(root, 'v4recov', CLIENT_A), { recursive: true });
    assert.is(await restoreReclaimList(root), 0, 'an expiry after the address was up is Ganesha\'s to make');
    await dropReclaimList(root);
  });
});

test('a list that is not JSON, or names a path outside the recovery root, is an error that names the file', async () => {
  await withRoot(async (root) => {
    const file = join(root, 'hanfs-reclaimable.json');
    await writeFile(file, '["node0/a", ');
    assert.match(await failure(() => restoreReclaimList(root)), `${file} is not JSON`);
    for (const bad of ['../../etc', '/etc/cron.d', 'node0/../../x', '', 7]) {
      await writeFile(file, JSON.stringify(['node0/a', bad]));
      assert.match(await failure(() => restoreReclaimList(root)), `${file} is not a list of client records`, String(bad));
    }
    assert.equal(await clientRecords(root), [CLIENT_A, CLIENT_B].sort(), 'nothing was made from a bad list');
  });
});

test.run();
