// `hanfs ocf ACTION`: one hanfs NFS virtual server as an OCF resource agent, for Pacemaker. The agent Pacemaker runs,
// /usr/lib/ocf/resource.d/hanfs/vserver (config/ocf/vserver), is a two-line shell script that execs this, so that
// the OCF side uses hanfs's own resource layer (agent/resources: the steps `hanfs group` and the pair agent run)
// rather than a second copy of it. Parameters come from the environment (OCF_RESKEY_<name>, see ocf-metadata.ts),
// the monitor's depth from OCF_CHECK_LEVEL; the exit code is the OCF return code. Nothing here checks a partner or
// fences: Pacemaker has decided, and fences on a failed stop.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import type { PairConfig } from '../../config/schema.ts';
import type { ResourceKind } from '../core/types.ts';
import type { LogFn } from '../ports.ts';
import { parseResourceKinds, runGroupSteps } from '../resources/group-steps.ts';
import type { SystemResources } from '../resources/system.ts';
import { OCF_PARAMETERS, ocfMetadata } from './ocf-metadata.ts';
import { packageVersion } from './version.ts';

/** OCF return codes (OCF 1.1, "Return codes"). */
export const OCF = {
  success: 0, errGeneric: 1, errArgs: 2, errUnimplemented: 3, errPerm: 4, errInstalled: 5, errConfigured: 6, notRunning: 7,
} as const;

const ACTIONS = ['start', 'stop', 'monitor', 'validate-all', 'reload', 'meta-data', 'usage', 'help'] as const;

/** The templates a start may run (those of the profile; the others run only at stop, where a missing one is moot). */
const START_TEMPLATES = ['journalReplay', 'fsck', 'mount', 'addressAdd', 'arpAnnounce', 'start', 'serverStart', 'exportAdd'];

export function registerOcfCommand(program: Command): void {
  program.command('ocf')
    .description('an OCF resource agent for one NFS virtual server (Pacemaker runs it as ocf:hanfs:vserver): parameters in OCF_RESKEY_*')
    .argument('[action]', `${ACTIONS.join(', ')}`)
    .action(async (action: string | undefined) => {
      process.exitCode = await runOcfAction(action ?? '', process.env);
    });
}

class OcfFailure extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

interface Params {
  group: string;
  config: string;
  node: string;
  interface: string;
  skip: ResourceKind[];
}

/** Writes to stderr, which Pacemaker logs; `ocf-exit-reason:` lines become the failure's reason in crm_mon. */
function stderrLog(debug: boolean): LogFn {
  return (level, message) => {
    if (level === 'debug' && !debug) return;
    process.stderr.write(`hanfs ocf: ${level}: ${message}\n`);
  };
}

function exitReason(text: string): void {
  process.stderr.write(`ocf-exit-reason:${text.replace(/\s*\n\s*/g, ' | ')}\n`);
}

export async function runOcfAction(action: string, env: NodeJS.ProcessEnv): Promise<number> {
  if (action === 'meta-data') {
    process.stdout.write(ocfMetadata(packageVersion()));
    return OCF.success;
  }
  if (action === 'usage' || action === 'help') {
    process.stdout.write(`usage: ${ACTIONS.join('|')} (hanfs ocf ACTION, parameters in OCF_RESKEY_*)\n`);
    return OCF.success;
  }
  if (!(ACTIONS as readonly string[]).includes(action)) {
    process.stderr.write(`hanfs ocf: ${action ? `action ${action} is not implemented` : 'no action given'} (${ACTIONS.join('|')})\n`);
    return OCF.errUnimplemented;
  }
  // A probe (monitor with interval 0) asks whether the resource runs here; on a node that cannot run it, it does not.
  const probe = action === 'monitor' && Number(env.OCF_RESKEY_CRM_meta_interval ?? 0) === 0;
  try {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new OcfFailure(OCF.errPerm, `${action} must run as root`);
    const params = readParams(env);
    const checkPath = action === 'start' || action === 'validate-all' ? env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' : null;
    const resources = await openResources(params, checkPath, stderrLog(env.HA_debug === '1'));
    switch (action) {
      case 'validate-all':
        return OCF.success;
      case 'start':
        return await start(resources, params);
      case 'stop':
        return await stop(resources, params);
      case 'monitor':
        return await monitor(resources, params, Number(env.OCF_CHECK_LEVEL ?? 0) || 0);
      case 'reload':
        await resources.reloadExports(params.group);
        return OCF.success;
    }
    return OCF.errUnimplemented;
  } catch (err) {
    const failure = err instanceof OcfFailure ? err : new OcfFailure(OCF.errGeneric, (err as Error).message);
    // Not installed or not configured here: it cannot be running here, and there is nothing to stop.
    if (failure.code === OCF.errInstalled && probe) return OCF.notRunning;
    if (failure.code === OCF.errInstalled && action === 'stop') return OCF.success;
    exitReason(failure.message);
    return failure.code;
  }
}

