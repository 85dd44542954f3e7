// Logging for the heartbeat channel, which can fail twice a second per network for hours (an unplugged cable, a
// flood of forged packets): one line per kind of trouble per interval, with how often it happened meanwhile.

export type HeartbeatLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export const THROTTLE_INTERVAL_MS = 10_000;

interface Occurrences {
  loggedAt: number;
  /** Occurrences after the last line: the next line reports them with its own. */
  count: number;
}

export class ThrottledLog {
  private readonly byKey = new Map<string, Occurrences>();

  constructor(private readonly log: HeartbeatLog, private readonly now: () => number) {}

  /** Logs this occurrence of `key` unless a line for `key` went out less than the interval ago; counts it either way. */
  note(key: string, level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    const seen = this.byKey.get(key);
    if (seen && now - seen.loggedAt < THROTTLE_INTERVAL_MS) {
      seen.count++;
      return;
    }
    const count = seen ? seen.count + 1 : 1;
    this.byKey.set(key, { loggedAt: now, count: 0 });
    this.log(level, message, { ...fields, count });
  }
}
