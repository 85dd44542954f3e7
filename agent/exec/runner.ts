// Runs the commands that start and stop resources and fence the partner: argv straight to execve (never a shell),
// bounded in time and in captured output, and every run logged. It never rejects: a command that cannot even start
// is a failed result like any other, so callers have one path for every failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { CommandResult, CommandRunner, LogFn } from '../ports.ts';
import { commandFailed, commandSucceeded, formatArgv } from './templates.ts';

export interface ProcessRunnerOptions {
  log: LogFn;
  /** Timeout of a run that names none. */
  defaultTimeoutMs?: number;
  /** How long a timed-out command gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Bytes kept of each of stdout and stderr; the rest is read and dropped, and the result says so. */
  maxOutputBytes?: number;
  /** After the command exits, how long to wait for its output to close: a background child it left may hold it. */
  outputDrainMs?: number;
  /** Log each command and report success without running anything. */
  dryRun?: boolean;
  /** Told of every run once it has ended (the timeline and metrics listen here); must not throw. */
  onResult?: (result: CommandResult) => void;
}

export class ProcessRunner implements CommandRunner {
  private readonly log: LogFn;
  private readonly defaultTimeoutMs: number;
  private readonly killGraceMs: number;
  private readonly maxOutputBytes: number;
  private readonly outputDrainMs: number;
  private readonly dryRun: boolean;
  private readonly onResult: (result: CommandResult) => void;

  constructor(opts: ProcessRunnerOptions) {
    this.log = opts.log;
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 30_000;
    this.killGraceMs = opts.killGraceMs ?? 2_000;
    this.maxOutputBytes = opts.maxOutputBytes ?? 64 * 1024;
    this.outputDrainMs = opts.outputDrainMs ?? 500;
    this.dryRun = opts.dryRun ?? false;
    this.onResult = opts.onResult ?? (() => {});
  }

  async run(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
    if (this.dryRun) {
      this.log('info', `dry run: would run ${formatArgv(argv)}`, { event: 'command', argv, dryRun: true });
      const result = { argv, code: 0, signal: null, stdout: '', stderr: '', durationMs: 0, timedOut: false, dryRun: true };
      this.onResult(result);
      return result;
    }
    const result = await this.spawnAndWait(argv, opts.timeoutMs ?? this.defaultTimeoutMs, opts.input);
    const ok = commandSucceeded(result);
    this.log(ok ? 'info' : 'warn', ok ? `ran ${formatArgv(argv)}` : commandFailed(result), {
      event: 'command', argv, code: result.code, signal: result.signal, timedOut: result.timedOut,
      durationMs: Math.round(result.durationMs),
    });
    this.onResult(result);
    return result;
  }

  private spawnAndWait(argv: string[], timeoutMs: number, input: string | undefined): Promise<CommandResult> {
    const started = performance.now();
    const stdout = new CappedOutput(this.maxOutputBytes);
    const stderr = new CappedOutput(this.maxOutputBytes);
    const result = (exit: Exit, why?: string): CommandResult => ({
      argv, ...exit, dryRun: false, stdout: stdout.text(), stderr: why ?? stderr.text(),
    });
    const [file, ...args] = argv;
    if (file === undefined) return Promise.resolve(result(notStarted(started), 'could not start: empty command'));

    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        // Its own process group (detached), so that a timeout reaches whatever the command started, too.
        child = spawn(file, args, {
          shell: false,
          detached: true,
          stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        });
      } catch (err) {
        // Arguments spawn refuses outright, such as one holding a NUL byte.
        resolve(result(notStarted(started), `could not start: ${(err as Error).message}`));
        return;
      }
      let timedOut = false;
      let exit: Exit | null = null;
      let drainTimer: NodeJS.Timeout | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let settled = false;
      /** Signal 0 only asks whether any process of the group is left. */
      const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
          return true;
        } catch {
          return false; // ESRCH: the whole group is gone.
        }
      };
      const finish = (done: CommandResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeoutTimer);
        clearTimeout(drainTimer);
        if (!signalGroup(0)) clearTimeout(killTimer);
        // Output a leftover background process still holds open is released, not waited for.
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(done);
      };
      const timeoutTimer = setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        // Kept past the leader's exit while the rest of its group lives on: a timed-out command must go entirely.
        killTimer = setTimeout(() => signalGroup('SIGKILL'), this.killGraceMs);
      }, timeoutMs);

      child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
      // A command that exits without reading its input makes our write fail with EPIPE: not an error of the run.
      child.stdin?.on('error', () => {});
      child.stdin?.end(input);

      child.on('error', (err) => finish(result(notStarted(started), `could not start: ${err.message}`)));
      child.on('exit', (code, signal) => {
        clearTimeout(timeoutTimer);
        exit = { code, signal, timedOut, durationMs: performance.now() - started };
        const exited = exit;
        drainTimer = setTimeout(() => finish(result(exited)), this.outputDrainMs);
      });
      child.on('close', () => {
        if (exit) finish(result(exit));
      });
    });
  }
}

type Exit = Pick<CommandResult, 'code' | 'signal' | 'timedOut' | 'durationMs'>;

function notStarted(started: number): Exit {
  return { code: null, signal: null, timedOut: false, durationMs: performance.now() - started };
}

/** Keeps the first `max` bytes of a stream and counts the rest. */
class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    const part = chunk.subarray(0, Math.max(0, this.max - this.kept));
    if (part.length > 0) this.chunks.push(part);
    this.kept += part.length;
    this.dropped += chunk.length - part.length;
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${text}\n[output cut: ${this.dropped} more bytes not kept]` : text;
  }
}
