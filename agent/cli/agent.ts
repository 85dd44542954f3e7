// `hanfs agent`: the daemon. The CLI only turns options into one options object and hands it over.
import type { Command } from 'commander';
import { reportError } from '../journal.ts';
import { DEFAULT_CONFIG } from './defaults.ts';
import { EXIT } from './exit-codes.ts';

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run the agent of this node: heartbeats, failure detection, fencing, takeover and reintegration')
    .option('--config <file>', 'the pair configuration (default: $HANFS_CONFIG or /etc/hanfs/pair.yaml)', DEFAULT_CONFIG)
    .option('--node <name>', "this node's name in the configuration (default: found by host name)")
    .option('--dry-run', 'log the resource actions instead of carrying them out')
    .action(async (opts: { config: string; node?: string; dryRun?: boolean }) => {
      // glibc read MALLOC_ARENA_MAX (hanfs-agent.service sets it: otherwise each of the agent's threads that
      // allocates may grow an arena of its own, 4-8 MiB of its resident memory in the overhead benchmark) when this
      // process started. The NFS servers and commands the agent starts inherit its environment: they keep glibc's
      // default, which a busy multithreaded NFS server wants.
      delete process.env.MALLOC_ARENA_MAX;
      // The agent and what it needs load only for this command (main.ts registers them all).
      const { ConfigurationError, runAgent } = await import('../daemon/run-agent.ts');
      try {
        await runAgent({ config: opts.config, node: opts.node, dryRun: !!opts.dryRun });
      } catch (err) {
        reportError(`hanfs agent: ${(err as Error).message}`);
        process.exitCode = err instanceof ConfigurationError ? EXIT.config : 1;
      }
    });
}
