// Commands that talk to the running agent through its control socket: status, events, and the operator's moves.
// Each checks first that it runs as root (the socket is root's alone), then asks; the exit codes are in exit-codes.ts.
import { InvalidArgumentError, type Command } from 'commander';
import type { EventsAnswer } from '../operate/control-commands.ts';
import { askControl } from '../process/control-socket.ts';
import type { AgentStatus } from '../operate/status.ts';
import { DEFAULT_CONFIG } from './defaults.ts';
import { formatEntry } from './events-format.ts';
import { EXIT } from './exit-codes.ts';
import { formatStatus } from './status-format.ts';

interface SocketOptions {
  config: string;
  socket?: string;
}

const OPERATOR_COMMANDS = {
  reintegrate: 'ask the partner to give this (fenced) node its group back, then start it',
  takeover: "move the partner's group to this node (after a planned stop of the partner)",
  release: "give the partner's group back to it (this node stops serving it)",
} as const;

const HEALTH_EXIT = { healthy: EXIT.ok, degraded: EXIT.degraded, failed: EXIT.failed } as const;
const FOLLOW_EVERY_MS = 500;

/** The agent could not be asked: no socket, no answer, an unreadable configuration. */
class Unreachable extends Error {}

export function registerControlCommands(program: Command): void {
  withSocketOptions(program.command('status')
    .description("the local agent's view of the pair: both nodes, the detector's channels, groups, fences, recent transitions; "
      + 'exit 0 healthy, 1 degraded, 2 failed, 3 no agent, 4 not root'))
    .option('--json', 'print the status as JSON (its shape is stable; see README)')
    .action((opts: SocketOptions & { json?: boolean }) => run('status', opts, async (ask) => {
      const st = (await ask('status')) as AgentStatus;
      process.stdout.write(opts.json ? `${JSON.stringify(st, null, 2)}\n` : formatStatus(st));
      return HEALTH_EXIT[st.health.level];
    }));

  withSocketOptions(program.command('events')
    .description("the agent's timeline: transitions, operator commands, resource steps and commands run, with their durations"))
    .option('--follow', 'keep printing new entries as they come')
    .option('--json', 'one JSON object per line')
    .option('--limit <n>', 'at most the last N entries (before following)', positiveInt, 1000)
    .action((opts: SocketOptions & { follow?: boolean; json?: boolean; limit: number }) => run('events', opts, async (ask) => {
      const print = (e: EventsAnswer['entries'][number]) => console.log(opts.json ? JSON.stringify(e) : formatEntry(e));
      let answer = (await ask('events', { limit: opts.limit })) as EventsAnswer;
      answer.entries.forEach(print);
      let silent = false;
      while (opts.follow) {
        await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
        let next: EventsAnswer;
        try {
          next = (await ask('events', { after: answer.lastId })) as EventsAnswer;
        } catch (err) {
          // An agent being restarted is away for a moment: say so once and keep asking.
          if (!(err instanceof Unreachable)) throw err;
          if (!silent) console.error(`hanfs events: ${err.message}; still trying`);
          silent = true;
          continue;
        }
        silent = false;
        if (next.generation !== answer.generation) {
          // The agent restarted and its ids began again: everything of the new run is news.
          if (!opts.json) console.log(`-- the agent restarted (generation ${next.generation}) --`);
          next = (await ask('events', {})) as EventsAnswer;
        }
        next.entries.forEach(print);
        answer = next;
      }
      return EXIT.ok;
    }));

  for (const [name, description] of Object.entries(OPERATOR_COMMANDS)) {
    withSocketOptions(program.command(name).description(description))
      .action((opts: SocketOptions) => run(name, opts, (ask) => operator(ask, name)));
  }

  withSocketOptions(program.command('maintenance')
    .description('on: this node keeps serving but starts no failover of its own (no fence, takeover or handover) and '
      + 'ignores failed health checks; kept across agent restarts. off: back to normal'))
    .argument('<on|off>', 'on or off', (v: string) => {
      if (v !== 'on' && v !== 'off') throw new InvalidArgumentError('on or off');
      return v;
    })
    .action((state: 'on' | 'off', opts: SocketOptions) => run('maintenance', opts, (ask) => operator(ask, 'maintenance', { on: state === 'on' })));

  const resource = program.command('resource').description('the resources of the groups this node serves');
  withSocketOptions(resource.command('restart')
    .description('restart one resource, and everything above it in the group, through the normal restart path (no failure is counted)'))
    .argument('<name>', 'RESOURCE (log_replay, filesystem, nfs_server, exports, service_ip, arp, nsm_notify), or GROUP/RESOURCE when this node serves both groups')
    .action((name: string, opts: SocketOptions) => run('resource restart', opts, (ask) => operator(ask, 'resource_restart', { resource: name })));
}

function withSocketOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'the pair configuration, for the socket path (default: $HANFS_CONFIG or /etc/hanfs/pair.yaml)', DEFAULT_CONFIG)
    .option('--socket <path>', 'the control socket, instead of the one in the configuration');
}

type Ask = (command: string, args?: unknown) => Promise<unknown>;

/** An operator command: prints the agent's answer; exit 1 if it refused. */
async function operator(ask: Ask, command: string, args?: unknown): Promise<number> {
  const lines = (await ask(command, args)) as string[];
  for (const line of lines) console.log(line);
  return lines.some((line) => line.includes(' refused: ')) ? EXIT.refused : EXIT.ok;
}

/** Checks root, finds the socket, runs `body` with a way to ask the agent, and sets the exit code. */
async function run(name: string, opts: SocketOptions, body: (ask: Ask) => Promise<number>): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error(`hanfs ${name}: the agent's control socket is root's alone: run this as root (e.g. sudo hanfs ${name})`);
    process.exitCode = EXIT.notRoot;
    return;
  }
  try {
    const path = opts.socket ?? (await socketFromConfig(opts.config));
    const ask: Ask = async (command, args) => {
      let answer: { ok: boolean; result?: unknown; error?: string };
      try {
        answer = (await askControl(path, command, args)) as typeof answer;
      } catch (err) {
        throw new Unreachable((err as Error).message);
      }
      if (!answer.ok) throw new Error(answer.error ?? 'the agent gave no reason');
      return answer.result;
    };
    process.exitCode = await body(ask);
  } catch (err) {
    console.error(`hanfs ${name}: ${(err as Error).message}`);
    process.exitCode = err instanceof Unreachable ? EXIT.unreachable : EXIT.refused;
  }
}

async function socketFromConfig(file: string): Promise<string> {
  // The parser and the schema load only when no --socket says where the socket is.
  const { loadConfig } = await import('../../config/load.ts');
  const loaded = await loadConfig(file);
  if (loaded.ok) return loaded.config.controlSocket;
  const [first] = loaded.errors;
  if (first?.kind === 'unreadable') throw new Unreachable(`cannot read the configuration for the socket's path: ${first.message} (or give --socket)`);
  throw new Unreachable(`${file} is not a valid configuration (run hanfs config check ${file})`);
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}
