// `npm run bench:footprint [-- --runs N]`: what each part of the agent costs in memory when it is loaded, measured
// in a bare Node: the resident set after importing the compiled modules (dist/) and a full garbage collection, each
// step alone on top of Node and in the order the agent adds them, median of N fresh processes per row. This is
// the breakdown behind the overhead benchmark's agent RSS (`npm run bench -- --only overhead`), which measures the
// running agents; it sends no traffic and starts no lab. Written to bench/results/footprint-DATE.{json,md} with
// the command and commit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { sourceCommit } from '../lab/source-commit.ts';
import { summarize, type Summary } from './stats.ts';

/** One thing the agent may load: what to run in the measured process, and when the agent does it. */
interface Step {
  name: string;
  /** Module code run in the measured Node, in the project's root; may await. */
  code: string;
  when: string;
}

const dist = (path: string) => `await import(${JSON.stringify(new URL(`../dist/${path}`, import.meta.url).href)});`;

// In the order the agent meets them: at start, then only with the features that need them.
const STEPS: Step[] = [
  { name: 'winston (the log)', code: "await import('winston');", when: 'at start' },
  { name: 'the agent (dist/agent/daemon/run-agent.js and all it imports)', code: dist('agent/daemon/run-agent.js'), when: 'at start' },
  {
    name: 'a worker thread, idle (a second V8 isolate)',
    code: `const { Worker } = await import('node:worker_threads');
      const w = new Worker("import('node:worker_threads').then(({ parentPort }) => { parentPort.postMessage(1); setInterval(() => {}, 1000); })", { eval: true });
      await new Promise((r) => w.once('message', r)); globalThis.keep = w;`,
    when: "for as long as the agent runs (the mailbox's I/O thread), and while the configuration is parsed (its thread)",
  },
  { name: 'the configuration parser (dist/config/load.js: yaml, zod, the schema)', code: dist('config/load.js'), when: 'inside the configuration thread, which ends once it is parsed' },
  { name: 'prom-client (dist/agent/operate/metrics.js)', code: dist('agent/operate/metrics.js'), when: 'with metrics.listen set' },
  { name: 'systeminformation', code: "await import('systeminformation');", when: 'at the first load or memory check' },
];

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('--runs must be a positive whole number');
  return n;
};
const o = new Command().name('npm run bench:footprint --')
  .description("the memory each part of the agent costs when loaded, in a bare Node (no lab, no traffic)")
  .option('--runs <n>', 'fresh processes per row', positive, 5)
  .option('--out <dir>', 'where results go', 'bench/results')
  .parse().opts<{ runs: number; out: string }>();

/** The resident set, in MiB, of a fresh Node that ran `code` and then a full garbage collection. */
function rssAfter(code: string): number {
  const program = `${code}
    await new Promise((r) => setTimeout(r, 200));
    globalThis.gc();
    const line = (await import('node:fs')).readFileSync('/proc/self/smaps_rollup', 'utf8').match(/^Rss:\\s+(\\d+) kB/m);
    process.stdout.write(String(Number(line[1]) / 1024));
    process.exit(0);`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', program], { encoding: 'utf8' });
  return Number(out);
}

function measure(code: string): Summary {
  return summarize(Array.from({ length: o.runs }, () => rssAfter(code)))!;
}

const started = new Date();
const commit = sourceCommit();
const command = `npm run bench:footprint -- --runs ${o.runs}`;
const node = measure('');
console.log(`Node alone: ${node.median.toFixed(1)} MiB`);
const rows = STEPS.map((step, i) => {
  const alone = measure(step.code);
  const cumulative = measure(STEPS.slice(0, i + 1).map((s) => s.code).join('\n'));
  console.log(`${step.name}: alone +${(alone.median - node.median).toFixed(1)} MiB, with the rows above ${cumulative.median.toFixed(1)} MiB`);
  return { ...step, alone, cumulative };
});

const stamp = started.toISOString().slice(0, 16).replace(/:/g, '');
mkdirSync(o.out, { recursive: true });
const base = join(o.out, `footprint-${stamp}`);
writeFileSync(`${base}.json`, `${JSON.stringify({ command, commit, started: started.toISOString(), runs: o.runs, node, rows }, null, 2)}\n`);
const mib = (s: Summary) => `${s.median.toFixed(1)} MiB [${s.min.toFixed(1)}–${s.max.toFixed(1)}]`;
writeFileSync(`${base}.md`, [
  `# The agent's memory, part by part, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `Command: \`${command}\`, at commit \`${commit}\`. Node ${process.version}.`,
  '',
  'The resident set of a fresh Node after importing the compiled modules and a full garbage collection, median',
  `[range] of ${o.runs} processes per cell. "Alone": that part on top of Node alone; "with the rows above": it`,
  'and every row above it, in the order the agent meets them. A part\'s cost alone can exceed its step in the',
  'second column: what it shares with the rows above is paid once.',
  '',
  `Node alone: ${mib(node)}.`,
  '',
  '| part | when the agent loads it | alone, above Node | with the rows above |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.when} | +${(r.alone.median - node.median).toFixed(1)} MiB | ${mib(r.cumulative)} |`),
  '',
].join('\n'));
console.log(`results: ${base}.json, .md`);
