// A process's CPU time and memory from /proc/PID/stat, without a child process: what the overhead benchmark samples.

export interface ProcSample {
  /** User + system time of the process and of its children it has waited for (the commands it ran), in clock ticks. */
  cpuTicks: number;
  rssPages: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so fields are counted after the last ")". */
export function parseProcStat(text: string): ProcSample {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/PID/stat line: ${text.slice(0, 60)}`);
  // After ") " come the fields from the 3rd (state) on: utime is the 14th field, so index 11 here.
  const f = text.slice(close + 2).trim().split(/\s+/).map(Number);
  const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]];
  const rss = f[21];
  if ([utime, stime, cutime, cstime, rss].some((v) => v === undefined || !Number.isFinite(v))) {
    throw new Error(`short /proc/PID/stat line: ${text.slice(0, 60)}`);
  }
  return { cpuTicks: utime! + stime! + cutime! + cstime!, rssPages: rss! };
}

/** CPU used between two samples as a percentage of one core. */
export function cpuPercent(before: ProcSample, after: ProcSample, elapsedMs: number, ticksPerSecond: number): number {
  return (((after.cpuTicks - before.cpuTicks) / ticksPerSecond) * 1000 / elapsedMs) * 100;
}
