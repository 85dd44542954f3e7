// Text for humans, shared by the commands that print tables: `hanfs status`, `events`, `disk dump`.

/** Milliseconds as seconds with one decimal: "2.5 s". */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Left-aligned columns; a row shorter than the header (a sector without a record) just ends early, and its last
 * cell, like every row's, is not padded, so it does not widen the column it starts in.
 */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (column < row.length - 1 ? row[column]!.length : 0))));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}

/** A span for humans: "850 ms", "3.2 s", "2 min 13 s", "5 h 02 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return seconds(ms);
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
