// Small files on a group's disk that whoever serves the group next must find whole: written to a new name, fsync'ed,
// then renamed over the old one (a crash leaves the old or the new, never a mix); removed with the directory
// fsync'ed after, so that a removal a step depended on is not undone by a crash.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces `file` by `content` so that a crash leaves the old or the new one, never a mix. */
export async function writeDurably(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.new`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  await syncDirectory(dirname(file));
}

/** Removes `file` (nothing if it is not there) for good: its directory is fsync'ed after. */
export async function removeDurably(file: string): Promise<void> {
  await rm(file, { force: true });
  await syncDirectory(dirname(file)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
