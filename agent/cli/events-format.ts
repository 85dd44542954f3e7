// `hanfs events` for people: one line per entry of the agent's timeline.
import type { TimelineEntry } from '../operate/timeline.ts';
import { duration } from '../text.ts';

export function formatEntry(e: TimelineEntry): string {
  return `${e.at}  ${e.kind.padEnd(13)}  ${describe(e)}`;
}

function describe(e: TimelineEntry): string {
  switch (e.kind) {
    case 'agent':
      return e.message;
    case 'transition':
      return `${e.from} → ${e.to}: ${e.cause}`;
    case 'report':
      return `${e.level}: ${e.message}`;
    case 'command':
      return `${e.command}: ${e.answer.join('; ') || 'accepted'}`;
    case 'resource':
      return `${e.op} ${e.group}/${e.resource}: ${e.ok ? 'done' : `FAILED: ${e.error ?? 'no reason given'}`} (${duration(e.durationMs)})`;
    case 'fence_command':
      return `fence command: ${e.ok ? 'partner powered off' : `FAILED: ${e.error ?? 'no reason given'}`} (${duration(e.durationMs)})`;
    case 'move':
      return `${e.move} ${e.completed ? 'completed' : `cut short (ended in ${e.endedIn})`} in ${duration(e.durationMs)}`;
    case 'exec':
      return `${e.command}: ${outcome(e)} (${duration(e.durationMs)})`;
  }
}

function outcome(e: Extract<TimelineEntry, { kind: 'exec' }>): string {
  switch (e.outcome) {
    case 'ok':
      return 'ok';
    case 'error':
      return e.code === null ? 'killed by a signal' : `exit code ${e.code}`;
    case 'timeout':
      return 'timed out';
    case 'not_started':
      return 'could not start';
  }
}
