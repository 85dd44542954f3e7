// Runs the deep health checks on the config's cron schedule (timing.deepCheckCron) and hands each result to the
// controller, which feeds it to the core as a 'health' event. Checks run side by side, each bounded in time: a hung
// disk fails its own check and delays no other.
import cron, { type Logger, type ScheduledTask } from 'node-cron';
import type { GroupId } from '../core/types.ts';
import type { LogFn } from '../ports.ts';
import type { CheckOutcome } from './health-checks.ts';

export interface DeepCheck {
  group: GroupId;
  /** The resource a failure is charged to (the core restarts it). */
  resource: string;
  /** What is checked, for details, e.g. "writable /srv/disk1". */
  name: string;
  run: () => Promise<CheckOutcome>;
}

export interface HealthResult {
  group: GroupId;
  resource: string;
  ok: boolean;
  detail: string;
}

export interface DeepChecksOptions {
  /** A node-cron expression with seconds. */
  cron: string;
  checks: DeepCheck[];
  /** How long one check may take before it counts as failed. */
  timeoutMs: number;
  onResult: (result: HealthResult) => void;
  log: LogFn;
}

export class DeepChecks {
  private task: ScheduledTask | null = null;
  private round: Promise<void> | null = null;
  /** Checks whose I/O has not answered yet, even past their timeout: they are not started again until it does. */
  private readonly unanswered = new Set<DeepCheck>();

  constructor(private readonly opts: DeepChecksOptions) {}

  start(): void {
    this.task ??= cron.schedule(this.opts.cron, () => this.runOnce(), {
      noOverlap: true,
      logger: cronLogger(this.opts.log),
    });
  }

  /** One round of every check; a round already under way is joined rather than started again. */
  runOnce(): Promise<void> {
    this.round ??= this.runRound().finally(() => {
      this.round = null;
    });
    return this.round;
  }

  /** Stops the schedule and waits for a round under way to finish (node-cron's own stop does not wait). */
  async stop(): Promise<void> {
    const task = this.task;
    this.task = null;
    if (task) {
      await task.stop();
      await task.destroy();
    }
    // A round's failure was reported where it happened (node-cron's logger, or runOnce's caller).
    await this.round?.catch(() => {});
  }

  private async runRound(): Promise<void> {
    await Promise.all(this.opts.checks.map(async (check) => {
      const outcome = await this.runBounded(check);
      this.opts.onResult({ group: check.group, resource: check.resource, ...outcome });
    }));
  }

  private async runBounded(check: DeepCheck): Promise<CheckOutcome> {
    if (this.unanswered.has(check)) return { ok: false, detail: `${check.name}: the previous check has not answered yet` };
    this.unanswered.add(check);
    const answered = check.run()
      .catch((err: Error): CheckOutcome => ({ ok: false, detail: `${check.name}: ${err.message}` }))
      .finally(() => this.unanswered.delete(check));
    const { timeoutMs } = this.opts;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `${check.name}: no answer within ${timeoutMs} ms` }), timeoutMs);
    });
    try {
      return await Promise.race([answered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** node-cron's warnings (missed runs, a run blocked by the one still going) belong in the agent's log. */
function cronLogger(log: LogFn): Logger {
  const text = (message: string | Error, err?: Error) =>
    `deep checks: ${message instanceof Error ? message.message : message}${err ? `: ${err.message}` : ''}`;
  return {
    info: (message) => log('info', text(message)),
    warn: (message) => log('warn', text(message)),
    error: (message, err) => log('error', text(message, err)),
    debug: (message, err) => log('debug', text(message, err)),
  };
}
