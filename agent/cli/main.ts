// The hanfs command line: it only parses options and hands them to one module per subcommand.
import { Command } from 'commander';
import { registerConfigCommands } from './config-check.ts';
import { registerSimulateCommand } from './simulate.ts';

const program = new Command();
program
  .name('hanfs')
  .description('A highly available NFS server pair (HA-NFS): failure detection, fencing, takeover and reintegration.')
  .showHelpAfterError();

registerConfigCommands(program);
registerSimulateCommand(program);

await program.parseAsync(process.argv);
