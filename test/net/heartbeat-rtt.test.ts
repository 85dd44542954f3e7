import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RttMeter } from '../../agent/net/heartbeat-rtt.ts';

test('a round trip is the echo time less the send time and the hold', () => {
  const m = new RttMeter();
  m.sent(3, 41, 100);
  m.sent(3, 42, 600);
  assert.is(m.echoed('a', { gen: 3, seq: 42 }, 450, 1060), 10);
  assert.is(m.echoed('b', { gen: 3, seq: 41 }, 2.5, 104), 1.5);
  assert.is(m.last('a'), 10);
  assert.is(m.last('b'), 1.5);
  assert.is(m.last('c'), null);
});

test('echoes of heartbeats it does not know give no sample', () => {
  const m = new RttMeter();
  assert.is(m.echoed('a', { gen: 1, seq: 1 }, 0, 10), null, 'nothing sent yet');
  m.sent(2, 1, 0);
  assert.is(m.echoed('a', { gen: 1, seq: 1 }, 0, 10), null, 'a previous run of ours');
  for (let seq = 2; seq <= 70; seq++) m.sent(2, seq, seq);
  assert.is(m.echoed('a', { gen: 2, seq: 1 }, 0, 100), null, 'forgotten: 64 newer since');
  assert.is(m.echoed('a', { gen: 2, seq: 70 }, 50, 100), null, 'a hold longer than the trip: clocks disagree');
  assert.is(m.last('a'), null);
});

test('the hold is reported only for the newest heartbeat heard from the partner', () => {
  const m = new RttMeter();
  assert.is(m.heldFor({ gen: 5, seq: 9 }, 100), null, 'nothing heard yet');
  m.heardFromPartner(5, 9, 100);
  m.heardFromPartner(5, 8, 120); // late and older: ignored
  assert.is(m.heldFor({ gen: 5, seq: 9 }, 130), 30);
  assert.is(m.heldFor({ gen: 5, seq: 8 }, 130), null);
  assert.is(m.heldFor(null, 130), null);
  m.heardFromPartner(6, 1, 140); // the partner restarted
  assert.is(m.heldFor({ gen: 6, seq: 1 }, 145), 5);
});

test.run();
