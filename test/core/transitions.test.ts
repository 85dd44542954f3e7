import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ALLOWED_TRANSITIONS, IllegalTransition, assertTransition } from '../../agent/core/transitions.ts';
import type { Phase } from '../../agent/core/types.ts';

const phases = Object.keys(ALLOWED_TRANSITIONS) as Phase[];

test('every target of a transition is a phase of the table', () => {
  for (const from of phases) for (const to of ALLOWED_TRANSITIONS[from]) assert.ok(phases.includes(to), `${from} → ${to}`);
});

test('every phase can be reached from booting', () => {
  const seen = new Set<Phase>(['booting']);
  const queue: Phase[] = ['booting'];
  while (queue.length > 0) {
    for (const to of ALLOWED_TRANSITIONS[queue.shift()!]) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  assert.equal([...seen].sort(), [...phases].sort());
});

test('from every phase but booting a node can get back to normal', () => {
  for (const start of phases) {
    const seen = new Set<Phase>([start]);
    const queue: Phase[] = [start];
    while (queue.length > 0) for (const to of ALLOWED_TRANSITIONS[queue.shift()!]) if (!seen.has(to)) seen.add(to), queue.push(to);
    assert.ok(seen.has('normal'), `${start} cannot get back to normal`);
  }
});

test('a node can lose everything from any phase that may hold resources', () => {
  for (const from of phases) {
    if (from === 'fenced' || from === 'self_fenced') continue;
    assert.ok(ALLOWED_TRANSITIONS[from].includes('self_fenced'), `${from} cannot self-fence`);
  }
});

test('an illegal move throws and names both phases', () => {
  assert.throws(() => assertTransition('fenced', 'serving_both', 'test'), (e: Error) =>
    e instanceof IllegalTransition && e.message.includes('fenced → serving_both'));
  assert.not.throws(() => assertTransition('normal', 'suspecting', 'test'));
});

test('a fenced node can only come back through reintegration, a release or a takeover of its own', () => {
  assert.equal([...ALLOWED_TRANSITIONS.fenced].sort(), ['fencing_partner', 'power_fencing', 'reintegrating', 'self_fenced', 'starting']);
  assert.not.ok(ALLOWED_TRANSITIONS.fenced.includes('normal'));
});

test.run();
