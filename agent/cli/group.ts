// `hanfs group start|stop GROUP`: one run of a group's resource steps on this node, with the agent's own resource
// layer, and no agent: for another cluster manager's hooks (keepalived's notify script in the benchmarks). Nothing
// here checks the partner or the disk's fences: whoever calls it has decided that this node may take the group.
import { hostname } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { ResourceKind } from '../core/types.ts';
import type { LogFn } from '../ports.ts';
import { parseResourceKinds, runGroupSteps } from '../resources/group-steps.ts';
import { DEFAULT_CONFIG } from './defaults.ts';
import { EXIT } from './exit-codes.ts';

interface GroupOptions {
  config: string;
  node?: string;
  skip?: ResourceKind[];
}

export function registerGroupCommand(program: Command): void {
  const group = program.command('group').description("run a group's resource steps once on this node, without the agent");
  for (const op of ['start', 'stop'] as const) {
    group.command(op)
      .description(op === 'start'
        ? 'start the group here: log replay, mount, NFS server, exports, service address, ARP, NSM notify (in that order)'
        : 'stop the group here, in the reverse order')
      .argument('<group>', 'the group: the name of the node whose file systems it serves')
      .option('--config <file>', 'the pair configuration (default: $HANFS_CONFIG or /etc/hanfs/pair.yaml)', DEFAULT_CONFIG)
      .option('--node <name>', "this node's name in the configuration (default: found by host name)")
      .option('--skip <kinds>', 'resource kinds to leave alone, comma-separated (e.g. service_ip when another manager owns the address)', parseSkip)
      .action((name: string, opts: GroupOptions) => runOnce(op, name, opts));
  }
}

function parseSkip(value: string): ResourceKind[] {
  try {
    return parseResourceKinds(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

async function runOnce(op: 'start' | 'stop', group: string, opts: GroupOptions): Promise<void> {
  // What a run needs loads only for this command (main.ts registers them all).
  const [{ formatConfigError }, { loadConfig, selectNode }, { pairView }, { ProcessRunner }, { closeLogger, createLogger }, { SystemResources }] =
    await Promise.all([
      import('../../config/errors.ts'), import('../../config/load.ts'), import('../pair-view.ts'), import('../exec/runner.ts'),
      import('../log.ts'), import('../resources/system.ts'),
    ]);
  const loaded = await loadConfig(opts.config);
  if (!loaded.ok) {
    console.error(`hanfs group ${op}: invalid configuration:\n${loaded.errors.map(formatConfigError).join('\n')}`);
    process.exitCode = EXIT.config;
    return;
  }
  const pair = loaded.config;
  const chosen = selectNode(pair, opts.node, hostname());
  if (!chosen.ok) {
    console.error(`hanfs group ${op}: ${chosen.error}`);
    process.exitCode = EXIT.config;
    return;
  }
  if (!(group in pair.nodes)) {
    console.error(`hanfs group ${op}: ${group} is not one of the pair's groups (${Object.keys(pair.nodes).join(', ')})`);
    process.exitCode = EXIT.usage;
    return;
  }
  const view = pairView(pair, chosen.self.name);
  const logger = createLogger({ level: pair.log.level, file: pair.log.file });
  const log: LogFn = (level, message, fields) => logger.log(level, message, { node: view.self, ...fields });
  const resources = new SystemResources({ view, runner: new ProcessRunner({ log }), log, runDir: pair.runDir });
  try {
    const result = await runGroupSteps(resources, group, op, opts.skip ?? []);
    if (result.ok) log('info', `${op} ${group}: done (${result.done.join(', ') || 'nothing to do'})`, { event: 'group', group, op });
    else {
      log('error', `${op} ${group}: ${result.failed} failed: ${result.error}`, { event: 'group', group, op });
      process.exitCode = 1;
    }
    // The gratuitous ARP series runs in the background: it must finish before the process goes.
    await resources.idle();
  } finally {
    await closeLogger(logger);
  }
}
