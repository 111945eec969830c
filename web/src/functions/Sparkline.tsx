import type { Sparkline as SparklineData } from '@lifeline/protocol';
import './Sparkline.css';

const W = 120;
const H = 28;

/** The series as SVG polyline points, scaled so the largest value touches the top. */
export function sparkPoints(values: readonly number[], max: number): string {
  if (values.length === 0) return '';
  const dx = values.length > 1 ? W / (values.length - 1) : 0;
  return values
    .map(
      (v, i) => `${(i * dx).toFixed(1)},${(H - 1 - (v / Math.max(1, max)) * (H - 2)).toFixed(1)}`,
    )
    .join(' ');
}

/** Invokes (line) and errors (bars) per interval, as a small inline chart with a text equivalent. */
export function Sparkline({ series }: { series: SparklineData }) {
  const max = Math.max(1, ...series.invokes);
  const invokes = series.invokes.reduce((a, b) => a + b, 0);
  const errors = series.errors.reduce((a, b) => a + b, 0);
  const bw = W / Math.max(1, series.errors.length);
  const minutes = series.step / 60_000;
  const label = `${invokes} invokes and ${errors} errors, per ${minutes >= 1 ? `${Math.round(minutes)} min` : `${Math.round(series.step / 1000)} s`}, peak ${max}`;
  return (
    <svg className="sparkline" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <title>{label}</title>
      {series.errors.map((e, i) =>
        e > 0 ? (
          <rect
            // biome-ignore lint/suspicious/noArrayIndexKey: buckets are positional.
            key={i}
            className="spark-error"
            x={i * bw}
            y={H - (e / max) * (H - 2) - 1}
            width={Math.max(1, bw - 0.5)}
            height={(e / max) * (H - 2) + 1}
          />
        ) : null,
      )}
      <polyline className="spark-line" points={sparkPoints(series.invokes, max)} />
    </svg>
  );
}
