// Reading Prometheus's text format in tests.

/** The value of the first sample line of metric `name` whose labels contain `labels` (e.g. 'net="a"'), or null. */
export function sample(text: string, name: string, labels: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}
