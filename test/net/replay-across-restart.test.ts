// Replays across an agent restart: the newest heartbeat heard from the partner is kept on local storage
// (heard-mark.ts), and a transport started again refuses everything up to it. Also the bounds on counters.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COUNTER_CEILING, CounterBounds, MAX_TERM_STEP } from '../../agent/net/heartbeat-bounds.ts';
import { ReplayGuard } from '../../agent/net/heartbeat-replay.ts';
import { HeardMark, MARK_EVERY_MS } from '../../agent/net/heard-mark.ts';
import { nextGeneration } from '../../agent/daemon/generation.ts';
import { heartbeat } from './heartbeat-fixtures.ts';
import { inTempDir } from './temp-dir.ts';

const settle = () => new Promise((r) => setTimeout(r, 50));

test('the mark is written at a new generation and at most once a second, and a restarted guard starts from it', () =>
  inTempDir('mark', async (dir) => {
    const first = await HeardMark.open(dir, 'lab', 'server2', () => {});
    assert.is(first.initial, null);
    first.heard({ gen: 7, seq: 1 }, 0);
    first.heard({ gen: 7, seq: 5 }, MARK_EVERY_MS / 2);
    await settle();
    assert.is(await readFile(join(dir, 'lab-server2.heard'), 'utf8'), '7 1\n', 'not again within the second');
    first.heard({ gen: 7, seq: 12 }, MARK_EVERY_MS);
    await settle();

    const again = await HeardMark.open(dir, 'lab', 'server2', () => {});
    assert.equal(again.initial, { gen: 7, seq: 12 });
    const guard = new ReplayGuard();
    guard.seed('server2', again.initial!, ['a', 'b']);
    // Captured before the restart: refused. What the partner sends next: news.
    assert.is(guard.check('a', { from: 'server2', gen: 6, seq: 900 }), 'replay');
    assert.is(guard.check('b', { from: 'server2', gen: 7, seq: 11 }), 'replay');
    assert.is(guard.check('a', { from: 'server2', gen: 7, seq: 13 }), 'fresh');
    assert.is(guard.check('a', { from: 'server2', gen: 8, seq: 1 }), 'fresh');
  }));

test('a mark that does not parse is reported and ignored', () =>
  inTempDir('mark', async (dir) => {
    const first = await HeardMark.open(dir, 'lab', 'server2', () => {});
    first.heard({ gen: 1, seq: 1 }, 0);
    await settle();
    await writeFile(join(dir, 'lab-server2.heard'), 'garbage\n');
    const lines: string[] = [];
    const again = await HeardMark.open(dir, 'lab', 'server2', (_level, message) => lines.push(message));
    assert.is(again.initial, null);
    assert.match(lines.join('\n'), /not a heartbeat mark/);
  }));

test('generations grow at every start, and never fall below the seconds since 2024', () =>
  inTempDir('mark', async (dir) => {
    const at = (iso: string) => () => Date.parse(iso);
    const a = await nextGeneration(dir, 'lab', 'server1', at('2026-12-06T00:00:00Z'));
    const b = await nextGeneration(dir, 'lab', 'server1', at('2026-12-06T00:00:00Z'));
    assert.is(b, a + 1);
    // Local storage wiped: the next generation is still above what the partner heard before.
    await rm(join(dir, 'lab-server1.generation'));
    assert.ok((await nextGeneration(dir, 'lab', 'server1', at('2026-12-06T00:10:00Z'))) > b);
    assert.ok(a < COUNTER_CEILING);
    // A clock set a century ahead does not push the generation out of what the partner accepts.
    assert.ok((await nextGeneration(dir, 'lab', 'server2', at('2126-01-01T00:00:00Z'))) < COUNTER_CEILING);
  }));

test('counters near the top of 32 bits, and fence terms far past the highest seen, are out of bounds', () => {
  const bounds = new CounterBounds();
  const hb = heartbeat('server2', 5, 1);
  const withTerm = (term: number) => ({ ...hb, outbox: { ...hb.outbox, fence: { term, active: true } } });
  assert.is(bounds.check(withTerm(2 ** 32 - 1)), 'a counter at or past 2^31');
  assert.is(bounds.check({ ...hb, gen: COUNTER_CEILING }), 'a counter at or past 2^31');
  // The first heartbeat sets the base; the next may move a few terms on, not a jump.
  assert.is(bounds.check(withTerm(3)), null);
  bounds.accepted(withTerm(3));
  assert.is(bounds.check(withTerm(3 + MAX_TERM_STEP)), null);
  assert.match(bounds.check(withTerm(4 + MAX_TERM_STEP)) ?? '', /jumps past 3/);
  // A refused heartbeat moves nothing.
  assert.match(bounds.check(withTerm(4 + MAX_TERM_STEP)) ?? '', /jumps past 3/);
});

test.run();
