// client1's watcher (`hanfs watch`) in the lab: started in client1's network namespace with CAP_NET_ADMIN as its
// only capability (what it needs to change routes; its port is unprivileged), from the example config the README
// shows for the lab, with this lab's paths.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import type { WatchStatus } from '../agent/watch/status.ts';
import { statusAt } from './agents.ts';
import { onNode } from './mountns.ts';
import { labPath, readState, runDir, writeState } from './state.ts';

const HANFS = new URL('../bin/hanfs', import.meta.url).pathname;
const EXAMPLE = new URL('../config/examples/watch/lab.yaml', import.meta.url).pathname;
/** The example's paths are those of the lab with the default prefix. */
const EXAMPLE_RUN_DIR = '/run/hanfs-lab/hanfs/';

export function watchConfigPath(prefix: string): string {
  return labPath(prefix, 'watch.yaml');
}

/** Starts the watcher on client1; its log goes to watch.log in the lab's directory, its PID into the lab's state. */
export function startWatcher(prefix: string): number {
  writeFileSync(watchConfigPath(prefix), readFileSync(EXAMPLE, 'utf8').replaceAll(EXAMPLE_RUN_DIR, `${runDir(prefix)}/`));
  const out = openSync(labPath(prefix, 'watch.log'), 'a');
  const argv = onNode(prefix, 'client1', [
    'setpriv', '--bounding-set=-all,+net_admin', '--inh-caps=-all', '--no-new-privs', '--',
    process.execPath, HANFS, 'watch', '--config', watchConfigPath(prefix),
  ]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const state = readState(prefix)!;
  state.watcher = child.pid!;
  writeState(state);
  return child.pid!;
}

/** The running watcher's view, or null while it does not answer. */
export function watcherStatus(prefix: string): Promise<(WatchStatus & { drops: Record<string, number> }) | null> {
  return statusAt(labPath(prefix, 'watch.sock'));
}
