// The journal's side of logging, without winston: a line's syslog priority, whether a stream is the journal, and a
// daemon's last words on stderr. Commands that only report an error load this, not the logger (log.ts).
import { fstatSync } from 'node:fs';
import type { LogFn } from './ports.ts';

export type LogLevel = Parameters<LogFn>[0];

/** The syslog priority of each level, as sd-daemon(3)'s SD_ERR, SD_WARNING, SD_INFO and SD_DEBUG. */
export const PRIORITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Whether file descriptor `fd` is a stream to the journal: systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the
 * stream it connected stdout and stderr to; a process whose output goes elsewhere (a pipe, a terminal, a file) may
 * still have inherited the variable, so the numbers must be those of `fd` (systemd.exec(5)).
 */
export function isJournalStream(fd: number, journalStream: string | undefined = process.env.JOURNAL_STREAM): boolean {
  const match = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (!match) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(match[1]!) && st.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** Each line prefixed with `<priority>`. */
export function withPriority(level: LogLevel, text: string): string {
  return text.split('\n').map((line) => `<${PRIORITY[level]}>${line}`).join('\n');
}

/**
 * A daemon's last words on stderr (why it could not start), at priority err in the journal when stderr is the
 * journal, every line of them.
 */
export function reportError(text: string): void {
  process.stderr.write(`${isJournalStream(2) ? withPriority('error', text) : text}\n`);
}
