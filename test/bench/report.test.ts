// The benchmark's derived figures, Markdown summary and SVG chart, rendered from a small hand-made result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelPhase, type FailoverTrial } from '../../bench/failover.ts';
import { phaseReport } from '../../lab/guest/window.ts';
import { medianTrial, renderMarkdown } from '../../bench/report.ts';
import { failoverRatios, failoverSummaries, freezeSummaries, type BenchResults } from '../../bench/results.ts';
import { escapeXml, renderChart, tickStep } from '../../bench/svg.ts';

const recovery = { answeredMs: 2700, readMs: 3300, repairs: 0 };
function trial(system: string, trial: number, addressMs: number | null, readMs: number | null, extra: Partial<FailoverTrial> = {}): FailoverTrial {
  return {
    system, trial, crashDelayMs: 40, addressMs, readMs, recovery, failedSteps: [],
    phases: system === 'hanfs' ? [
      { key: 'detection', label: 'detection: crash → partner declared dead', startMs: 0, endMs: 1500 },
      { key: 'fencing', label: 'fencing: fence written, partner lease expired', startMs: 1500, endMs: 3800 },
      { key: 'service_ip', label: 'service address (arping -D, ip addr add)', startMs: 4100, endMs: 6100 },
    ] : [{ key: 'notify', label: 'notify script → hanfs group start running (node start-up)', startMs: 400, endMs: 1100 }],
    ...extra,
  };
}

const GUEST = 'g1 (198.51.100.101, NFSv4.1 198.51.100.11:/srv1)';
const kphase = (stallMs: number, failedOutsideLocks = 0) => ({ stallMs, stallLoop: 'new files', ops: 100, failedOutsideLocks });
const failover = [
  trial('hanfs', 0, 6300, 7100, { kernel: { guest: GUEST, crash: kphase(7600), failback: kphase(2100) } }),
  trial('keepalived-fast', 0, 400, 4400, { kernel: { guest: GUEST, crash: kphase(5200), failback: kphase(8000, 2) } }),
  trial('hanfs', 1, 6500, 7200, { kernel: { guest: GUEST, crash: kphase(7800), failback: kphase(2300) } }),
  trial('keepalived-fast', 1, 800, null, {
    error: 'no client read within 60000 ms',
    kernel: { guest: GUEST, crash: null, failback: kphase(9000), error: 'crash: timed out after 60000 ms: every loop answered' },
  }),
  trial('hanfs', 2, 6400, 7000, { kernel: { guest: GUEST, crash: kphase(7000), failback: kphase(2200) } }),
  trial('keepalived-fast', 2, 500, 5000, {
    recovery: { answeredMs: 700, readMs: 9000, repairs: 1 }, failedSteps: ['server2: start server1/log_replay failed: e2fsck (PID 12) busy'],
    kernel: { guest: GUEST, crash: kphase(5000), failback: kphase(7000) },
  }),
];

const results: BenchResults = {
  command: 'npm run bench -- --trials 3',
  commit: '51a51f0',
  startedAt: '2026-11-30T07:00:00.000Z', finishedAt: '2026-11-30T07:30:00.000Z',
  machine: { cpus: 2, kernel: '6.1.0', node: 'v20.19.0', loadAverageAtStart: [0.1, 0.2, 0.3] },
  note: 'quiet machine',
  settings: { trials: 3, freezeSeconds: 5, loadSeconds: 300, overheadSeconds: 300, throughputMiB: 256, throughputRuns: 3, seed: 7, smoke: true },
  systems: [
    { name: 'hanfs', kind: 'hanfs', describe: 'hanfs agents, lab timing', intervalMs: 100, silenceMs: 500, repairsAtStart: 0 },
    { name: 'keepalived-fast', kind: 'keepalived', describe: 'keepalived 2.2.7, VRRPv3, advert 0.1 s', intervalMs: 100, silenceMs: 361, repairsAtStart: 1 },
    { name: 'keepalived-500ms', kind: 'keepalived', describe: 'load test only', intervalMs: 140, silenceMs: 505, repairsAtStart: 0 },
  ],
  failover,
  freeze: [
    { system: 'hanfs', kind: 'node', trial: 0, freezeMs: 5000, longestDoubleMs: 0, doubled: [], takeovers: 1, recovery, failedSteps: [] },
    { system: 'keepalived-fast', kind: 'node', trial: 0, freezeMs: 5000, longestDoubleMs: 3800, doubled: ['198.51.100.11'], takeovers: 1, recovery, failedSteps: [] },
    { system: 'keepalived-fast', kind: 'node', trial: 1, freezeMs: 5000, longestDoubleMs: 4000, doubled: ['198.51.100.11', 'disk1'], takeovers: 2, recovery, failedSteps: [] },
  ],
  load: [{ system: 'hanfs', describe: 'lab timing', silenceMs: 500, seconds: 300, takeovers: 0, suspicions: 2 }],
  overhead: [{ system: 'hanfs-500ms', describe: 'default timing', seconds: 300, servers: [{ server: 'server1', cpuPercent: 1.234, rssMiBMean: 110.04, rssMiBMax: 115.5 }] }],
  throughput: { mib: 256, runs: [{ agents: true, readMiBs: 400 }, { agents: false, readMiBs: 500 }], withAgents: { n: 1, median: 400, min: 400, max: 400 }, withoutAgents: { n: 1, median: 500, min: 500, max: 500 } },
  errors: ['load: something broke\n--- server1.log\n{"a":1}'],
};

