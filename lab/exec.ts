// Running system commands for the lab (never through a shell). The lab is test infrastructure: a failed command
// is an exception with the command and its stderr, not a result to inspect.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function sh(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const [cmd, ...args] = argv;
  try {
    const { stdout } = await execFileAsync(cmd!, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Like sh, but a failure is only reported: for cleanup, which must go on past what is already gone. */
export async function shQuiet(argv: string[]): Promise<boolean> {
  try {
    await sh(argv);
    return true;
  } catch {
    return false;
  }
}

/** argv to run CMD inside a network namespace. */
export function inNetns(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
