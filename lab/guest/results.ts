// The guest's results port (ttyS1, a file on the host): one line per operation, `op=write file=w12 ok=1 startMs=...
// durMs=...`, and the guest's replies (`ready ...`, `started ...`, `stopped`, `verified files=N bad=M`, `failed ...`).
// Parsed here into operations and summed up into a report: counts, failures, the longest single operation and the
// longest stall an application would have seen.
import { existsSync, readFileSync } from 'node:fs';
import { guestFile } from './registry.ts';

export interface Op {
  op: string;
  file: string;
  ok: boolean;
  startMs: number;
  durMs: number;
  /** Anything else on the line (err=..., records=..., bad=...). */
  extra: Record<string, string>;
}

/** Every complete line of the results port so far (a line still being written is left for the next read). */
export function resultLines(prefix: string, name: string): string[] {
  const file = guestFile(prefix, name, 'results.log');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'latin1').replaceAll('\r', '');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

export function parseOp(line: string): Op | null {
  if (!line.startsWith('op=')) return null;
  const fields = Object.fromEntries(line.split(' ').map((kv) => {
    const at = kv.indexOf('=');
    return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
  }));
  const { op, file, ok, startMs, durMs, ...extra } = fields;
  if (op === undefined || ok === undefined || startMs === undefined || durMs === undefined) return null;
  return { op, file: file ?? '', ok: ok === '1', startMs: Number(startMs), durMs: Number(durMs), extra };
}

export function parseOps(lines: string[]): Op[] {
  return lines.map(parseOp).filter((o): o is Op => o !== null);
}

/** Which loop of the workload an operation belongs to: write/read are the new-file writer, open-* the open file... */
export function streamOf(op: string): string {
  if (op === 'write' || op === 'read') return 'new files';
  if (op === 'stream') return 'read stream';
  return op.replace(/-(write|read|open|lock|verify)$/, '');
}

export interface StreamReport {
  ops: number;
  failed: number;
  /** The longest single operation (ms). */
  longestOpMs: number;
  /** The longest time between two completed operations of the loop (ms): what an application waited. */
  longestStallMs: number;
  /** When that stall began (the earlier completion, guest wall-clock ms). */
  stallFromMs: number;
}

export interface WorkloadReport {
  ops: number;
  failed: number;
  failures: Op[];
  streams: Record<string, StreamReport>;
  longestStallMs: number;
  longestStallStream: string;
  /** The verify ops: the guest's reading back of every acknowledged file and record. */
  verified: number;
  verifyFailed: number;
  verifyFailures: Op[];
}

export function report(ops: Op[]): WorkloadReport {
  const isCheck = (o: Op) => o.op.endsWith('verify');
  const work = ops.filter((o) => !isCheck(o));
  const checks = ops.filter(isCheck);
  const streams: Record<string, StreamReport> = {};
  const byStream = new Map<string, Op[]>();
  for (const o of work) byStream.set(streamOf(o.op), [...(byStream.get(streamOf(o.op)) ?? []), o]);
  for (const [name, list] of byStream) {
    const ends = list.map((o) => o.startMs + o.durMs).sort((a, b) => a - b);
    let stall = 0;
    let from = ends[0] ?? 0;
    for (let i = 1; i < ends.length; i++) {
      if (ends[i]! - ends[i - 1]! > stall) [stall, from] = [ends[i]! - ends[i - 1]!, ends[i - 1]!];
    }
    streams[name] = {
      ops: list.length, failed: list.filter((o) => !o.ok).length,
      longestOpMs: Math.max(0, ...list.map((o) => o.durMs)), longestStallMs: stall, stallFromMs: from,
    };
  }
  const worst = Object.entries(streams).sort((a, b) => b[1].longestStallMs - a[1].longestStallMs)[0];
  return {
    ops: work.length, failed: work.filter((o) => !o.ok).length, failures: work.filter((o) => !o.ok),
    streams, longestStallMs: worst?.[1].longestStallMs ?? 0, longestStallStream: worst?.[0] ?? '',
    verified: checks.length, verifyFailed: checks.filter((o) => !o.ok).length, verifyFailures: checks.filter((o) => !o.ok),
  };
}

/** The report as a few lines for a terminal or a test's output. */
export function formatReport(r: WorkloadReport): string {
  const lines = [`${r.ops} operations, ${r.failed} failed; longest stall ${r.longestStallMs} ms (${r.longestStallStream}); `
    + `${r.verified} read back afterwards, ${r.verifyFailed} wrong or missing`];
  for (const [name, s] of Object.entries(r.streams)) {
    lines.push(`  ${name.padEnd(12)} ${String(s.ops).padStart(5)} ops  ${String(s.failed).padStart(3)} failed  `
      + `longest op ${String(s.longestOpMs).padStart(6)} ms  longest stall ${String(s.longestStallMs).padStart(6)} ms`);
  }
  for (const f of r.verifyFailures.slice(0, 5)) lines.push(`  read back wrong: op=${f.op} file=${f.file} ${Object.entries(f.extra).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const f of r.failures.slice(0, 5)) lines.push(`  failed: op=${f.op} file=${f.file} ${Object.entries(f.extra).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return lines.join('\n');
}
