// The servers' agent logs (JSON lines, one file per server in the lab's directory), read back for the timelines of
// the demo and the benchmarks and for the transitions a test expects or forbids.
import { readFileSync } from 'node:fs';
import type { Server } from './config.ts';
import { labPath } from './state.ts';

export interface LogLine {
  /** Wall-clock ms of the line. */
  at: number;
  message: string;
  event?: string;
  group?: string;
  resource?: string;
  op?: string;
  durationMs?: number;
}

/** Every line the server's agent logged at or after `since` (wall-clock ms). */
export function agentLog(prefix: string, server: Server, since = 0): LogLine[] {
  return readFileSync(labPath(prefix, `${server}.log`), 'utf8').split('\n').flatMap((l) => {
    try {
      const j = JSON.parse(l) as LogLine & { timestamp: string };
      const at = Date.parse(j.timestamp);
      return at >= since ? [{ ...j, at }] : [];
    } catch {
      return [];
    }
  });
}

/** The transitions the server logged since `since`, as "from → to: cause". */
export function transitions(prefix: string, server: Server, since = 0): string[] {
  return agentLog(prefix, server, since).filter((l) => l.event === 'transition').map((l) => l.message);
}

/** When the first transition whose line starts with `text` ("probing → fencing_partner") was logged. */
export function transitionAt(lines: LogLine[], text: string): number | null {
  return lines.find((l) => l.event === 'transition' && l.message.startsWith(text))?.at ?? null;
}

/** How long the first start of the group's resource took, by the agent's own measure. */
export function stepMs(lines: LogLine[], group: string, resource: string): number | null {
  return lines.find((l) => l.event === 'resource' && l.group === group && l.resource === resource && l.op === 'start' &&
    l.durationMs !== undefined)?.durationMs ?? null;
}
