// The intent log in the core: a step is carried out only once its record is on the disk (a stop does not wait for
// a disk in trouble), every step is marked done after, and a restarted node resumes the transition its log says
// its previous run was in. Driven step by step, with the mailbox answered by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyOutbox } from '../../agent/core/fence.ts';
import { step } from '../../agent/core/pairing.ts';
import { initialState, type NodeState } from '../../agent/core/state.ts';
import type { CoreEvent, Effect, IntentRecord, MailboxView, Outbox, Phase } from '../../agent/core/types.ts';
import { simSetup } from '../../agent/sim/setup.ts';

const cfg = simSetup({ reintegrate: 'manual', hasFenceCommand: false }).coreConfig(0); // node1, partner node2

type Cycle = Extract<Effect, { type: 'disk_cycle' }>;

/** One node and a mailbox answered by the test: what the node wrote, and the effects of every step. */
class Harness {
  s: NodeState;
  now = 0;
  written: IntentRecord[] = [];
  effects: Effect[] = [];
  pending: Cycle | null = null;

  constructor(private readonly disk: { ownIntents?: IntentRecord[]; ownOutbox?: Outbox; partnerIntents?: IntentRecord[] } = {}) {
    this.s = initialState(cfg, 0, 1);
    // Nothing of the partner's was left running by a previous run (else its cleanup would be the first steps).
    if (!disk.ownIntents?.length) for (const r of this.s.groups.node2!.resources) r.state = 'offline';
    this.feed({ type: 'tick' });
  }

  feed(ev: CoreEvent, advanceMs = 10): Effect[] {
    this.now += advanceMs;
    const fx = step(cfg, this.s, ev, this.now).effects;
    this.effects.push(...fx);
    for (const e of fx) if (e.type === 'disk_cycle') this.pending = e;
    return fx;
  }

  /** Answers the mailbox cycle under way; returns the effects of that step. */
  answer(ok = true): Effect[] {
    const c = this.pending!;
    this.pending = null;
    if (!ok) return this.feed({ type: 'disk_done', opId: c.opId, ok: false, error: 'EIO' });
    if (c.write) this.written.push(...c.write.intents);
    // The slot written reads back as written: the write renews the lease.
    const view: MailboxView = {
      ownSlot: c.write?.slot ?? null, ownOutbox: this.disk.ownOutbox ?? null, inbox: null, partnerSlot: null,
    };
    if (c.readIntents.includes('own')) view.ownIntents = this.disk.ownIntents ?? [];
    if (c.readIntents.includes('partner')) view.partnerIntents = this.disk.partnerIntents ?? [];
    return this.feed({ type: 'disk_done', opId: c.opId, ok: true, view });
  }

  /** Steps the clock until the node starts a mailbox cycle. */
  nextCycle(): Cycle {
    for (let i = 0; i < 20 && this.pending === null; i++) this.feed({ type: 'tick' }, 50);
    return this.pending!;
  }

  /** Reads the mailbox at boot, then renews the lease: the node leaves `booting`. */
  boot(): void {
    this.answer();
    this.answer();
  }

  /** Boots, then brings its own group up, one step a mailbox cycle. */
  bootToNormal(): void {
    this.boot();
    let fx = this.answer();
    for (let i = 0; i < 20 && this.phase !== 'normal'; i++) {
      this.done(fx);
      fx = this.answer();
    }
    assert.is(this.phase, 'normal');
  }

  steps(fx: Effect[] = this.effects): string[] {
    return fx.flatMap((e) => (e.type === 'start_resource' || e.type === 'stop_resource'
      ? [`${e.type === 'start_resource' ? 'start' : 'stop'} ${e.group}/${e.resource}`] : []));
  }

  done(fx: Effect[], ok = true): Effect[] {
    const out: Effect[] = [];
    for (const e of fx) {
      if (e.type !== 'start_resource' && e.type !== 'stop_resource') continue;
      out.push(...this.feed({
        type: 'resource_done', group: e.group, resource: e.resource, op: e.type === 'start_resource' ? 'start' : 'stop', ok,
      }, 1));
    }
    return out;
  }

  get phase(): Phase {
    return this.s.phase;
  }
}

const record = (seq: number, fields: Partial<IntentRecord>): IntentRecord => ({
  seq, transition: 'start_own', term: 0, step: null, state: 'begun', detail: '', ...fields,
});

const fenceOn = (term: number): Outbox => ({ ...emptyOutbox(), fence: { term, active: true } });

test('a start is carried out only once its record is on the disk, and marked done after', () => {
  const h = new Harness();
  h.boot();
  assert.is(h.phase, 'starting');
  assert.equal(h.steps(), [], 'nothing started before the record is written');
  const begun = h.pending!.write!.intents;
  assert.equal(begun.map((r) => [r.transition, r.step?.resource ?? null, r.state]), [
    ['start_own', null, 'begun'], ['start_own', 'log_replay', 'begun'],
  ]);
  const fx = h.answer();
  assert.equal(h.steps(fx), ['start node1/log_replay']);
  h.done(fx);
  assert.equal(h.pending!.write!.intents.map((r) => [r.step?.resource, r.state]), [
    ['log_replay', 'done'], ['filesystem', 'begun'],
  ]);
});

