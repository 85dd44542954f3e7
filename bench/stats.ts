// The few statistics the benchmarks report: median and range of a handful of trials, and ratios pair by pair.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** The median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Summary of the values that were measured (nulls are trials where the figure is missing); null if none. */
export function summarize(values: readonly (number | null)[]): Summary | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  return { n: v.length, median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

/** a[i] / b[i] for every trial index where both were measured: trials of the same round, taken minutes apart at most. */
export function pairRatios(a: readonly (number | null)[], b: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && x !== undefined && y !== null && y !== undefined && y > 0) out.push(x / y);
  }
  return out;
}
