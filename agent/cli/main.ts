// The hanfs command line: it only parses options and hands them to one module per subcommand.
import { Command } from 'commander';
import { registerAgentCommand } from './agent.ts';
import { registerConfigCommands } from './config-check.ts';
import { registerControlCommands } from './control.ts';
import { registerDiskCommands } from './disk.ts';
import { registerGroupCommand } from './group.ts';
import { registerSimulateCommand } from './simulate.ts';

const program = new Command();
program
  .name('hanfs')
  .description('A highly available NFS server pair (HA-NFS): failure detection, fencing, takeover and reintegration.')
  .showHelpAfterError();

registerAgentCommand(program);
registerControlCommands(program);
registerConfigCommands(program);
registerDiskCommands(program);
registerGroupCommand(program);
registerSimulateCommand(program);

await program.parseAsync(process.argv);
