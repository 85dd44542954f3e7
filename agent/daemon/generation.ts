// The boot generation: a counter on local storage, higher at every agent start, so that the partner takes our
// heartbeats (whose sequence starts at 1 again) as news and not as replays. Written atomically. It is at least the
// seconds since 2024 by the wall clock: the partner keeps the newest generation it heard from us across its own
// restarts (heard-mark.ts), and a node whose local storage was wiped must still come back above it.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

const GENERATION_EPOCH_MS = Date.UTC(2024, 0, 1);
const GENERATION_CLOCK_LIMIT = 2 ** 30;

export async function nextGeneration(stateDir: string, pair: string, node: string, wallClockMs = Date.now): Promise<number> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, `${pair}-${node}.generation`);
  let previous = 0;
  try {
    previous = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!Number.isSafeInteger(previous) || previous < 0) throw new Error(`${path}: not a generation number`);
  // A wall clock set far ahead (a dead RTC battery, a typo) must not push the generation past what the partner
  // accepts (heartbeat-bounds.ts refuses 2^31 and up): the clock's part stops at 2^30, 34 years from the epoch.
  const byClock = Math.min(Math.floor((wallClockMs() - GENERATION_EPOCH_MS) / 1000), GENERATION_CLOCK_LIMIT);
  const next = Math.max(previous + 1, byClock);
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
