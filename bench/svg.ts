// The benchmark's chart, hand-written SVG (no charting library): on top, one hanfs failover phase by phase on a time
// axis from the crash; below, each system's failovers trial by trial (crash → address answered, crash → first read)
// on one shared axis, with their medians.
import type { Phase } from '../lab/phases.ts';
import type { FailoverTrial } from './failover.ts';
import { median } from './stats.ts';

const W = 960;
const LEFT = 330;
const RIGHT = 30;
const ROW = 22;
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round step for the axis ticks: 1, 2 or 5 × a power of ten, about `count` ticks over `max`. */
export function tickStep(max: number, count = 6): number {
  const raw = Math.max(max, 1) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

function axis(y: number, maxMs: number, x: (ms: number) => number, height: number): string {
  const step = tickStep(maxMs);
  const parts: string[] = [];
  for (let t = 0; t <= maxMs + 1e-9; t += step) {
    parts.push(`<line x1="${x(t)}" y1="${y - height}" x2="${x(t)}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(t)}" y="${y + 14}" font-size="11" text-anchor="middle">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`);
  }
  return parts.join('');
}

export function renderChart(o: { title: string; timeline: { system: string; trial: FailoverTrial } | null; trials: FailoverTrial[]; systems: string[] }): string {
  const body: string[] = [];
  let y = 30;
  body.push(`<text x="10" y="${y}" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`);
  y += 20;

  const scale = (maxMs: number) => (ms: number) => +(LEFT + (ms / Math.max(maxMs, 1)) * (W - LEFT - RIGHT)).toFixed(1);

  if (o.timeline) {
    const { trial } = o.timeline;
    const phases: Phase[] = trial.phases;
    const marks = [['address answered', trial.addressMs], ['first read OK', trial.readMs]] as const;
    const maxMs = Math.max(...phases.map((p) => p.endMs), ...marks.map(([, v]) => v ?? 0));
    const x = scale(maxMs);
    y += 16;
    body.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${escapeXml(`${o.timeline.system}: one failover (trial ${trial.trial}), phase by phase, from the crash`)}</text>`);
    y += 10;
    const top = y;
    phases.forEach((p, i) => {
      const row = top + i * ROW;
      const width = Math.max(1.5, x(p.endMs) - x(p.startMs));
      body.push(`<text x="${LEFT - 8}" y="${row + 15}" font-size="12" text-anchor="end">${escapeXml(p.label)}</text>`);
      body.push(`<rect x="${x(p.startMs)}" y="${row + 4}" width="${width.toFixed(1)}" height="${ROW - 8}" fill="${COLORS[i % COLORS.length]}"><title>${escapeXml(`${p.label}: ${Math.round(p.endMs - p.startMs)} ms`)}</title></rect>`);
      body.push(`<text x="${(x(p.startMs) + width + 4).toFixed(1)}" y="${row + 15}" font-size="11">${Math.round(p.endMs - p.startMs)} ms</text>`);
    });
    y = top + phases.length * ROW + 8;
    for (const [label, v] of marks) {
      if (v === null) continue;
      body.push(`<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${y}" stroke="#333" stroke-dasharray="4 3"/>`);
      body.push(`<text x="${x(v) - 4}" y="${label === 'first read OK' ? y + 30 : top - 2}" font-size="11" text-anchor="end">${escapeXml(`${label} ${Math.round(v)} ms`)}</text>`);
    }
    body.push(axis(y, maxMs, x, y - top));
    y += 50;
  }

  const done = o.trials.filter((t) => o.systems.includes(t.system));
  const maxMs = Math.max(1, ...done.flatMap((t) => [t.addressMs ?? 0, t.readMs ?? 0]));
  const x = scale(maxMs);
  body.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">Failover of every trial: ○ crash → address answered, ● crash → first read OK, | median</text>`);
  y += 10;
  const top = y;
  const rowH = 34;
  o.systems.forEach((system, i) => {
    const row = top + i * rowH;
    const t = done.filter((d) => d.system === system);
    const color = COLORS[i % COLORS.length];
    body.push(`<text x="${LEFT - 8}" y="${row + 21}" font-size="12" text-anchor="end">${escapeXml(system)}</text>`);
    for (const [key, filled, dy] of [['addressMs', false, 11], ['readMs', true, 23]] as const) {
      const values = t.map((d) => d[key]).filter((v): v is number => v !== null);
      for (const v of values) {
        body.push(`<circle cx="${x(v)}" cy="${row + dy}" r="4" fill="${filled ? color : 'white'}" stroke="${color}" stroke-width="1.5"><title>${escapeXml(`${system} ${key === 'readMs' ? 'first read' : 'address'}: ${Math.round(v)} ms`)}</title></circle>`);
      }
      if (values.length) body.push(`<line x1="${x(median(values))}" y1="${row + dy - 7}" x2="${x(median(values))}" y2="${row + dy + 7}" stroke="#000" stroke-width="2"/>`);
    }
  });
  y = top + o.systems.length * rowH + 4;
  body.push(axis(y, maxMs, x, y - top));
  y += 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body.join('\n')}
</svg>
`;
}
