// hanfs simulate's numbers: a seed count, a seed, a first seed or a worker count that is not a whole number in range
// is a usage error (exit 64) before anything runs, not "seeds: NaN, violations: 0" and exit 0.
import { InvalidArgumentError } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wholeNumber } from '../../agent/cli/simulate.ts';
import { hanfs } from './fixtures.ts';

test('wholeNumber takes whole numbers from its minimum up, and nothing else', () => {
  assert.is(wholeNumber(1)('1'), 1);
  assert.is(wholeNumber(1)('20000'), 20000);
  assert.is(wholeNumber(0)('0'), 0);
  for (const bad of ['abc', '', '-5', '0', '1.5', '1e3', '0x10', 'NaN', 'Infinity', '99999999999999999999']) {
    assert.throws(() => wholeNumber(1)(bad), (err: unknown) => err instanceof InvalidArgumentError, bad);
  }
});

test('hanfs simulate with a bad number: one line naming the option, exit 64, nothing run', async () => {
  for (const args of [['--seeds', 'abc'], ['--seeds', '-5'], ['--seeds', '0'], ['--workers', '2.5'], ['--seed', 'x']]) {
    const r = await hanfs(['simulate', ...args]);
    assert.is(r.code, 64, args.join(' '));
    assert.is(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^hanfs simulate: option '${args[0]} <.>' argument '${args[1]!.replace('.', '\\.')}' is invalid\\. expected a whole number ≥ [01]\\n`));
  }
});

test.run();
