// Run by lab.test.ts inside server1's network namespace and a private mount namespace (nsenter): the resource
// driver of server1, answering one JSON request per stdin line with one JSON line. A driver per config file (the
// normal one, one with a broken template), all sharing one runtime directory; commands run through a real
// ProcessRunner that also records what ran and how long it took.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { RESOURCE_ORDER, type ResourceKind } from '../../agent/core/types.ts';
import { pairView } from '../../agent/pair-view.ts';
import { ProcessRunner } from '../../agent/exec/runner.ts';
import type { CommandResult, CommandRunner } from '../../agent/ports.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { loadConfig } from '../../config/load.ts';

export type Request =
  | { do: 'run'; config: string; kind: ResourceKind; op: 'start' | 'stop'; group?: string }
  | { do: 'group'; op: 'start' | 'stop' }
  | { do: 'monitor' }
  | { do: 'commands' }
  | { do: 'idle' }
  /** The normal driver's log lines since the last ask, as "level: message". */
  | { do: 'logs' }
  /** A process with its working directory inside the mount, to make the unmount busy. */
  | { do: 'holder'; cwd: string }
  /** A command in this child's namespaces, e.g. to mount something in the way. */
  | { do: 'sh'; argv: string[] }
  /** Another server holding the NFS port on an address (until 'release'). */
  | { do: 'occupy'; ip: string; port: number }
  | { do: 'release' };

export interface Step {
  kind: ResourceKind;
  ok: boolean;
  error?: string;
  ms: number;
}

export interface RanCommand {
  line: string;
  ms: number;
  code: number | null;
}

class RecordingRunner implements CommandRunner {
  ran: RanCommand[] = [];
  constructor(private readonly inner: CommandRunner) {}
  async run(argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CommandResult> {
    const result = await this.inner.run(argv, opts);
    this.ran.push({ line: argv.join(' '), ms: Math.round(result.durationMs), code: result.code });
    return result;
  }
}

async function main(configs: Record<string, string>, runDir: string): Promise<void> {
  const plain = new ProcessRunner({ log: () => {} });
  const runner = new RecordingRunner(plain);
  const drivers = new Map<string, SystemResources>();
  const logged: string[] = [];
  for (const [name, file] of Object.entries(configs)) {
    const loaded = await loadConfig(file);
    if (!loaded.ok) throw new Error(`${file}: ${JSON.stringify(loaded.errors)}`);
    const log = name === 'normal' ? (level: string, message: string) => { logged.push(`${level}: ${message}`); } : () => {};
    drivers.set(name, new SystemResources({ view: pairView(loaded.config, 'server1'), runner, log, runDir }));
  }
  const normal = drivers.get('normal')!;
  let occupier: Server | null = null;

  const step = async (driver: SystemResources, group: string, kind: ResourceKind, op: 'start' | 'stop'): Promise<Step> => {
    const started = performance.now();
    const result = await driver.run(group, kind, kind, op);
    return { kind, ...result, ms: Math.round(performance.now() - started) };
  };

  const answer = async (req: Request): Promise<unknown> => {
    switch (req.do) {
      case 'run':
        return step(drivers.get(req.config)!, req.group ?? 'server1', req.kind, req.op);
      case 'group': {
        const started = performance.now();
        const steps: Step[] = [];
        for (const kind of req.op === 'start' ? RESOURCE_ORDER : [...RESOURCE_ORDER].reverse()) {
          steps.push(await step(normal, 'server1', kind, req.op));
          if (!steps.at(-1)!.ok) break;
        }
        return { steps, ms: Math.round(performance.now() - started) };
      }
      case 'monitor':
        return normal.monitor();
      case 'commands':
        return runner.ran.splice(0);
      case 'logs':
        return logged.splice(0);
      case 'idle':
        await Promise.all([...drivers.values()].map((d) => d.idle()));
        return {};
      case 'holder': {
        const child = spawn('sleep', ['600'], { cwd: req.cwd, stdio: 'ignore', detached: true });
        child.unref();
        return { pid: child.pid };
      }
      case 'occupy':
        occupier = createServer();
        await new Promise<void>((resolve) => occupier!.listen({ host: req.ip, port: req.port }, resolve));
        return {};
      case 'release':
        await new Promise((resolve) => occupier?.close(resolve));
        return {};
      case 'sh': {
        const result = await plain.run(req.argv);
        return { code: result.code, stdout: result.stdout, stderr: result.stderr };
      }
    }
  };

  for await (const line of createInterface({ input: process.stdin })) {
    let reply: unknown;
    try {
      reply = await answer(JSON.parse(line) as Request);
    } catch (err) {
      reply = { exception: (err as Error).stack ?? String(err) };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
}

const [configs = '{}', runDir = ''] = process.argv.slice(2);
await main(JSON.parse(configs) as Record<string, string>, runDir);
