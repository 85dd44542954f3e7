// What a Ganesha that failed to start said about it, as one line for the resource's error. Only the part of its
// log written since this start is read; dbus complaints (no dbus here, and Ganesha carries on without it) and
// lines below WARN are left out, because the cause is usually a few lines before the final FATAL.
import { open, stat } from 'node:fs/promises';

const MAX_READ_BYTES = 16_384;
const LINES_SHOWN = 5;
const SERIOUS = new Set(['FATAL', 'MAJ', 'CRIT', 'WARN']);

/** The log's size now: what a later `startupErrors` reads from. */
export async function logSize(logFile: string): Promise<number> {
  return (await stat(logFile).catch(() => ({ size: 0 }))).size;
}

/** "DATE : epoch E : HOST : nfs-ganesha-PID[THREAD] FUNCTION :COMPONENT :LEVEL :MESSAGE" → level and message. */
function parseLine(line: string): { level: string; message: string } | null {
  const m = /^.*? : epoch \S+ : \S+ : \S+\[[^\]]*\] \S+ :[^:]* :([A-Z_]+) :(.*)$/.exec(line);
  return m ? { level: m[1]!, message: m[2]!.trim() } : null;
}

export async function startupErrors(logFile: string, fromOffset: number): Promise<string> {
  let text: string;
  try {
    const file = await open(logFile, 'r');
    try {
      const { size } = await file.stat();
      // A log shorter than before was truncated or replaced: all of it is from this start.
      const start = Math.max(fromOffset <= size ? fromOffset : 0, size - MAX_READ_BYTES);
      const { buffer, bytesRead } = await file.read(Buffer.alloc(size - start), 0, size - start, start);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
  } catch {
    return `no log at ${logFile}`;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const serious = lines
    .map(parseLine)
    .filter((l): l is { level: string; message: string } => l !== null && SERIOUS.has(l.level) && !/dbus/i.test(l.message))
    .map((l) => `${l.level} ${l.message}`);
  const shown = (serious.length > 0 ? serious : lines).slice(-LINES_SHOWN);
  return shown.length > 0 ? `its log ${logFile} says: ${shown.join(' | ')}` : `nothing in its log ${logFile}`;
}