function readParams(env: NodeJS.ProcessEnv): Params {
  const value = (name: string) => env[`OCF_RESKEY_${name}`] ?? OCF_PARAMETERS.find((p) => p.name === name)!.default;
  const group = value('group');
  if (!group) throw new OcfFailure(OCF.errConfigured, 'the group parameter is required (the virtual server: a node name of the pair configuration)');
  let skip: ResourceKind[];
  try {
    skip = parseResourceKinds(value('skip'));
  } catch (err) {
    throw new OcfFailure(OCF.errConfigured, `skip: ${(err as Error).message}`);
  }
  return { group, config: value('config'), node: value('node'), interface: value('interface'), skip };
}

/** `checkPath`: the PATH on which every program a start runs must be found, or null not to check. */
async function openResources(params: Params, checkPath: string | null, log: LogFn): Promise<SystemResources> {
  try {
    await access(params.config, constants.R_OK);
  } catch (err) {
    // Not on this node: another node may have it (a node-local problem, OCF_ERR_INSTALLED).
    throw new OcfFailure(OCF.errInstalled, `configuration ${params.config}: ${(err as Error).message}`);
  }
  // The parser, the schema and the resource layer load only here (main.ts registers every command).
  const [{ formatConfigError }, { loadConfig, selectNode }, { pairView }, { ProcessRunner }, { SystemResources }] = await Promise.all([
    import('../../config/errors.ts'), import('../../config/load.ts'), import('../pair-view.ts'), import('../exec/runner.ts'),
    import('../resources/system.ts'),
  ]);
  const loaded = await loadConfig(params.config);
  if (!loaded.ok) throw new OcfFailure(OCF.errConfigured, `invalid configuration: ${loaded.errors.map(formatConfigError).join('; ')}`);
  const pair = loaded.config;
  if (!(params.group in pair.nodes)) {
    throw new OcfFailure(OCF.errConfigured, `group ${params.group} is not one of the pair's (${Object.keys(pair.nodes).join(', ')})`);
  }
  const self = selfNode(selectNode(pair, params.node || undefined, hostname()), params);
  const view = pairView(withInterface(pair, self, params), self);
  if (checkPath !== null) await requirePrograms(pair, params.skip, checkPath);
  return new SystemResources({ view, runner: new ProcessRunner({ log }), log, runDir: pair.runDir });
}

/** The node parameter, else the node with this machine's hostname, else (a machine outside the pair) the group's own. */
function selfNode(chosen: ReturnType<typeof import('../../config/load.ts').selectNode>, params: Params): string {
  if (chosen.ok) return chosen.self.name;
  if (params.node) throw new OcfFailure(OCF.errConfigured, chosen.error);
  return params.group;
}

/** The interface parameter replaces the one the service address would go on: self's primary for its own group, else its secondary. */
function withInterface(pair: PairConfig, self: string, params: Params): PairConfig {
  if (!params.interface) return pair;
  const copy = structuredClone(pair);
  const node = copy.nodes[self]!;
  if (params.group === self) node.primary.interface = params.interface;
  else node.secondary.interface = params.interface;
  return copy;
}

