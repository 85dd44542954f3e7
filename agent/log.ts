// The agent's log: JSON lines on stdout (journald stores them under the unit) and optionally in a file, each with a
// timestamp. Under systemd each stdout line starts with its syslog priority (<3> error ... <7> debug), which journald
// takes off and files the line under, so that `journalctl -p warning` finds the warnings. Everything else in the
// agent logs through the plain LogFn of ports.ts; `asLogFn` adapts a logger.
import { performance } from 'node:perf_hooks';
import winston from 'winston';
import { isJournalStream, PRIORITY, withPriority, type LogLevel } from './journal.ts';
import type { LogFn } from './ports.ts';

export type { LogLevel } from './journal.ts';
export { isJournalStream, PRIORITY, reportError, withPriority } from './journal.ts';

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

/** The Console transport's format under journald: its line prefixed with the priority of its level. */
const journalPriority = winston.format((info) => {
  const line = (info as Record<symbol, unknown>)[MESSAGE];
  const level = (info as Record<symbol, unknown>)[LEVEL] as LogLevel;
  if (typeof line === 'string' && level in PRIORITY) (info as Record<symbol, unknown>)[MESSAGE] = withPriority(level, line);
  return info;
});

/**
 * `journal`: prefix the stdout lines with their priorities; by default when stdout is the journal. The file, if any,
 * gets the plain lines.
 */
export function createLogger(opts: { level: LogLevel; file?: string | null; journal?: boolean }): winston.Logger {
  const journal = opts.journal ?? isJournalStream(1);
  const transports: winston.transport[] = [new winston.transports.Console(journal ? { format: journalPriority() } : {})];
  if (opts.file) transports.push(new winston.transports.File({ filename: opts.file }));
  return winston.createLogger({
    level: opts.level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports,
  });
}

export function asLogFn(logger: winston.Logger): LogFn {
  return (level, message, fields) => logger.log(level, message, fields);
}

const closing = new WeakMap<winston.Logger, Promise<void>>();

/**
 * Ends the logger and resolves once every transport has written everything: winston drops lines logged right
 * before process.exit(), so the agent awaits this before exiting. It waits for each transport's own 'finish' (a
 * file transport's comes once its file stream has flushed) rather than rely on the order winston emits them in.
 * Closing again joins the first close (winston's streams do not tell whether they have finished).
 */
export function closeLogger(logger: winston.Logger): Promise<void> {
  let closed = closing.get(logger);
  if (!closed) {
    const finished = [logger, ...logger.transports].map(
      (stream) => new Promise<void>((resolve) => stream.once('finish', () => resolve())),
    );
    logger.end();
    closed = Promise.all(finished).then(() => {});
    closing.set(logger, closed);
  }
  return closed;
}

export type RateLimitedLog = (key: string, level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/**
 * For errors that can repeat on every heartbeat (a probe on a dead link, a bad packet): logs the first line of each
 * key, then at most one per `intervalMs`, carrying how many lines of that key were suppressed since the last one.
 * Keys should come from a small set (network × error kind): one entry per key is kept for the process's life.
 */
export function rateLimited(log: LogFn, intervalMs: number, now: () => number = () => performance.now()): RateLimitedLog {
  const byKey = new Map<string, { loggedAt: number; suppressed: number }>();
  return (key, level, message, fields) => {
    const at = now();
    const last = byKey.get(key);
    if (last && at - last.loggedAt < intervalMs) {
      last.suppressed++;
      return;
    }
    log(level, message, last?.suppressed ? { ...fields, suppressed: last.suppressed } : fields);
    byKey.set(key, { loggedAt: at, suppressed: 0 });
  };
}
