// What one protocol step works on, and the few facts about the state that every part of the step asks.
import { fenceBeats } from './fence.ts';
import type { NodeState } from './state.ts';
import type { CoreConfig, Effect, Phase } from './types.ts';

export interface Ctx {
  cfg: CoreConfig;
  s: NodeState;
  now: number;
  fx: Effect[];
}

export function isFenced(ctx: Ctx): boolean {
  const { s, cfg } = ctx;
  const f = s.partner.outbox.fence;
  return !!f && f.active && f.term > s.releasedTerm && fenceBeats(f, s.out.fence, cfg.selfWinsTies);
}

export function isWaitingPhase(p: Phase): boolean {
  return p === 'fenced' || p === 'reintegrating';
}

export function report(ctx: Ctx, level: 'info' | 'warn' | 'error', message: string): void {
  ctx.fx.push({ type: 'report', level, message });
}