test('summaries per system: medians and ranges of what was measured, trials without a result counted', () => {
  const [h, k] = failoverSummaries(failover, ['hanfs', 'keepalived-fast']);
  assert.equal(h!.address, { n: 3, median: 6400, min: 6300, max: 6500 });
  assert.equal(k!.read, { n: 2, median: 4700, min: 4400, max: 5000 });
  assert.is(k!.failedTrials, 1);
  assert.is(k!.repairs, 1);
  assert.is(k!.failedSteps, 1);
});

test("the kernel client's stall per system around the crash and the failback, over the trials that measured it", () => {
  const [h, k] = failoverSummaries(failover, ['hanfs', 'keepalived-fast']);
  assert.equal(h!.kernelCrashStall, { n: 3, median: 7600, min: 7000, max: 7800 });
  assert.equal(h!.kernelFailbackStall, { n: 3, median: 2200, min: 2100, max: 2300 });
  assert.equal([h!.kernelTrials, h!.kernelIncomplete, h!.kernelFailedOutsideLocks], [3, 0, 0]);
  assert.equal(k!.kernelCrashStall, { n: 2, median: 5100, min: 5000, max: 5200 });
  assert.equal([k!.kernelTrials, k!.kernelIncomplete, k!.kernelFailedOutsideLocks], [3, 1, 2]);
  // Results from before the kernel client have none.
  const [old] = failoverSummaries([trial('hanfs', 0, 6300, 7100)], ['hanfs']);
  assert.equal([old!.kernelCrashStall, old!.kernelFailbackStall, old!.kernelTrials], [null, null, 0]);
});

test('ratios hanfs / keepalived pair trial i with trial i', () => {
  const [r] = failoverRatios(failover, 'hanfs', ['keepalived-fast']);
  assert.equal(r!.address, [6300 / 400, 6500 / 800, 6400 / 500]);
  assert.equal(r!.read, [7100 / 4400, 7000 / 5000]);
  assert.is(r!.medianAddress, 6400 / 500);
});

test('freeze summaries per system and kind', () => {
  const [h, k] = freezeSummaries(results.freeze);
  assert.equal([h!.system, h!.longestDouble?.max, h!.takeovers], ['hanfs', 0, 1]);
  assert.equal([k!.trials, k!.longestDouble?.median, k!.takeovers, k!.doubled], [2, 3900, 3, ['198.51.100.11', 'disk1']]);
});

test('the median trial is the lower middle of those with a first read', () => {
  assert.is(medianTrial(failover.filter((t) => t.system === 'hanfs'))!.trial, 0);
  assert.is(medianTrial([]), null);
});

