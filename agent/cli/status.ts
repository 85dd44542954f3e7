// `hanfs status`: asks the running agent, through its control socket, what it sees.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { askControl } from '../daemon/control-socket.ts';
import { DEFAULT_CONFIG } from './defaults.ts';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show the local agent's view of the pair as JSON (from its control socket)")
    .option('--config <file>', 'the pair configuration, for the socket path (default: $HANFS_CONFIG or /etc/hanfs/pair.yaml)', DEFAULT_CONFIG)
    .option('--socket <path>', 'the control socket, instead of the one in the configuration')
    .action(async (opts: { config: string; socket?: string }) => {
      try {
        const path = opts.socket ?? (await socketFromConfig(opts.config));
        console.log(JSON.stringify(await askControl(path, 'status'), null, 2));
      } catch (err) {
        console.error(`hanfs status: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}

async function socketFromConfig(file: string): Promise<string> {
  const loaded = await loadConfig(file);
  if (!loaded.ok) throw new Error(`${file} is not a valid configuration (run hanfs config check ${file})`);
  return loaded.config.controlSocket;
}
