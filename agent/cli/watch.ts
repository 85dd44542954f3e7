// `hanfs watch`: the client-side watcher, or with --status its view. The CLI only turns options into one options
// object and hands it over.
import type { Command } from 'commander';
import { askControl } from '../process/control-socket.ts';
import { reportError } from '../journal.ts';
import { EXIT } from './exit-codes.ts';

/** The watcher's configuration: HANFS_WATCH_CONFIG in the environment, else the system path. */
const DEFAULT_WATCH_CONFIG = process.env.HANFS_WATCH_CONFIG ?? '/etc/hanfs/watch.yaml';

interface WatchCliOptions {
  config: string;
  status?: boolean;
  socket?: string;
  dryRun?: boolean;
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description("on a client: hear the servers' heartbeats on every network and route a service address around a failed network")
    .option('--config <file>', 'the watcher configuration, or a pair configuration (default: $HANFS_WATCH_CONFIG or /etc/hanfs/watch.yaml)', DEFAULT_WATCH_CONFIG)
    .option('--status', "print the running watcher's view as JSON (servers, networks, last heard, routes in force) and exit")
    .option('--socket <path>', "with --status: the watcher's control socket, instead of the one in the configuration")
    .option('--dry-run', 'log the route changes instead of making them')
    .action(async (opts: WatchCliOptions) => {
      try {
        // An invalid configuration stays invalid however often systemd restarts the watcher: exit 78 (EX_CONFIG),
        // which hanfs-watch.service does not restart, as for the agent. Checked here, before anything starts.
        if (!(opts.status && opts.socket) && !(await configValid(opts.config))) return;
        if (opts.status) console.log(JSON.stringify(await askStatus(opts), null, 2));
        else await (await import('../watch/run-watch.ts')).runWatch({ config: opts.config, dryRun: !!opts.dryRun });
      } catch (err) {
        reportError(`hanfs watch: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}

/** Whether the configuration loads; if not, prints each error and sets exit code 78. */
async function configValid(file: string): Promise<boolean> {
  const [{ loadWatchConfig }, { formatConfigError }] = await Promise.all([import('../../config/watch-load.ts'), import('../../config/errors.ts')]);
  const loaded = await loadWatchConfig(file);
  if (loaded.ok) return true;
  reportError(`hanfs watch: invalid configuration:\n${loaded.errors.map(formatConfigError).join('\n')}`);
  process.exitCode = EXIT.config;
  return false;
}

async function askStatus(opts: WatchCliOptions): Promise<unknown> {
  let socket = opts.socket;
  if (!socket) {
    const [{ loadWatchConfig }, { formatConfigError }] = await Promise.all([import('../../config/watch-load.ts'), import('../../config/errors.ts')]);
    const loaded = await loadWatchConfig(opts.config);
    if (!loaded.ok) throw new Error(`invalid configuration:\n${loaded.errors.map(formatConfigError).join('\n')}`);
    socket = loaded.config.controlSocket;
  }
  const answer = (await askControl(socket, 'status')) as { ok: boolean; result?: unknown; error?: string };
  if (!answer.ok) throw new Error(answer.error ?? 'refused');
  return answer.result;
}
