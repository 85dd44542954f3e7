// The fault matrix's verdict per scenario over its trials, and its Markdown table.
import { summarize, type Summary } from '../../bench/stats.ts';
import type { Scenario, ScenarioResult } from './harness.ts';

export interface ScenarioSummary {
  name: string;
  what: string;
  trials: number;
  ok: boolean;
  takeoversExpected: number;
  /** Per trial. */
  takeoversSeen: number[];
  longestDoubleMs: number;
  ackedWrites: number;
  lostWrites: number;
  outageMs: Summary | null;
  measures: Record<string, Summary | null>;
  problems: string[];
}

export function summarise(scenario: Scenario, runs: ScenarioResult[]): ScenarioSummary {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.measures)))];
  return {
    name: scenario.name,
    what: scenario.what,
    trials: runs.length,
    ok: runs.length > 0 && runs.every((r) => r.ok),
    takeoversExpected: scenario.takeovers,
    takeoversSeen: runs.map((r) => r.takeoversSeen),
    longestDoubleMs: Math.max(0, ...runs.map((r) => r.longestDoubleMs)),
    ackedWrites: runs.reduce((n, r) => n + r.ackedWrites, 0),
    lostWrites: runs.reduce((n, r) => n + r.lostWrites.length, 0),
    outageMs: summarize(runs.map((r) => r.outageMs)),
    measures: Object.fromEntries(keys.map((k) => [k, summarize(runs.map((r) => r.measures[k] ?? null))])),
    problems: runs.flatMap((r, i) => r.problems.map((p) => `trial ${i + 1}: ${p}`)),
  };
}

const ms = (s: Summary | null) => (s ? `${Math.round(s.median)} / ${Math.round(s.max)}` : '—');

export function faultsMarkdown(command: string, commit: string, started: Date, summaries: ScenarioSummary[]): string {
  const rows = summaries.map((s) => `| ${s.name} | ${s.ok ? 'ok' : '**FAILED**'} | ${s.trials} | ${s.takeoversExpected} | ` +
    `${s.takeoversSeen.join(', ')} | ${s.longestDoubleMs} | ${s.lostWrites} of ${s.ackedWrites} | ${ms(s.outageMs)} |`);
  const figures = summaries.flatMap((s) => Object.entries(s.measures).map(([k, v]) => `| ${s.name} | ${k} | ${ms(v)} |`));
  const problems = summaries.flatMap((s) => s.problems.map((p) => `- ${s.name}, ${p}`));
  return [
    `# Fault matrix, ${started.toISOString()}`,
    '',
    `Command: \`${command}\`, at commit \`${commit}\``,
    '',
    '| scenario | verdict | trials | takeovers expected | takeovers seen | longest double ownership (ms) | acknowledged writes lost | client outage median / max (ms) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| scenario | figure | median / max (ms, or a count) |',
    '| --- | --- | --- |',
    ...figures,
    '',
    ...(problems.length > 0 ? ['Problems:', '', ...problems, ''] : []),
    'Scenarios:',
    '',
    ...summaries.map((s) => `- **${s.name}**: ${s.what}`),
    '',
  ].join('\n');
}
