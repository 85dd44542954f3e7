// A node whose own group failed past its restart limit, while its partner is not healthy enough to take the group:
// the group waits out its cool-down, and the node goes on judging the partner meanwhile (test/core/one-node.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silenceAfter } from '../../agent/core/detector.ts';
import { cfg, normalNode } from './one-node.ts';

const coolDownMs = 10 * silenceAfter(cfg.timing);

test('while its own group is given up, the phase keeps following the detector (seed 107343)', () => {
  const n = normalNode();
  // The partner's agent falls silent but its machine answers ICMP: degraded, not dead, so it gets no handover.
  n.partner = { ...n.partner, heartbeats: false };
  n.runUntil('partner_degraded');
  n.failStarts = true;
  n.feed({ type: 'health', group: cfg.self, resource: 'arp', ok: false, detail: 'test' });
  n.run(1000);
  const gaveUpAt = n.s.groups[cfg.self]!.gaveUpAt;
  assert.ok(gaveUpAt !== null, n.trace.join('\n'));

  // Its machine stops answering too, and its slot stops changing: the disk probe, and the phase with it, well before
  // the cool-down ends.
  n.partner = { ...n.partner, icmp: false, disk: false };
  n.runUntil('probing', coolDownMs / 2);
  // Its slot changes again: alive on the disk only.
  n.partner = { ...n.partner, disk: true };
  n.runUntil('partner_degraded', coolDownMs / 2);
  assert.is(n.s.groups[cfg.self]!.gaveUpAt, gaveUpAt, 'still waiting out the cool-down');
  assert.not.ok(n.trace.some((l) => /handing_over|fencing/.test(l)), n.trace.join('\n'));
});

test.run();
