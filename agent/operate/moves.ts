// Moves of a group between the servers, read off the phase transitions, so that operators see how long each took
// (events) and metrics count them. Pure: transitions and monotonic times in, finished moves out.
import type { Phase } from '../core/types.ts';

export type MoveKind = 'takeover' | 'reintegration' | 'release' | 'handover';

/**
 * - takeover: from the decision to fence (power_fencing or fencing_partner) to serving both groups; the detection
 *   before it shows in the transitions.
 * - reintegration (the returning node): from leaving fenced to serving its own group again (normal).
 * - release (the survivor): from releasing to normal, the partner's group stopped and handed back.
 * - handover: from handing_over to fenced, our group stopped for the partner to take.
 */
export interface Move {
  kind: MoveKind;
  completed: boolean;
  durationMs: number;
  /** The transition that ended it: its target phase. */
  endedIn: Phase;
}

interface Rule {
  starts: (from: Phase, to: Phase) => boolean;
  /** Phases the move goes through on its way; any other ends it. */
  through: readonly Phase[];
  done: Phase;
}

const RULES: Record<MoveKind, Rule> = {
  takeover: {
    starts: (from, to) => (to === 'fencing_partner' || to === 'power_fencing') && from !== 'power_fencing',
    through: ['power_fencing', 'fencing_partner', 'taking_over'],
    done: 'serving_both',
  },
  reintegration: {
    starts: (from, to) => from === 'fenced' && (to === 'reintegrating' || to === 'starting'),
    through: ['reintegrating', 'starting'],
    done: 'normal',
  },
  release: { starts: (_from, to) => to === 'releasing', through: ['releasing'], done: 'normal' },
  handover: { starts: (_from, to) => to === 'handing_over', through: ['handing_over'], done: 'fenced' },
};

export class MoveTracker {
  private current: { kind: MoveKind; since: number } | null = null;

  /** Feeds one transition; returns the move it finished (completed or cut short), if any. */
  transition(from: Phase, to: Phase, at: number): Move | null {
    let ended: Move | null = null;
    const cur = this.current;
    if (cur) {
      const rule = RULES[cur.kind];
      if (to === rule.done || !rule.through.includes(to)) {
        ended = { kind: cur.kind, completed: to === rule.done, durationMs: at - cur.since, endedIn: to };
        this.current = null;
      }
    }
    if (!this.current) {
      const kind = (Object.keys(RULES) as MoveKind[]).find((k) => RULES[k].starts(from, to));
      if (kind) this.current = { kind, since: at };
    }
    return ended;
  }
}
