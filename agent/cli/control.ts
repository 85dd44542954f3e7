// Commands that talk to the running agent through its control socket: status, and the operator's moves.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { askControl } from '../daemon/control-socket.ts';
import { DEFAULT_CONFIG } from './defaults.ts';

interface ControlOptions {
  config: string;
  socket?: string;
}

const OPERATOR_COMMANDS = {
  reintegrate: 'ask the partner to give this (fenced) node its group back, then start it',
  takeover: "move the partner's group to this node (after a planned stop of the partner)",
  release: "give the partner's group back to it (this node stops serving it)",
} as const;

export function registerControlCommands(program: Command): void {
  withSocketOptions(program.command('status').description("show the local agent's view of the pair as JSON"))
    .action((opts: ControlOptions) => ask(opts, 'status', (answer) => console.log(JSON.stringify(answer, null, 2))));
  for (const [name, description] of Object.entries(OPERATOR_COMMANDS)) {
    withSocketOptions(program.command(name).description(description))
      .action((opts: ControlOptions) => ask(opts, name, (answer) => {
        const { ok, result, error } = answer as { ok: boolean; result?: string[]; error?: string };
        if (!ok) throw new Error(error ?? 'refused');
        for (const line of result ?? []) console.log(line);
        if ((result ?? []).some((line) => line.includes(' refused: '))) process.exitCode = 1;
      }));
  }
}

function withSocketOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'the pair configuration, for the socket path (default: $HANFS_CONFIG or /etc/hanfs/pair.yaml)', DEFAULT_CONFIG)
    .option('--socket <path>', 'the control socket, instead of the one in the configuration');
}

async function ask(opts: ControlOptions, command: string, show: (answer: unknown) => void): Promise<void> {
  try {
    show(await askControl(opts.socket ?? (await socketFromConfig(opts.config)), command));
  } catch (err) {
    console.error(`hanfs ${command}: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

async function socketFromConfig(file: string): Promise<string> {
  const loaded = await loadConfig(file);
  if (!loaded.ok) throw new Error(`${file} is not a valid configuration (run hanfs config check ${file})`);
  return loaded.config.controlSocket;
}
