// The boot generation: a counter on local storage, one higher at every agent start, so that the partner takes our
// heartbeats (whose sequence starts at 1 again) as news and not as replays. Written atomically.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export async function nextGeneration(stateDir: string, pair: string, node: string): Promise<number> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, `${pair}-${node}.generation`);
  let previous = 0;
  try {
    previous = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!Number.isSafeInteger(previous) || previous < 0) throw new Error(`${path}: not a generation number`);
  const next = previous + 1;
  const tmp = `${path}.tmp`;
  const f = await open(tmp, 'w', 0o600);
  try {
    await f.writeFile(`${next}\n`);
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
  return next;
}