test('a failed write holds the start back; it goes out with the next write that lands', () => {
  const h = new Harness();
  h.boot();
  assert.equal(h.steps(h.answer(false)), []);
  assert.ok(h.nextCycle().write!.intents.some((r) => r.step?.resource === 'log_replay' && r.state === 'begun'), 'retried');
  assert.equal(h.steps(h.answer()), ['start node1/log_replay']);
});

test('a stop does not wait for a disk in trouble', () => {
  const h = new Harness();
  h.bootToNormal();
  h.nextCycle();
  h.answer(false); // the disk fails...
  const stops = h.steps(h.feed({ type: 'health', group: 'node1', resource: 'nsm_notify', ok: false, detail: 'gone' }));
  assert.equal(stops, ['stop node1/nsm_notify'], 'the restart begins without waiting for the disk');
});

test('a node standing down stops at once, its records following: it races the partner’s takeover', () => {
  const h = new Harness();
  h.bootToNormal();
  h.s.partner.outbox = { ...emptyOutbox(), fence: { term: 3, active: true } };
  const stops = h.steps(h.feed({ type: 'tick' }));
  assert.is(h.phase, 'fenced');
  assert.equal(stops, ['stop node1/nsm_notify'], 'issued with the decision, the disk healthy and idle');
});

test('a start that is no longer wanted is dropped, not carried out', () => {
  const h = new Harness();
  h.boot();
  // Fenced before the first step's record lands: the start must never run.
  h.s.partner.outbox = { ...emptyOutbox(), fence: { term: 3, active: true } };
  h.feed({ type: 'tick' });
  assert.is(h.phase, 'fenced');
  const fx = h.answer();
  assert.not.ok(h.steps(fx).some((x) => x.startsWith('start')), h.steps(fx).join(', '));
  h.nextCycle();
  h.answer();
  assert.ok(h.written.some((r) => r.step?.resource === 'log_replay' && r.state === 'failed' && r.detail.includes('cancelled')));
});

test('a restart resumes a takeover it had begun under the fence it still holds: no second lease wait', () => {
  const h = new Harness({
    ownOutbox: fenceOn(4),
    ownIntents: [record(10, { transition: 'takeover', term: 4 }), record(11, { transition: 'takeover', term: 4, step: { group: 'node2', resource: 'filesystem', op: 'start' } })],
  });
  h.boot();
  assert.is(h.phase, 'taking_over');
  assert.match(h.s.cause, /resuming the takeover: the previous run was in takeover \(term 4\), last step start node2\/filesystem begun/);
  h.answer();
  assert.is(h.written[0]!.seq, 12, 'the log goes on from where it was');
});

test('a takeover record of another term does not skip the wait', () => {
  const h = new Harness({ ownOutbox: fenceOn(5), ownIntents: [record(3, { transition: 'takeover', term: 4 })] });
  h.boot();
  assert.is(h.phase, 'fencing_partner');
});

test('a restart finishes a release: the partner’s group is stopped, ours kept, without taking the partner’s again', () => {
  const h = new Harness({ ownOutbox: fenceOn(2), ownIntents: [record(7, { transition: 'release', term: 2 })] });
  h.boot();
  assert.is(h.phase, 'releasing');
  assert.is(h.s.groups.node1!.target, 'online');
  assert.is(h.s.groups.node2!.target, 'offline');
});

test('a restart finishes a handover without raising the partner’s counter twice', () => {
  const begun = new Harness({
    ownOutbox: { ...emptyOutbox(), handover: 3 }, ownIntents: [record(9, { transition: 'handover', term: 3 })],
  });
  begun.boot();
  assert.is(begun.phase, 'handing_over');
  assert.is(begun.s.handoverTo, 3);
  const complete = new Harness({
    ownOutbox: { ...emptyOutbox(), handover: 2 }, ownIntents: [record(9, { transition: 'handover', term: 3, state: 'complete' })],
  });
  complete.boot();
  assert.is(complete.phase, 'fenced');
  assert.is(complete.s.out.handover, 3, 'the lost outbox write is made good');
});

test('an empty or finished log starts the node as usual', () => {
  for (const ownIntents of [[], [record(5, { transition: 'release', term: 2, state: 'complete' })]]) {
    const h = new Harness({ ownIntents });
    h.boot();
    assert.is(h.phase, 'starting');
  }
});

test('a takeover replays the partner’s log before its first step, and reports what the partner left unfinished', () => {
  const h = new Harness({
    ownOutbox: fenceOn(6),
    ownIntents: [record(1, { transition: 'takeover', term: 6 })],
    partnerIntents: [
      record(20, { transition: 'start_own' }),
      record(21, { transition: 'start_own', step: { group: 'node2', resource: 'log_replay', op: 'start' } }),
      record(22, { transition: 'start_own', step: { group: 'node2', resource: 'log_replay', op: 'start' }, state: 'done' }),
      record(23, { transition: 'start_own', step: { group: 'node2', resource: 'filesystem', op: 'start' } }),
    ],
  });
  h.boot();
  assert.equal(h.pending!.readIntents, ['partner']);
  const fx = h.answer();
  const reports = fx.flatMap((e) => (e.type === 'report' ? [e.message] : []));
  assert.ok(reports.includes("replayed node2's intent log: it was in start own, last step start node2/filesystem begun; unfinished: start node2/filesystem"), reports.join('\n'));
  assert.ok(h.steps(fx).length > 0, 'the steps follow the replay');
});

test.run();
