// A part of a guest's run, for a report of one phase (a takeover, a failback): the operations whose result lines
// arrived between two marks (counts of the results port's lines, taken on the host as the phase began and ended).
// A stall belongs to the phase in which it ends, so each loop's last operation before the phase is kept as the
// starting point of its first gap, and not counted again as an operation of the phase.
import { parseOps, report, streamOf, type Op, type WorkloadReport } from './results.ts';

export function phaseReport(lines: string[], fromLine: number, toLine = lines.length): WorkloadReport {
  const inPhase = parseOps(lines.slice(fromLine, toLine));
  const lastBefore = new Map<string, Op>();
  for (const o of parseOps(lines.slice(0, fromLine))) lastBefore.set(streamOf(o.op), o);
  const withStarts = report([...lastBefore.values(), ...inPhase]);
  const own = report(inPhase);
  const streams = Object.fromEntries(Object.entries(withStarts.streams).map(([name, s]) => {
    const mine = own.streams[name];
    return [name, { ...s, ops: mine?.ops ?? 0, failed: mine?.failed ?? 0, longestOpMs: mine?.longestOpMs ?? 0 }];
  }));
  return { ...own, streams, longestStallMs: withStarts.longestStallMs, longestStallStream: withStarts.longestStallStream };
}

/** Every loop of the workload has finished an operation (whatever its result) since line `fromLine`. */
export function everyLoopAnswered(lines: string[], fromLine: number, loops: string[]): boolean {
  const since = new Set(parseOps(lines.slice(fromLine)).map((o) => streamOf(o.op)));
  return loops.every((l) => since.has(l));
}
