import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  detectorTick, diskAlive, diskReadOk, heard, icmpReply, newDetector, type DetectorState,
} from '../../agent/core/detector.ts';
import type { CoreTiming } from '../../agent/core/types.ts';

const T: CoreTiming = {
  heartbeatIntervalMs: 100, missesBeforeSuspicion: 4, icmpTimeoutMs: 200, diskIntervalMs: 100,
  diskIoTimeoutMs: 200, diskProbeTimeoutMs: 500, selfFenceLeaseMs: 2000, fenceAfterMs: 2000, watchdogTimeoutMs: 0,
};

function watching(): DetectorState {
  const d = newDetector(['a', 'b'], 0);
  heard(d, 'a', 0);
  heard(d, 'b', 0);
  detectorTick(d, 0, T);
  return d;
}

test('heartbeats on any network keep the detector watching', () => {
  const d = watching();
  for (let t = 100; t <= 2000; t += 100) {
    heard(d, 'b', t);
    detectorTick(d, t, T);
  }
  assert.is(d.stage, 'watching');
});

test('heartbeats lost on one network while heard on the other: a network failure, not suspicion', () => {
  const d = watching();
  let actions: ReturnType<typeof detectorTick> = [];
  for (let t = 100; t <= 600; t += 100) {
    heard(d, 'b', t);
    actions = actions.concat(detectorTick(d, t, T));
  }
  assert.equal(actions, [{ kind: 'net', net: 'a', up: false }]);
  assert.is(d.stage, 'watching');
});

test('silence everywhere escalates: ICMP, then the disk ping, then dead', () => {
  const d = watching();
  assert.equal(detectorTick(d, 399, T).filter((a) => a.kind !== 'net'), []);
  assert.equal(detectorTick(d, 400, T).filter((a) => a.kind !== 'net'), [{ kind: 'icmp', probeId: 1 }]);
  assert.is(d.stage, 'icmp');
  assert.equal(detectorTick(d, 600, T), [{ kind: 'ping', pingSeq: 1 }]);
  assert.is(d.stage, 'disk');
  for (let i = 0; i < 5; i++) diskReadOk(d);
  detectorTick(d, 1100, T);
  assert.is(d.stage, 'dead');
});

test('an ICMP answer means alive: the machine is up, its agent silent', () => {
  const d = watching();
  detectorTick(d, 400, T);
  icmpReply(d, 1);
  detectorTick(d, 450, T);
  assert.is(d.stage, 'unresponsive');
  assert.is(d.unresponsiveRounds, 1);
});

test('a reply to an older probe does not count', () => {
  const d = watching();
  detectorTick(d, 400, T);
  icmpReply(d, 0);
  detectorTick(d, 450, T);
  assert.is(d.stage, 'icmp');
});

test('an ICMP reply that comes late, during the disk probe, still means alive', () => {
  const d = watching();
  detectorTick(d, 400, T);
  detectorTick(d, 600, T);
  icmpReply(d, 1);
  detectorTick(d, 650, T);
  assert.is(d.stage, 'unresponsive');
});

test('a disk answer means alive: the networks are cut, not the partner dead', () => {
  const d = watching();
  detectorTick(d, 400, T);
  detectorTick(d, 600, T);
  diskAlive(d, 700);
  detectorTick(d, 700, T);
  assert.is(d.stage, 'disk_only');
});

test('silence on a disk we cannot read proves nothing: no verdict without our own reads', () => {
  const d = watching();
  detectorTick(d, 400, T);
  detectorTick(d, 600, T);
  diskReadOk(d);
  detectorTick(d, 5000, T);
  assert.is(d.stage, 'disk');
});

test('a heartbeat ends any escalation at once', () => {
  const d = watching();
  detectorTick(d, 400, T);
  detectorTick(d, 600, T);
  heard(d, 'a', 650);
  assert.is(d.stage, 'watching');
});

test.run();
