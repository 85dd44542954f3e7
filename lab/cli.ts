// `scripts/lab`: the namespace lab's command line, a stable interface for tests, the demo and benchmarks.
// Every subcommand takes --prefix P (or HANFS_LAB_PREFIX), so that several labs can run side by side.
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { killAll, nodePids, powerOff, powerOn } from './agents.ts';
import { configPath, LAB_NFS, SERVERS, type Server } from './config.ts';
import { commandGuest, type GuestCommand } from './guest/control.ts';
import { lastConsoleLines, parseExport, startGuest, stopGuest, stopGuests } from './guest/lifecycle.ts';
import { findGuest, listGuests, NFS_VERSIONS, type GuestNet, type NfsVersion } from './guest/registry.ts';
import { formatReport, parseOps, report, resultLines } from './guest/results.ts';
import { labStatus } from './inspect.ts';
import { labDown, labUp } from './lifecycle.ts';
import { onNode } from './mountns.ts';
import { partitionServers } from './partition.ts';
import { resolvePrefix } from './state.ts';
import { NODES, type LabNode } from './topology.ts';

const HANFS = new URL('../bin/hanfs', import.meta.url).pathname;
const program = new Command().name('scripts/lab').enablePositionalOptions()
  .description('the hanfs namespace lab: two servers and a client on two networks, and kernel-client guests');

/** commander keeps the `--` that separates the command from our own options. */
function command(argv: string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : argv;
}

function node(name: string, servers = false): LabNode {
  const known: readonly string[] = servers ? SERVERS : NODES;
  if (!known.includes(name)) throw new Error(`unknown node ${name} (known: ${known.join(', ')})`);
  return name as LabNode;
}

/** Runs argv in the foreground with our stdio; the lab command exits with its code. */
function passThrough(argv: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
  process.exitCode = r.status ?? 1;
}

