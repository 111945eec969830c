import type { Histogram as HistogramData } from '@lifeline/protocol';
import { useState } from 'react';
import { countTicks } from '../util/nice-ticks.ts';
import './Histogram.css';

/** One bar: values in [from, to) (the last bar closed), `count` of them. */
export interface HistogramBin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** The collector's histogram as bars: `counts[i]` values in [edges[i], edges[i+1]). */
export function binsOf(histogram: HistogramData): HistogramBin[] {
  return histogram.counts.map((count, i) => ({
    from: histogram.edges[i] ?? 0,
    to: histogram.edges[i + 1] ?? histogram.edges[i] ?? 0,
    count,
  }));
}

interface HistogramProps {
  title: string;
  /** Bins as the collector fitted them to the data (see {@link binsOf}). */
  bins: readonly HistogramBin[];
  /** Formats a value of the figure (axis ticks, hover readout). */
  format: (value: number) => string;
  /** Says why a chart has no bars (e.g. "Idle time applies to spindowns only"). */
  emptyText?: string;
}

/** About the card's width at its narrowest, so 11 px text stays about 11 px on screen. */
const W = 280;
const H = 170;
const PAD = { left: 30, right: 10, top: 22, bottom: 26 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;
/** At most this many x labels, so they never overlap at the chart's narrowest (260 px). */
const X_LABELS = 4;

/**
 * An SVG histogram with a count axis (round ticks and grid lines), value ticks at bin edges, and the hovered or
 * focused bar's range and count written above the plot. Each bar is a focusable element with the same text.
 */
export function Histogram({
  title,
  bins,
  format,
  emptyText = 'No data in this range.',
}: HistogramProps) {
  const [active, setActive] = useState<number | null>(null);
  const total = bins.reduce((n, b) => n + b.count, 0);
  if (bins.length === 0 || total === 0) {
    return (
      <figure className="card chart histogram">
        <h4>{title}</h4>
        <p className="sub">{emptyText}</p>
      </figure>
    );
  }
  const yTicks = countTicks(Math.max(...bins.map((b) => b.count)), 4);
  const yMax = yTicks.at(-1)!;
  const bw = PLOT_W / bins.length;
  const y = (count: number) => PAD.top + PLOT_H - (count / yMax) * PLOT_H;
  const every = Math.ceil((bins.length + 1) / X_LABELS);
  const text = (b: HistogramBin) => `${format(b.from)} – ${format(b.to)}: ${b.count}`;
  const shown = active !== null ? bins[active] : undefined;
  return (
    <figure className="card chart histogram">
      <h4>{title}</h4>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}, ${total} values. ${bins.map(text).join('; ')}`}
        onMouseLeave={() => setActive(null)}
      >
        <text className="readout" x={W - PAD.right} y={12} textAnchor="end">
          {shown ? text(shown) : `${total} values`}
        </text>
        {yTicks.map((t) => (
          <g key={`y${t}`}>
            <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="axis-label" x={PAD.left - 5} y={y(t) + 3.5} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {bins.map((b, i) => (
          // biome-ignore lint/a11y/noStaticElementInteractions: hover and focus only show the bar's value.
          <g
            key={`b${b.from}`}
            className="bin"
            data-active={i === active}
            tabIndex={0}
            aria-label={text(b)}
            onMouseEnter={() => setActive(i)}
            onFocus={() => setActive(i)}
            onBlur={() => setActive(null)}
          >
            <title>{text(b)}</title>
            {/* The full-height hit area: thin bars must still be easy to hover. */}
            <rect className="hit" x={PAD.left + i * bw} y={PAD.top} width={bw} height={PLOT_H} />
            {b.count > 0 && (
              <rect
                className="bar"
                x={PAD.left + i * bw + 1}
                y={y(b.count)}
                width={Math.max(1, bw - 2)}
                height={PAD.top + PLOT_H - y(b.count)}
                rx={1.5}
              />
            )}
          </g>
        ))}
        <line
          className="axis"
          x1={PAD.left}
          x2={W - PAD.right}
          y1={PAD.top + PLOT_H}
          y2={PAD.top + PLOT_H}
        />
        {[...bins.map((b) => b.from), bins.at(-1)!.to].map((edge, i) =>
          i % every === 0 || i === bins.length ? (
            <g key={`x${edge}`}>
              <line
                className="axis"
                x1={PAD.left + i * bw}
                x2={PAD.left + i * bw}
                y1={PAD.top + PLOT_H}
                y2={PAD.top + PLOT_H + 4}
              />
              <text
                className="axis-label"
                x={PAD.left + i * bw}
                y={H - 8}
                textAnchor={i === 0 ? 'start' : i === bins.length ? 'end' : 'middle'}
              >
                {format(edge)}
              </text>
            </g>
          ) : null,
        )}
      </svg>
    </figure>
  );
}
