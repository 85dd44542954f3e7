// Running commands on a kernel-server guest (init-server.sh): one argument vector at a time, quoted for the guest's
// shell, sent on its control port as `run ID WORDS`, answered on its results port with the command's output
// (`out ID LINE`) and exit code (`done ID rc=N`). Nothing here interprets a command: the caller's argv runs as is.
import { waitUntil } from '../wait.ts';
import { send } from './control.ts';
import { resultLines } from './results.ts';

export interface GuestCommandResult {
  argv: readonly string[];
  code: number;
  output: string;
  ms: number;
}

let nextId = 1;

/** One shell word: single-quoted, with the quotes inside it closed, escaped and reopened. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Runs argv in the guest and returns its exit code and output; throws only if the guest does not answer in time. */
export async function runInGuest(prefix: string, name: string, argv: readonly string[], timeoutMs = 60_000): Promise<GuestCommandResult> {
  const id = `c${process.pid}-${nextId++}`;
  const began = performance.now();
  const from = resultLines(prefix, name).length;
  await send(prefix, name, `run ${id} ${argv.map(shellWord).join(' ')}`);
  let code = -1;
  let output: string[] = [];
  await waitUntil(async () => {
    const fresh = resultLines(prefix, name).slice(from);
    const done = fresh.find((l) => l.startsWith(`done ${id} rc=`));
    if (!done) return false;
    code = Number(done.slice(`done ${id} rc=`.length));
    output = fresh.filter((l) => l.startsWith(`out ${id} `)).map((l) => l.slice(`out ${id} `.length));
    return true;
  }, timeoutMs, `guest ${name} ran ${argv.join(' ')}`, () => '', 20);
  return { argv, code, output: output.join('\n'), ms: performance.now() - began };
}

/** Like runInGuest, but a non-zero exit code throws with the command and its output. */
export async function runInGuestOrFail(prefix: string, name: string, argv: readonly string[], timeoutMs?: number): Promise<GuestCommandResult> {
  const r = await runInGuest(prefix, name, argv, timeoutMs);
  if (r.code !== 0) throw new Error(`guest ${name}: ${argv.join(' ')} exited ${r.code}: ${r.output.split('\n').slice(0, 3).join(' | ')}`);
  return r;
}