program.command('up').description('build the lab and start both agents; returns once both servers serve their exports')
  .option('--prefix <p>').option('--reintegrate <mode>', 'manual or auto', 'manual').option('--timeout <ms>', 'how long to wait', '60000')
  .option('--nfsv3 <server>', "the server whose group also serves NFSv3 (NLM locks, NSM notification); default: none")
  .action(async (o: { prefix?: string; reintegrate: string; timeout: string; nfsv3?: string }) => {
    const prefix = resolvePrefix(o.prefix);
    const nfsv3 = o.nfsv3 === undefined ? undefined : (node(o.nfsv3, true) as Server);
    await labUp(prefix, { reintegrate: o.reintegrate === 'auto' ? 'auto' : 'manual', timeoutMs: Number(o.timeout), nfs: { ...LAB_NFS, nfsv3 } });
    console.log(`lab ${prefix} is up: server1 serves /srv1 on 198.51.100.11, server2 /srv2 on 203.0.113.12`
      + `${nfsv3 ? ` (${nfsv3}'s with NFSv3 too)` : ''}`);
  });

program.command('down').description('remove everything the lab made: processes, namespaces, mounts, loop devices')
  .option('--prefix <p>').action(async (o: { prefix?: string }) => labDown(resolvePrefix(o.prefix)));

program.command('exec').description("run a command in a node's namespaces: exec NODE -- CMD...")
  .option('--prefix <p>').argument('<node>').argument('<cmd...>').passThroughOptions()
  .action((name: string, cmd: string[], o: { prefix?: string }) => passThrough(onNode(resolvePrefix(o.prefix), node(name), command(cmd))));

program.command('hanfs').description("run the hanfs CLI on a server, against that server's agent: hanfs NODE ARGS...")
  .option('--prefix <p>').argument('<node>').argument('<args...>').passThroughOptions()
  .action((name: string, args: string[], o: { prefix?: string }) => {
    const prefix = resolvePrefix(o.prefix);
    const server = node(name, true) as Server;
    passThrough(onNode(prefix, server, [process.execPath, HANFS, ...command(args)]), { ...process.env, HANFS_CONFIG: configPath(prefix, server) });
  });

program.command('pids').description("print every PID of a node (agent, NFS servers, helpers), one a line")
  .option('--prefix <p>').argument('<node>')
  .action(async (name: string, o: { prefix?: string }) => {
    for (const pid of await nodePids(resolvePrefix(o.prefix), node(name))) console.log(pid);
  });

program.command('boot').description("power a server on: its links up, then its agent started as a machine boot would; the rest is the agent's")
  .option('--prefix <p>').argument('<node>')
  .action(async (name: string, o: { prefix?: string }) => {
    console.log(await powerOn(resolvePrefix(o.prefix), node(name, true) as Server));
  });

program.command('fence').description('power a server off: its links cut first, then all its processes killed, its addresses and mounts gone')
  .option('--prefix <p>').argument('<node>')
  .action(async (name: string, o: { prefix?: string }) => {
    await powerOff(resolvePrefix(o.prefix), node(name, true) as Server);
  });

program.command('kill').description("kill every process of a node (its addresses and mounts stay, as after a crash of the software)")
  .option('--prefix <p>').argument('<node>')
  .action(async (name: string, o: { prefix?: string }) => {
    await killAll(resolvePrefix(o.prefix), node(name));
  });

program.command('partition').description('drop (on) or pass again (off) all traffic between the two servers, on both networks; clients still reach both')
  .option('--prefix <p>').argument('<on|off>')
  .action(async (state: string, o: { prefix?: string }) => {
    if (state !== 'on' && state !== 'off') throw new Error(`partition on or off, not ${state}`);
    await partitionServers(resolvePrefix(o.prefix), state === 'on');
  });

program.command('status').description('the topology and who serves what, as JSON')
  .option('--prefix <p>')
  .action(async (o: { prefix?: string }) => console.log(JSON.stringify(await labStatus(resolvePrefix(o.prefix)), null, 2)));

const guest = program.command('guest').description('kernel NFS client guests (QEMU, Debian cloud kernel) on the lab networks');

guest.command('start').description('boot guests that mount an export (hard, default options); returns once each has mounted')
  .option('--prefix <p>').option('--net <net>', 'neta or netb', 'neta').option('--vers <v>', `NFS version: ${NFS_VERSIONS.join(', ')}`, '4.1')
  .option('--export <e>', "server1, server2 or ADDRESS:/PATH (default: the export served on the guest's network)")
  .option('--count <n>', 'how many guests', '1')
  .action(async (o: { prefix?: string; net: string; vers: string; export?: string; count: string }) => {
    const prefix = resolvePrefix(o.prefix);
    if (o.net !== 'neta' && o.net !== 'netb') throw new Error(`--net neta or netb, not ${o.net}`);
    if (!NFS_VERSIONS.includes(o.vers as NfsVersion)) throw new Error(`--vers ${NFS_VERSIONS.join(', ')}, not ${o.vers}`);
    const net = o.net as GuestNet;
    const target = o.export === undefined ? {} : parseExport(net, o.export);
    for (let i = 0; i < Number(o.count); i++) {
      const g = await startGuest(prefix, { net, vers: o.vers as NfsVersion, ...target });
      console.log(`${g.name}: ${g.address} on ${g.net}, mounted ${g.server}:${g.export} vers=${g.vers} (QEMU PID ${g.pid})`);
    }
  });

guest.command('stop').description('kill guests (by PID) and remove their taps: stop [NAME...], all without names')
  .option('--prefix <p>').argument('[names...]')
  .action(async (names: string[], o: { prefix?: string }) => {
    const prefix = resolvePrefix(o.prefix);
    if (names.length === 0) await stopGuests(prefix);
    for (const name of names) await stopGuest(prefix, findGuest(prefix, name).name);
  });

guest.command('list').description('the guests of the lab, as JSON').option('--prefix <p>')
  .action((o: { prefix?: string }) => console.log(JSON.stringify(listGuests(resolvePrefix(o.prefix)), null, 2)));

guest.command('workload').description("drive a guest's workload: workload NAME start|stop|verify|poweroff; prints the guest's reply")
  .option('--prefix <p>').argument('<name>').argument('<command>')
  .action(async (name: string, command: string, o: { prefix?: string }) => {
    if (!['start', 'stop', 'verify', 'poweroff'].includes(command)) throw new Error(`workload start, stop, verify or poweroff, not ${command}`);
    const prefix = resolvePrefix(o.prefix);
    console.log(await commandGuest(prefix, findGuest(prefix, name).name, command as GuestCommand));
  });

guest.command('report').description("a guest's operations so far: counts, failures, longest stall per loop")
  .option('--prefix <p>').option('--json', 'the report as JSON').option('--raw', "the guest's result lines as they came")
  .argument('<name>')
  .action((name: string, o: { prefix?: string; json?: boolean; raw?: boolean }) => {
    const prefix = resolvePrefix(o.prefix);
    const lines = resultLines(prefix, findGuest(prefix, name).name);
    if (o.raw) console.log(lines.join('\n'));
    else if (o.json) console.log(JSON.stringify(report(parseOps(lines)), null, 2));
    else console.log(formatReport(report(parseOps(lines))));
  });

guest.command('console').description("the last lines of a guest's console (kernel messages included)")
  .option('--prefix <p>').option('--lines <n>', 'how many', '40').argument('<name>')
  .action((name: string, o: { prefix?: string; lines: string }) => {
    const prefix = resolvePrefix(o.prefix);
    console.log(lastConsoleLines(prefix, findGuest(prefix, name).name, Number(o.lines)));
  });

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`scripts/lab: ${err.message}`);
  process.exitCode = 1;
});
