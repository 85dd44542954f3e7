// The intent log, the core's side. Every step of a transition (a resource start or stop) is written to the node's
// intent log on the shared disk before it is carried out, and marked done or failed after; every transition is
// written when it begins and when it is complete. The records travel with the mailbox cycles (outputs.ts), so the
// core stays the only writer and the order on the disk is the order of the decisions.
//
// A start is held until its record is on the disk. A stop is held only while the disk answers, and only until
// the write carrying its record was tried: stopping must stay possible on a node that has lost its disk. The stops
// of a node standing down (fenced, or its lease running out) are not held at all: they race the partner's takeover.
//
// At boot the node reads its own log back and resumes the transition its previous run was in (decide.ts): a
// takeover or a release is finished rather than undone and redone. On a takeover it reads the partner's log too,
// and reports what the partner was in the middle of when it died.
import { report, type Ctx } from './context.ts';
import type { StepEffect } from './resources.ts';
import type { NodeState } from './state.ts';
import type { GroupId, IntentRecord, Phase, ResourceKind, TransitionKind } from './types.ts';

/** At most this many records go with one mailbox cycle; the rest with the next, which starts at once. */
export const INTENTS_PER_CYCLE = 8;

/** A node's log keeps its last this many records (a ring on the disk): enough for a whole transition or two. */
export const INTENT_LOG_RECORDS = 16;

/** Where the previous run stood, by the last record of its log. */
export interface ResumePoint {
  transition: TransitionKind;
  term: number;
  /** The transition's `complete` record was the last thing written. */
  complete: boolean;
  /** The last record, for the report. */
  last: IntentRecord;
}

export interface IntentState {
  /** The last sequence number given to a record; continues from the disk after a restart. */
  seq: number;
  /** Records not yet written, oldest first. */
  unwritten: IntentRecord[];
  /** Records carried by the mailbox write under way. */
  writing: IntentRecord[];
  /** Every record up to this one is on the disk. */
  writtenUpTo: number;
  /** Steps waiting for their `begun` record, in order. */
  held: Array<{ seq: number; effect: StepEffect }>;
  /** Steps under way, by "group/resource": their record, for the `done` that follows. */
  running: Record<string, { transition: TransitionKind; term: number; kind: ResourceKind }>;
  /** The next mailbox cycle reads the partner's log (a takeover replays it). */
  readPartner: boolean;
  /** What the log said at boot; kept for the status. */
  resume: ResumePoint | null;
  /** The partner's last record, as read at the last takeover. */
  partnerLast: IntentRecord | null;
}

export function newIntentState(): IntentState {
  return {
    seq: 0, unwritten: [], writing: [], writtenUpTo: 0, held: [], running: {}, readPartner: false, resume: null,
    partnerLast: null,
  };
}

/** The transition a step taken in `phase` belongs to. */
export function transitionOf(phase: Phase): TransitionKind {
  switch (phase) {
    case 'starting': return 'start_own';
    case 'taking_over':
    case 'serving_both': return 'takeover';
    case 'releasing': return 'release';
    case 'handing_over': return 'handover';
    case 'booting':
    case 'fenced':
    case 'self_fenced':
    case 'reintegrating': return 'stand_down';
    case 'normal':
    case 'suspecting':
    case 'probing':
    case 'partner_degraded':
    case 'power_fencing':
    case 'fencing_partner': return 'restart';
  }
}

/** The fence term the node acts under: its own active fence's. */
export function actingTerm(s: NodeState): number {
  return s.out.fence?.active ? s.out.fence.term : 0;
}

function append(s: NodeState, record: Omit<IntentRecord, 'seq'>): IntentRecord {
  const full = { seq: ++s.intent.seq, ...record };
  s.intent.unwritten.push(full);
  return full;
}

export function logTransition(s: NodeState, transition: TransitionKind, state: 'begun' | 'complete', term: number): void {
  append(s, { transition, term, step: null, state, detail: '' });
}

const stepKey = (group: GroupId, resource: string) => `${group}/${resource}`;

/** A step the group wants taken: its `begun` record is queued, and the step held until the record is written. */
export function holdStep(ctx: Ctx, effect: StepEffect): void {
  const { s } = ctx;
  const transition = transitionOf(s.phase);
  const term = actingTerm(s);
  const op = effect.type === 'start_resource' ? 'start' : 'stop';
  const record = append(s, {
    transition, term, step: { group: effect.group, resource: effect.kind, op }, state: 'begun', detail: '',
  });
  s.intent.running[stepKey(effect.group, effect.resource)] = { transition, term, kind: effect.kind };
  // Standing down (fenced, or the lease running out) is racing the partner's takeover and the watchdog: its stops
  // never wait for the disk; their records follow them.
  if (op === 'stop' && (diskTrouble(s) || transition === 'stand_down')) ctx.fx.push(effect);
  else s.intent.held.push({ seq: record.seq, effect });
}

