// The hanfs command line: it only parses options and hands them to one module per subcommand.
import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './agent.ts';
import { registerConfigCommands } from './config-check.ts';
import { registerControlCommands } from './control.ts';
import { registerDiskCommands } from './disk.ts';
import { EXIT } from './exit-codes.ts';
import { registerGroupCommand } from './group.ts';
import { registerKeyCommands } from './keys.ts';
import { registerOcfCommand } from './ocf.ts';
import { briefUsageErrors } from './usage.ts';
import { registerSimulateCommand } from './simulate.ts';
import { packageVersion } from './version.ts';
import { registerWatchCommand } from './watch.ts';

const program = new Command();
program
  .name('hanfs')
  .description('A highly available NFS server pair (HA-NFS): failure detection, fencing, takeover and reintegration.')
  .version(packageVersion(), '-V, --version', 'print the version of hanfs')
  // A bad command line must not pass for an answer: status uses 1 and 2 for degraded and failed.
  .exitOverride();

registerAgentCommand(program);
registerControlCommands(program);
registerConfigCommands(program);
registerDiskCommands(program);
registerGroupCommand(program);
registerKeyCommands(program);
registerOcfCommand(program);
registerSimulateCommand(program);
registerWatchCommand(program);
// Last: it reaches every command registered above.
briefUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
