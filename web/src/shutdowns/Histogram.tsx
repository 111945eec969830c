import type { ReasonKind } from '../timeline/lane-state.ts';
import { histogram, maxOf } from '../util/stats.ts';
import type { ShutdownRow } from './shutdown-stats.ts';

const KINDS: readonly ReasonKind[] = ['spindown', 'timeout', 'failure', 'other'];
export const REASON_COLOR: Record<ReasonKind, string> = {
  spindown: 'var(--c-spindown)',
  timeout: 'var(--c-r-timeout)',
  failure: 'var(--c-r-failure)',
  other: 'var(--c-r-other)',
};

interface HistogramProps {
  title: string;
  rows: readonly ShutdownRow[];
  value: (row: ShutdownRow) => number | null;
  format: (value: number) => string;
  bins?: number;
  range?: { min: number; max: number };
}

const W = 360;
const H = 150;
const PAD = { left: 30, right: 8, top: 8, bottom: 22 };

/** An SVG histogram of one shutdown figure, stacked by reason. */
export function Histogram({ title, rows, value, format, bins = 12, range }: HistogramProps) {
  const values = rows.map(value).filter((v): v is number => v !== null && Number.isFinite(v));
  const edges = histogram(values, bins, range);
  const stacks = edges.map((bin, i) => {
    const counts: Record<ReasonKind, number> = { spindown: 0, timeout: 0, failure: 0, other: 0 };
    for (const row of rows) {
      const v = value(row);
      if (v === null || !Number.isFinite(v)) continue;
      const idx = Math.min(
        edges.length - 1,
        Math.max(0, Math.floor((v - edges[0]!.from) / (bin.to - bin.from || 1))),
      );
      if (idx === i) counts[row.reasonKind]++;
    }
    return { bin, counts };
  });
  const maxCount = Math.max(1, maxOf(edges.map((b) => b.count)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = edges.length ? plotW / edges.length : plotW;
  const summary = edges.map((b) => `${format(b.from)}–${format(b.to)}: ${b.count}`).join('; ');
  return (
    <figure className="card chart" style={{ margin: 0 }}>
      <h4>{title}</h4>
      {values.length === 0 ? (
        <p className="sub">No data yet.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${summary}`}>
          <line
            x1={PAD.left}
            x2={W - PAD.right}
            y1={PAD.top + plotH}
            y2={PAD.top + plotH}
            stroke="var(--border)"
          />
          <text className="axis-label" x={PAD.left - 4} y={PAD.top + 8} textAnchor="end">
            {maxCount}
          </text>
          <text className="axis-label" x={PAD.left - 4} y={PAD.top + plotH} textAnchor="end">
            0
          </text>
          {stacks.map(({ bin, counts }, i) => {
            let y = PAD.top + plotH;
            const x = PAD.left + i * bw + 1;
            return (
              <g key={bin.from}>
                <title>{`${format(bin.from)} – ${format(bin.to)}: ${bin.count}`}</title>
                {KINDS.map((kind) => {
                  const h = (counts[kind] / maxCount) * plotH;
                  if (h <= 0) return null;
                  y -= h;
                  return (
                    <rect
                      key={kind}
                      x={x}
                      y={y}
                      width={Math.max(1, bw - 2)}
                      height={h}
                      rx={1.5}
                      fill={REASON_COLOR[kind]}
                    />
                  );
                })}
              </g>
            );
          })}
          <text className="axis-label" x={PAD.left} y={H - 6}>
            {format(edges[0]!.from)}
          </text>
          <text className="axis-label" x={W - PAD.right} y={H - 6} textAnchor="end">
            {format(edges.at(-1)!.to)}
          </text>
        </svg>
      )}
    </figure>
  );
}
