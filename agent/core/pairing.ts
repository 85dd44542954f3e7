// The pairing protocol of one node: step(config, state, event, now) → state + effects. No clock, timer, socket or
// file is touched here; the adapters (or the simulator) feed events in and carry the effects out. A step folds the
// event into the state (inputs.ts), settles the phase (decide.ts), drives the resource groups, and sends what is
// due (outputs.ts).
//
// `step` takes ownership of the state it is given and returns it updated: the simulator runs millions of steps and
// a copy per step would dominate its time. Callers that want to keep an old state use cloneState first.
import type { Ctx } from './context.ts';
import { decide, runDetector, updateAck, WATCHING, WATCHING_WHILE_FENCED } from './decide.ts';
import { apply, expireDiskOp, noticePause } from './inputs.ts';
import { holdStep, releaseHeld } from './intent.ts';
import { armWatchdog, sendHeartbeatIfDue, startDiskCycleIfDue } from './outputs.ts';
import { driveGroup } from './resources.ts';
import type { NodeState } from './state.ts';
import type { CoreConfig, CoreEvent, Effect } from './types.ts';

export interface StepResult {
  state: NodeState;
  effects: Effect[];
}

export function step(cfg: CoreConfig, s: NodeState, ev: CoreEvent, now: number): StepResult {
  const ctx: Ctx = { cfg, s, now, fx: [] };
  noticePause(ctx);
  apply(ctx, ev);
  expireDiskOp(ctx);
  if (WATCHING.includes(s.phase) || WATCHING_WHILE_FENCED.includes(s.phase)) runDetector(ctx);
  // A move can enable the next (fenced → starting once the release is seen): settle before acting.
  for (let i = 0; i < 6; i++) {
    const before = s.phase;
    decide(ctx);
    if (s.phase === before) break;
  }
  // Nothing is touched, and no watchdog armed, before the mailbox says whether this node may serve. Each step
  // waits for its intent record (intent.ts).
  if (s.phase !== 'booting') {
    releaseHeld(ctx);
    for (const g of Object.values(s.groups)) {
      const e = driveGroup(g);
      if (e) holdStep(ctx, e);
    }
    armWatchdog(ctx);
  }
  if (s.recovered) updateAck(ctx);
  sendHeartbeatIfDue(ctx);
  startDiskCycleIfDue(ctx);
  return { state: s, effects: ctx.fx };
}