test('the Markdown says it is a smoke run, gives the command, every table, and the keepalived notify findings', () => {
  const md = renderMarkdown(results, 'bench-x.svg');
  assert.match(md, /^# hanfs benchmarks, 2026-11-30 07:00 UTC\n/);
  assert.match(md, /\*\*Smoke run\*\*/);
  assert.match(md, /Command: `npm run bench -- --trials 3`, at commit `51a51f0`/);
  assert.match(md, /!\[failover timeline and distributions\]\(bench-x\.svg\)/);
  assert.match(md, /\| hanfs \| 6400 ms \[6300 ms–6500 ms\] \(n=3\) \| 7100 ms \[7000 ms–7200 ms\] \(n=3\) \| 0 \|/);
  assert.match(md, /\| keepalived-fast \| 12\.80× \(15\.75, 8\.13, 12\.80\) \| 1\.51× \(1\.61, 1\.40\) \|/);
  assert.match(md, /### hanfs: the median failover \(trial 1\)/);
  assert.match(md, /\| fencing: fence written, partner lease expired \| 1500 ms \| 3800 ms \| 2300 ms \|/);
  assert.match(md, /### The kernel client\n\nA Linux kernel NFSv4.1 client in each lab, g1 \(198\.51\.100\.101, NFSv4\.1 198\.51\.100\.11:\/srv1\)/);
  assert.match(md, /\| hanfs \| 7600 ms \[7000 ms–7800 ms\] \(n=3\) \| 2200 ms \[2100 ms–2300 ms\] \(n=3\) \| 0 \| 0 \|/);
  assert.match(md, /\| keepalived-fast \| 5100 ms \[5000 ms–5200 ms\] \(n=2\) \| 8000 ms \[7000 ms–9000 ms\] \(n=3\) \| 2 \| 1 \|/);
  assert.match(md, /- keepalived-fast trial 2: crash: timed out after 60000 ms: every loop answered/);
  assert.match(md, /\| keepalived-fast \| node \| 2 \| 3900 ms \[3800 ms–4000 ms\] \(n=2\) \| 3 \| 198\.51\.100\.11, disk1 \| 0 \|/);
  assert.match(md, /1 failed resource steps, 2 groups left down and repaired by hand/);
  assert.match(md, /- server2: start server1\/log_replay failed: e2fsck \(PID …\) busy/);
  assert.match(md, /\| hanfs: lab timing \| 500 ms \| 0 \| 2 \|/);
  assert.match(md, /\| hanfs-500ms: default timing \| server1 \| 1\.23 % \| 110\.0 MiB \| 115\.5 MiB \|/);
  assert.match(md, /With agents \/ without, medians: 0\.80×/);
  assert.match(md, /## Errors\n- load: something broke\n*$/);
  // A system of the load test only is in the systems table, not in the failover ones.
  assert.match(md, /\| keepalived-500ms \| load test only \|/);
  assert.not.match(md, /\| keepalived-500ms \| —/);
});

test("a kernel client's phase: its longest stall counted from before the phase, failures under the locks left out", () => {
  const p = kernelPhase(phaseReport([
    'op=write file=w1 ok=1 startMs=0 durMs=10',
    'op=write file=w2 ok=1 startMs=100 durMs=7000',
    'op=flock-write file=f ok=0 startMs=200 durMs=5 err=EIO',
    'op=stream file=s@1 ok=0 startMs=300 durMs=5 err=EIO',
  ], 1));
  assert.equal(p, { stallMs: 7090, stallLoop: 'new files', ops: 3, failedOutsideLocks: 1 });
});

test('results without a kernel client (older runs, --no-kernel-client) have no kernel client section', () => {
  const md = renderMarkdown({ ...results, failover: failover.map(({ kernel: _, ...t }) => t) }, 'bench-x.svg');
  assert.not.match(md, /kernel client/i);
});

test('axis steps are 1, 2 or 5 times a power of ten', () => {
  assert.is(tickStep(7000), 2000);
  assert.is(tickStep(450), 100);
  assert.is(tickStep(0), 0.2);
});

test('the SVG: well-formed text, a bar per phase, a dot per measured figure, labels escaped', () => {
  const svg = renderChart({
    title: 'hanfs <vs> keepalived & co', timeline: { system: 'hanfs', trial: failover[0]! }, trials: failover, systems: ['hanfs', 'keepalived-fast'],
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.match(svg, /hanfs &lt;vs&gt; keepalived &amp; co/);
  assert.is(svg.match(/<rect x=/g)?.length, 3);
  // 6 addresses and 5 first reads measured.
  assert.is(svg.match(/<circle /g)?.length, 11);
  assert.not.match(svg, /NaN|undefined/);
  assert.is(escapeXml('a"b'), 'a&quot;b');
  const empty = renderChart({ title: 't', timeline: null, trials: [], systems: ['hanfs'] });
  assert.not.match(empty, /NaN|undefined|<circle/);
});

test.run();
