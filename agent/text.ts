// Text for humans, shared by the commands that print tables: `hanfs status`, `events`, `disk dump`.

/** Milliseconds as seconds with one decimal: "2.5 s". */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Left-aligned columns; a row shorter than the header (a sector without a record) just ends early. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}
