// Which NFSv4 clients may reclaim their state at a group's next Ganesha, kept by hanfs through the times when no
// client can reach that Ganesha.
//
// Ganesha's fs recovery backend (RecoveryBackend = fs; recovery_fs.c in 4.3) keeps a directory per client holding
// state under v4recov. At start it takes them as the clients allowed to reclaim and moves them to v4old; when its
// grace ends it deletes v4old; a client it has not heard from for a lease it expires, deleting its record. Both
// assume the clients could reach it. Two moves of a group break that, both seen in the lab (the kernel client's
// locks lost in the kill-at-each-step scenarios): a Ganesha started in a takeover whose address comes up only after
// its grace (the agent killed between the two steps and restarted late) ends its grace with nobody reclaimed and
// forgets every client; a Ganesha whose address went down in a release but that was not stopped within a lease (the
// agent killed between those steps) expires them all. The next Ganesha then refuses every reclaim.
//
// So while no client can reach the group's Ganesha, from its start until its address is up and from the moment the
// address goes down, hanfs keeps the list of client records in a file beside them: written when a Ganesha starts
// and when the address goes down (joined to the list already there), put back into v4recov before a Ganesha starts
// and after one stops, removed once the address is up. The file exists only while the address has not been up since
// it was written, so nothing a client did can have changed what it may reclaim: putting a record back never lets a
// client reclaim what it did not hold. A Ganesha found running while the file exists never had its address and its
// grace may have run out unseen: the profile restarts it.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { removeDurably, writeDurably } from './durable-file.ts';

/** Ganesha 4.3's names for the records of the present and of the previous epoch (RecoveryDir, RecoveryOldDir). */
const RECORD_DIRS = ['v4recov', 'v4old'] as const;
const CURRENT = RECORD_DIRS[0];
const LIST_FILE = 'hanfs-reclaimable.json';

/** The client records under a recovery root: each a directory path below v4recov or v4old, without that level. */
export async function clientRecords(root: string): Promise<string[]> {
  const records = new Set<string>();
  for (const top of RECORD_DIRS) for (const record of await leafDirectories(join(root, top), '')) records.add(record);
  return [...records].sort();
}

/** The list as written, or null when there is none; a list that cannot be read is an error naming the file. */
export async function reclaimList(root: string): Promise<string[] | null> {
  const file = join(root, LIST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON: remove it to go on without it (clients not in ${CURRENT} cannot reclaim)`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isRecordPath)) {
    throw new Error(`${file} is not a list of client records below the recovery root: remove it to go on without it`);
  }
  return parsed;
}

/** Writes the list: the records there now joined to any list already written (a record is never dropped unseen). */
export async function keepReclaimList(root: string): Promise<number> {
  const records = new Set([...((await reclaimList(root)) ?? []), ...(await clientRecords(root))]);
  await writeDurably(join(root, LIST_FILE), `${JSON.stringify([...records].sort())}\n`);
  return records.size;
}

/** Puts every listed record back into v4recov (nothing when there is no list); how many were missing. */
export async function restoreReclaimList(root: string): Promise<number> {
  const listed = await reclaimList(root);
  if (listed === null) return 0;
  const present = new Set(await clientRecords(root));
  const missing = listed.filter((record) => !present.has(record));
  for (const record of missing) await mkdir(join(root, CURRENT, record), { recursive: true, mode: 0o700 });
  return missing.length;
}

/** The address is up: clients can reach the Ganesha, and what they may reclaim is its business again. */
export async function dropReclaimList(root: string): Promise<void> {
  await removeDurably(join(root, LIST_FILE));
}

/** A relative path that stays below the directory it is joined to. */
function isRecordPath(value: unknown): value is string {
  if (typeof value !== 'string' || value === '' || value.includes('\0') || isAbsolute(value)) return false;
  const normal = normalize(value);
  return normal === value && normal !== '..' && !normal.startsWith(`..${sep}`);
}

/** Directories with no directory below them, named as records; files beside them (revoked handles) are not records. */
async function leafDirectories(directory: string, relative: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(directory, relative), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const below = entries.filter((e) => e.isDirectory());
  // A record's name is "<client address>-(<length>:<client name>)"; a level without one (node0) is Ganesha's own.
  if (below.length === 0) return relative.includes('(') ? [relative] : [];
  const leaves: string[] = [];
  for (const entry of below) leaves.push(...(await leafDirectories(directory, join(relative, entry.name))));
  return leaves;
}
