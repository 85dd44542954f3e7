// Summaries of the per-client figures for the report: median, 99th percentile and maximum (nearest rank).

export interface Spread {
  count: number;
  median: number;
  p99: number;
  max: number;
}

export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { count: sorted.length, median: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1]! };
}

/** How many times each string occurs, most frequent first. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}
