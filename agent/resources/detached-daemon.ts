// Starting a long-running daemon (NFS-Ganesha) from the agent. This is the one place that spawns directly instead
// of through the CommandRunner, because the runner is made for short commands: it waits for the exit, and it
// kills the command's whole process group on a timeout. Ganesha runs in the foreground (-F) for as long as its
// group is served, must outlive a restart of the agent (the next agent adopts it through its pid file), and must
// not receive a signal aimed at the agent's process group (Ctrl-C at a terminal, a service manager stopping the
// agent). So it gets a session of its own (detached), no stdio tied to the agent, and no hold on its event loop.
// While the agent runs it is still the parent, and Node reaps the daemon when it exits: no zombie lingers.
import { spawn } from 'node:child_process';
import { formatArgv } from '../exec/templates.ts';

export type DaemonStart = { pid: number } | { error: string };

export function spawnDetachedDaemon(argv: readonly string[]): Promise<DaemonStart> {
  const [file, ...args] = argv;
  const failed = (why: string): DaemonStart => ({ error: `${formatArgv(argv)}: could not start: ${why}` });
  if (file === undefined) return Promise.resolve(failed('empty command'));
  return new Promise((resolve) => {
    try {
      // In / like any daemon, so that it never pins the file system the agent was started from.
      const child = spawn(file, args, { detached: true, stdio: 'ignore', shell: false, cwd: '/' });
      // Kept for the child's whole life: an 'error' event without a listener would crash the agent.
      child.on('error', (err) => resolve(failed(err.message)));
      child.once('spawn', () => {
        child.unref();
        resolve({ pid: child.pid! });
      });
    } catch (err) {
      // Arguments spawn refuses outright, such as one holding a NUL byte.
      resolve(failed((err as Error).message));
    }
  });
}