/** Marks a step done or failed once its result is in. */
export function logStepDone(s: NodeState, group: GroupId, resource: string, op: 'start' | 'stop', ok: boolean, error?: string): void {
  const key = stepKey(group, resource);
  const run = s.intent.running[key];
  if (!run) return;
  delete s.intent.running[key];
  append(s, {
    transition: run.transition, term: run.term, step: { group, resource: run.kind, op }, state: ok ? 'done' : 'failed',
    detail: ok ? '' : (error ?? `${op} failed`),
  });
}

/** The mailbox has failed a cycle lately: stops no longer wait for it. */
function diskTrouble(s: NodeState): boolean {
  return s.disk.failures > 0;
}

/**
 * Issues the held steps whose records are on the disk (stops also when the disk is in trouble). A held start that
 * is no longer wanted (the node was fenced meanwhile, say) is dropped at once: the resource goes back to
 * `unknown`, so that its next operation is an idempotent stop.
 */
export function releaseHeld(ctx: Ctx): void {
  const { s } = ctx;
  const i = s.intent;
  if (i.held.length === 0) return;
  const keep: IntentState['held'] = [];
  for (const h of i.held) {
    const isStop = h.effect.type === 'stop_resource';
    const g = s.groups[h.effect.group]!;
    if (!isStop && !(g.target === 'online' && g.gaveUpAt === null)) {
      g.resources.find((x) => x.spec.name === h.effect.resource)!.state = 'unknown';
      logStepDone(s, h.effect.group, h.effect.resource, 'start', false, 'cancelled: no longer wanted');
    } else if (h.seq <= i.writtenUpTo || (isStop && diskTrouble(s))) {
      ctx.fx.push(h.effect);
    } else {
      keep.push(h);
    }
  }
  i.held = keep;
}

/** The records the next mailbox write carries. */
export function takeForWrite(s: NodeState): IntentRecord[] {
  const i = s.intent;
  i.writing = i.unwritten.splice(0, INTENTS_PER_CYCLE);
  return i.writing;
}

/** The write under way landed (ok) or failed: its records are on the disk, or go first into the next one. */
export function writeSettled(s: NodeState, ok: boolean): void {
  const i = s.intent;
  if (ok) {
    for (const r of i.writing) i.writtenUpTo = Math.max(i.writtenUpTo, r.seq);
  } else {
    i.unwritten.unshift(...i.writing);
  }
  i.writing = [];
}

/** The last record of the previous run's log tells which transition it was in. */
export function resumePoint(records: IntentRecord[]): ResumePoint | null {
  let last: IntentRecord | null = null;
  for (const r of records) if (!last || r.seq > last.seq) last = r;
  if (!last) return null;
  return { transition: last.transition, term: last.term, complete: last.step === null && last.state === 'complete', last };
}

/** At boot: continue the log's numbering, and remember where the previous run stood. */
export function recoverIntents(s: NodeState, records: IntentRecord[] | undefined): void {
  const point = resumePoint(records ?? []);
  s.intent.seq = Math.max(s.intent.seq, point?.last.seq ?? 0);
  s.intent.writtenUpTo = s.intent.seq;
  s.intent.resume = point;
}

/** On a takeover: what the partner's log says it was doing when it stopped. */
export function replayPartnerLog(ctx: Ctx, records: IntentRecord[]): void {
  const { s, cfg } = ctx;
  s.intent.readPartner = false;
  const point = resumePoint(records);
  s.intent.partnerLast = point?.last ?? null;
  if (!point) return report(ctx, 'info', `${cfg.partner}'s intent log is empty`);
  const unfinished = records.filter((r) => r.step && r.state === 'begun' &&
    !records.some((d) => d.seq > r.seq && d.step?.group === r.step!.group && d.step.resource === r.step!.resource && d.state !== 'begun'));
  const steps = unfinished.map((r) => `${r.step!.op} ${r.step!.group}/${r.step!.resource}`);
  report(ctx, 'info', `replayed ${cfg.partner}'s intent log: it was in ${describe(point)}` +
    (steps.length > 0 ? `; unfinished: ${steps.join(', ')}` : ''));
}

export function describe(point: ResumePoint): string {
  return describeRecord(point.last, 'last step ');
}

/** "takeover (term 3), last step start server1/filesystem begun", or "release (term 2), complete". */
export function describeRecord(r: IntentRecord, stepLabel = ''): string {
  const term = r.term > 0 ? ` (term ${r.term})` : '';
  const at = r.step ? `, ${stepLabel}${r.step.op} ${r.step.group}/${r.step.resource} ${r.state}` : `, ${r.state}`;
  return `${r.transition.replace('_', ' ')}${term}${at}`;
}