/** Every program a start runs is on PATH (or at its absolute path): else OCF_ERR_INSTALLED, and Pacemaker tries another node. */
async function requirePrograms(pair: PairConfig, skip: readonly ResourceKind[], path: string): Promise<void> {
  const ext4 = Object.values(pair.nodes).some((n) => n.disks.some((d) => d.fsType === 'ext4'));
  const names = START_TEMPLATES.filter((t) => pair.nfs.commands[t] && (ext4 || (t !== 'journalReplay' && t !== 'fsck')));
  const kindOf: Record<string, ResourceKind> = {
    journalReplay: 'log_replay', fsck: 'log_replay', mount: 'filesystem', addressAdd: 'service_ip', arpAnnounce: 'arp',
    start: 'nfs_server', serverStart: 'nfs_server', exportAdd: 'exports',
  };
  const missing: string[] = [];
  for (const name of names) {
    if (skip.includes(kindOf[name]!)) continue;
    const program = pair.nfs.commands[name]![0]!;
    if (!(await onPath(program, path))) missing.push(`${program} (${name})`);
  }
  if (missing.length > 0) throw new OcfFailure(OCF.errInstalled, `not installed: ${missing.join(', ')}`);
}

async function onPath(program: string, path: string): Promise<boolean> {
  const candidates = program.includes('/')
    ? [program]
    : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const file of candidates) {
    try {
      await access(file, constants.X_OK);
      return true;
    } catch { /* next */ }
  }
  return false;
}

async function start(resources: SystemResources, params: Params): Promise<number> {
  const result = await runGroupSteps(resources, params.group, 'start', params.skip);
  // The gratuitous ARPs and tickle ACKs run in the background: they finish before the process goes.
  await resources.idle();
  if (!result.ok) throw new OcfFailure(OCF.errGeneric, `start ${params.group}: ${result.failed} failed: ${result.error}`);
  const state = await resources.inspect(params.group, 0, params.skip);
  if (state.state !== 'running') throw new OcfFailure(OCF.errGeneric, `start ${params.group}: done, but ${state.absent.join('; ')}`);
  return OCF.success;
}

/** A failed stop is OCF_ERR_GENERIC: Pacemaker then fences this node, the only safe way to free the disks and the address. */
/**
 * Under Pacemaker no process stays to record the group's NFS clients once a second, as the pair's agent does: the
 * monitor records them while the group runs here (the address up), and the stop once more before it goes, so that
 * the node that starts the group next sends them tickle ACKs (nfs-clients.ts). Without the address there is no
 * record to make (an empty one would erase the clients of whoever serves the group).
 */
async function recordClients(resources: SystemResources, params: Params): Promise<void> {
  if (!params.skip.includes('service_ip')) await resources.recordClients(params.group);
}

async function stop(resources: SystemResources, params: Params): Promise<number> {
  if ((await resources.inspect(params.group, 0, params.skip)).state === 'running') await recordClients(resources, params);
  const result = await runGroupSteps(resources, params.group, 'stop', params.skip);
  await resources.idle();
  if (!result.ok) throw new OcfFailure(OCF.errGeneric, `stop ${params.group}: ${result.failed} failed: ${result.error}`);
  const state = await resources.inspect(params.group, 0, params.skip);
  if (state.state !== 'stopped') throw new OcfFailure(OCF.errGeneric, `stop ${params.group}: done, but still there: ${state.present.join('; ')}`);
  return OCF.success;
}

async function monitor(resources: SystemResources, params: Params, depth: number): Promise<number> {
  const state = await resources.inspect(params.group, depth, params.skip);
  switch (state.state) {
    case 'running':
      await recordClients(resources, params);
      return OCF.success;
    case 'stopped':
      return OCF.notRunning;
    case 'partial':
      throw new OcfFailure(OCF.errGeneric, `group ${params.group} partly running: ${state.absent.join('; ')} (there: ${state.present.join('; ')})`);
    case 'failed':
      throw new OcfFailure(OCF.errGeneric, `group ${params.group} failed its depth-${depth} check: ${state.problems.join('; ')}`);
  }
}
