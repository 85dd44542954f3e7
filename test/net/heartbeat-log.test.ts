import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { THROTTLE_INTERVAL_MS, ThrottledLog } from '../../agent/net/heartbeat-log.ts';

test('one line per key per interval, counting what happened in between', () => {
  let now = 0;
  const lines: Array<[string, Record<string, unknown> | undefined]> = [];
  const log = new ThrottledLog((_level, message, fields) => lines.push([message, fields]), () => now);

  log.note('drop:hmac', 'warn', 'hmac', { source: 'x' });
  log.note('drop:hmac', 'warn', 'hmac');
  log.note('drop:magic', 'warn', 'magic');
  now += THROTTLE_INTERVAL_MS - 1;
  log.note('drop:hmac', 'warn', 'hmac');
  assert.equal(lines, [['hmac', { source: 'x', count: 1 }], ['magic', { count: 1 }]]);

  now += 1;
  log.note('drop:hmac', 'warn', 'hmac');
  assert.equal(lines.at(-1), ['hmac', { count: 3 }]);
  now += THROTTLE_INTERVAL_MS;
  log.note('drop:hmac', 'warn', 'hmac');
  assert.equal(lines.at(-1), ['hmac', { count: 1 }]);
  assert.is(lines.length, 4);
});

test.run();
