// The fault matrix's summary per scenario and its Markdown, from hand-made trials: the libnfs client's figures, and
// the kernel client's (failed operations, longest stall, fsync'ed writes lost, locks kept), lost locks listed apart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KernelClientTrial } from '../../lab/kernel-client.ts';
import type { Scenario, ScenarioResult } from '../../lab/scenarios/harness.ts';
import { faultsMarkdown, summarise, summariseKernelClient } from '../../lab/scenarios/report.ts';

const scenario: Scenario = { name: 'server-crash', what: 'server1 crashes', takeovers: 1, reintegrate: 'manual', run: async () => {} };

function kernel(extra: Partial<KernelClientTrial> = {}): KernelClientTrial {
  return {
    guest: 'g1 (198.51.100.101, NFSv4.1 198.51.100.11:/srv1)', ops: 500, failed: 0, failedOutsideLocks: 0, failures: [],
    longestStallMs: 7000, longestStallLoop: 'new files', fsynced: 300, lost: 0, locksKept: true, locks: 'kept (flock and fcntl)', ...extra,
  };
}

function run(extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    name: 'server-crash', ok: true, problems: [], takeoversExpected: 1, takeoversSeen: 1, longestDoubleMs: 0, doubleSamples: [],
    ackedWrites: 100, lostWrites: [], outageMs: 6000, measures: { 'crash → server2 serving both': 6000 }, notes: [], durationMs: 30_000,
    kernelClient: kernel(), ...extra,
  };
}

const LOST = 'LOST: NFS: 198.51.100.11: lost 2 locks; 12 operations under them failed (EIO)';
const runs = [
  run(),
  run({ kernelClient: kernel({ longestStallMs: 9000, failed: 12, locksKept: false, locks: LOST }) }),
  run({ kernelClient: kernel({ longestStallMs: 8000, locksKept: false, locks: LOST }) }),
];

test("the kernel client's trials summed up: counts, the stall's median and max, locks kept, each loss once", () => {
  const k = summariseKernelClient(runs)!;
  assert.equal([k.trials, k.ops, k.failedOutsideLocks, k.failed, k.fsynced, k.lost, k.locksKept], [3, 1500, 0, 12, 900, 0, 1]);
  assert.equal(k.stallMs, { n: 3, median: 8000, min: 7000, max: 9000 });
  assert.equal(k.lockLosses, [LOST]);
  assert.is(summariseKernelClient([run({ kernelClient: null })]), null);
});

test('a scenario summary carries the kernel client beside the libnfs figures', () => {
  const s = summarise(scenario, runs);
  assert.is(s.ok, true, 'lost locks do not fail it');
  assert.equal([s.trials, s.ackedWrites, s.lostWrites, s.outageMs?.median], [3, 300, 0, 6000]);
  assert.is(s.kernelClient?.locksKept, 1);
});

test("the Markdown: the kernel client's columns, the lost locks listed apart, the problems", () => {
  const failed = summarise({ ...scenario, name: 'node-freeze' }, [run({
    name: 'node-freeze', ok: false, problems: ['kernel client: 1 operations failed outside the locks: read w3 EIO'],
    kernelClient: kernel({ failedOutsideLocks: 1, failed: 1, lost: 2 }),
  })]);
  const md = faultsMarkdown('npm run faults -- --trials 3', 'abc1234', new Date('2026-12-07T10:00:00Z'), [summarise(scenario, runs), failed]);
  assert.match(md, /^# Fault matrix, 2026-12-07T10:00:00\.000Z\n/);
  assert.match(md, /Command: `npm run faults -- --trials 3`, at commit `abc1234`/);
  assert.match(md, /\| kernel client: failed ops outside locks \(all failed\) \| kernel client: longest stall median \/ max \(ms\) \| kernel client: fsync'ed writes lost \| kernel client: locks kept \(trials\) \|\n(\| --- ){12}\|/);
  assert.match(md, /\| server-crash \| ok \| 3 \| 1 \| 1, 1, 1 \| 0 \| 0 of 300 \| 6000 \/ 6000 \| 0 of 1500 \(12\) \| 8000 \/ 9000 \| 0 of 900 \| 1 of 3 \|/);
  assert.match(md, /\| node-freeze \| \*\*FAILED\*\* \| 1 \| 1 \| 1 \| 0 \| 0 of 100 \| 6000 \/ 6000 \| 1 of 500 \(1\) \| 7000 \/ 7000 \| 2 of 300 \| 1 of 1 \|/);
  assert.match(md, /- node-freeze, trial 1: kernel client: 1 operations failed outside the locks: read w3 EIO/);
  assert.match(md, /The kernel client's lost locks \(known, issue 13: reported, not failed\):\n\n- server-crash: LOST: NFS: 198\.51\.100\.11: lost 2 locks/);
  assert.match(md, /\| server-crash \| crash → server2 serving both \| 6000 \/ 6000 \|/);
});

test('without the kernel client its columns are empty and the report says why', () => {
  const md = faultsMarkdown('npm run faults -- --no-kernel-client', 'abc1234', new Date('2026-12-07T10:00:00Z'),
    [summarise(scenario, [run({ kernelClient: null })])]);
  assert.match(md, /The kernel client was not run \(`--no-kernel-client`\)/);
  assert.match(md, /\| 6000 \/ 6000 \| — \| — \| — \| — \|/);
  assert.not.match(md, /lost locks/);
});

test.run();
