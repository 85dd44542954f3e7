// The agent's timeline: transitions, reports, operator commands, resource steps and the fence command with their
// durations, finished moves, and every system command run, in a bounded ring in memory. `hanfs events` reads it
// through the control socket; metrics listen to it. Fed by the controller after each step of the core (StepObserver)
// and by the command runner; it never touches the protocol.
import type { NodeState } from '../core/state.ts';
import type { CoreEvent, Effect, GroupId, OperatorRequest, Phase } from '../core/types.ts';
import { commandSucceeded, formatArgv } from '../exec/templates.ts';
import type { CommandResult } from '../ports.ts';
import type { StepObserver } from '../daemon/controller.ts';
import { MoveTracker, type MoveKind } from './moves.ts';

export type CommandOutcome = 'ok' | 'error' | 'timeout' | 'not_started';

export type TimelineRecord =
  | { kind: 'agent'; message: string }
  | { kind: 'transition'; from: Phase; to: Phase; cause: string }
  | { kind: 'report'; level: 'info' | 'warn' | 'error'; message: string }
  | { kind: 'command'; command: string; answer: string[] }
  | { kind: 'resource'; group: GroupId; resource: string; op: 'start' | 'stop'; ok: boolean; error: string | null; durationMs: number }
  | { kind: 'fence_command'; ok: boolean; error: string | null; durationMs: number }
  | { kind: 'move'; move: MoveKind; completed: boolean; endedIn: Phase; durationMs: number }
  | { kind: 'exec'; command: string; outcome: CommandOutcome; code: number | null; durationMs: number };

/** `at` is the wall clock (ISO 8601) for humans; ids increase by one, so a reader asks for what came after its last. */
export type TimelineEntry = { id: number; at: string } & TimelineRecord;

export interface TimelineOptions {
  capacity?: number;
  /** Wall-clock ms, for the entries' timestamps. */
  wallClock?: () => number;
}

export function commandOutcome(r: CommandResult): CommandOutcome {
  if (r.timedOut) return 'timeout';
  if (r.code === null && r.signal === null) return 'not_started';
  return commandSucceeded(r) ? 'ok' : 'error';
}

export class Timeline implements StepObserver {
  private readonly entries: TimelineEntry[] = [];
  private readonly capacity: number;
  private readonly wallClock: () => number;
  private nextId = 1;
  private readonly listeners: Array<(e: TimelineEntry) => void> = [];
  private readonly moves = new MoveTracker();
  /** Monotonic start of each resource operation and of the fence command under way. */
  private readonly started = new Map<string, number>();

  constructor(opts: TimelineOptions = {}) {
    this.capacity = opts.capacity ?? 1000;
    this.wallClock = opts.wallClock ?? Date.now;
  }

  onEntry(listener: (e: TimelineEntry) => void): void {
    this.listeners.push(listener);
  }

  add(record: TimelineRecord): void {
    const entry = { id: this.nextId++, at: new Date(this.wallClock()).toISOString(), ...record } as TimelineEntry;
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    for (const l of this.listeners) l(entry);
  }

  /** Entries with an id above `afterId`, oldest first, at most `limit` (the newest ones). */
  since(afterId: number, limit = this.capacity): TimelineEntry[] {
    const newer = this.entries.filter((e) => e.id > afterId);
    return newer.slice(Math.max(0, newer.length - limit));
  }

  lastId(): number {
    return this.nextId - 1;
  }

  /** The newest `n` entries of one kind, oldest first. */
  recent<K extends TimelineRecord['kind']>(kind: K, n: number): Array<Extract<TimelineEntry, { kind: K }>> {
    const found: Array<Extract<TimelineEntry, { kind: K }>> = [];
    for (let i = this.entries.length - 1; i >= 0 && found.length < n; i--) {
      const e = this.entries[i]!;
      if (e.kind === kind) found.push(e as Extract<TimelineEntry, { kind: K }>);
    }
    return found.reverse();
  }

  /** A system command ran (the runner's hook). */
  commandRan(r: CommandResult): void {
    this.add({ kind: 'exec', command: formatArgv(r.argv), outcome: commandOutcome(r), code: r.code, durationMs: Math.round(r.durationMs) });
  }

  stepped(ev: CoreEvent, effects: readonly Effect[], _state: Readonly<NodeState>, now: number): void {
    this.eventDone(ev, now);
    // An operator command comes first, with what the core said to it: the transitions it caused follow.
    if (ev.type === 'command') {
      const answer = effects.flatMap((fx) => (fx.type === 'report' ? [fx.message] : []));
      this.add({ kind: 'command', command: describeRequest(ev), answer });
    }
    for (const fx of effects) {
      switch (fx.type) {
        case 'transition': {
          this.add({ kind: 'transition', from: fx.from, to: fx.to, cause: fx.cause });
          const move = this.moves.transition(fx.from, fx.to, now);
          if (move) this.add({ kind: 'move', move: move.kind, completed: move.completed, endedIn: move.endedIn, durationMs: Math.round(move.durationMs) });
          break;
        }
        case 'report':
          // What the core says while handling an operator command is the command's answer, above.
          if (ev.type !== 'command') this.add({ kind: 'report', level: fx.level, message: fx.message });
          break;
        case 'start_resource':
        case 'stop_resource':
          this.started.set(`${fx.group}/${fx.resource}`, now);
          break;
        case 'run_fence_command':
          this.started.set('fence', now);
          break;
        default:
          break;
      }
    }
  }

  private eventDone(ev: CoreEvent, now: number): void {
    if (ev.type === 'resource_done') {
      const key = `${ev.group}/${ev.resource}`;
      const since = this.started.get(key);
      this.started.delete(key);
      this.add({
        kind: 'resource', group: ev.group, resource: ev.resource, op: ev.op, ok: ev.ok, error: ev.error ?? null,
        durationMs: since === undefined ? 0 : Math.round(now - since),
      });
    } else if (ev.type === 'fence_command_done') {
      const since = this.started.get('fence');
      this.started.delete('fence');
      this.add({ kind: 'fence_command', ok: ev.ok, error: ev.error ?? null, durationMs: since === undefined ? 0 : Math.round(now - since) });
    }
  }
}

/** An operator request as the operator typed it: "maintenance on", "resource restart server1/nfs_server". */
export function describeRequest(r: OperatorRequest): string {
  if (r.command === 'restart_resource') return `resource restart ${r.group === null ? '' : `${r.group}/`}${r.resource}`;
  return r.command.replace('_', ' ');
}
