// What every resource action works with (this node's view of the pair, the command runner, the log, the runtime
// directory) and the one way actions run a configured command template, so that every failure reads the same:
// the command as run, how it failed, and the first line of its stderr.
import type { NodeConfig } from '../../config/schema.ts';
import type { PairView } from '../pair-view.ts';
import type { CommandResult, CommandRunner, LogFn } from '../ports.ts';
import type { GroupId } from '../core/types.ts';
import { commandFailed, commandSucceeded, fillTemplate } from '../exec/templates.ts';

export interface ResourceContext {
  view: PairView;
  runner: CommandRunner;
  log: LogFn;
  /** Per-agent runtime directory: generated files (Ganesha's config, log and pid file) go under `${runDir}/${group}`. */
  runDir: string;
}

/**
 * How long each kind of command may run before the runner ends it. fsck of a large file system after a crash can
 * take minutes; the rest either answer within seconds or are stuck (a mount on a dead path, say).
 */
export const COMMAND_TIMEOUT_MS = {
  fsck: 600_000,
  mount: 60_000,
  umount: 10_000,
  ip: 5_000,
  // arping -D waits for its own -w deadline (1 s in the default template).
  arping: 5_000,
  nfsAdmin: 30_000,
} as const;

export function groupConfig(ctx: ResourceContext, group: GroupId): NodeConfig {
  const node = ctx.view.pair.nodes[group];
  if (!node) throw new Error(`group ${group} is not one of the pair's (${ctx.view.nodes.join(', ')})`);
  return node;
}

/** The named template of the pair's NFS profile, filled in. */
export function commandArgv(ctx: ResourceContext, name: string, values: Readonly<Record<string, string>>): string[] {
  const template = ctx.view.pair.nfs.commands[name];
  if (!template) throw new Error(`the ${ctx.view.pair.nfs.profile} profile has no command template "${name}"`);
  return fillTemplate(template, values);
}

/** Runs argv and throws the one-line reason when it does not succeed. */
export async function runOrFail(ctx: ResourceContext, argv: string[], timeoutMs: number): Promise<CommandResult> {
  const result = await ctx.runner.run(argv, { timeoutMs });
  if (!commandSucceeded(result)) throw new Error(commandFailed(result));
  return result;
}
