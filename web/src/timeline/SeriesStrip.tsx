import type { Series, SeriesBucket } from '@lifeline/protocol';
import { type PointerEvent, type ReactNode, useState } from 'react';
import { useReadApi } from '../app/read-api.ts';
import {
  ALIVE_STATES,
  bucketAt,
  type SeriesSummary,
  seriesRange,
  summarizeSeries,
  total,
} from './series-scale.ts';
import { formatClock, type TimeWindow } from './time-scale.ts';
import './SeriesStrip.css';

/** While following live, the strip asks again this often (the buckets at the live edge still fill). */
const LIVE_REFRESH_MS = 5000;
/** Viewbox width of the chart; the SVG stretches it to the lanes' width. */
const VW = 1000;
/** Cold start kinds in a fixed colour order; unknown kinds take the last. */
const COLD_KINDS = [
  'on-demand',
  'provisioned-concurrency',
  'snap-start',
  'managed-instances',
  'proactive',
];

interface SeriesStripProps {
  /** The lanes' settled window: the strip shows the same range, aligned to the same x. */
  window: TimeWindow;
  functionName: string | null;
  tenant?: string | null;
  follow: boolean;
}

function summaryText(s: SeriesSummary): string {
  return `up to ${s.peakAlive} environments alive, ${s.coldStarts} cold starts, ${s.invokes} invokes, ${s.errors} errors, ${s.timeouts} timeouts`;
}

function breakdown(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * The time-series strip above the lanes, for the visible range: environments alive by state (stacked), invokes with
 * their errors and timeouts, and cold starts by init kind, per bucket, as the collector counts them (`/v1/series`).
 * Hovering a bucket writes its figures into the label column.
 */
export function SeriesStrip({ window, functionName, tenant, follow }: SeriesStripProps) {
  const range = seriesRange(window);
  const { data, error } = useReadApi<Series>(
    '/v1/series',
    { from: range.from, to: range.to, function: functionName, tenant },
    follow ? LIVE_REFRESH_MS : undefined,
  );
  const [hover, setHover] = useState<number>(-1);
  const span = Math.max(1, window.end - window.start);
  const x = (t: number) => ((t - window.start) / span) * VW;
  const buckets = data?.buckets ?? [];
  const step = data?.step ?? 0;
  const bw = (step / span) * VW;
  const summary = summarizeSeries(buckets);
  const maxAlive = Math.max(1, summary.peakAlive);
  const maxInvokes = Math.max(1, ...buckets.map((b) => b.invokes));
  const maxCold = Math.max(1, ...buckets.map((b) => total(b.coldStarts)));
  const hovered: SeriesBucket | undefined = hover >= 0 ? buckets[hover] : undefined;

  const onMove = (e: PointerEvent<HTMLElement>) => {
    const chart = e.currentTarget.querySelector('.band-alive');
    if (!chart) return;
    const rect = chart.getBoundingClientRect();
    const t = window.start + ((e.clientX - rect.left) / Math.max(1, rect.width)) * span;
    setHover(bucketAt(buckets, step, t));
  };

  // Buckets after now say nothing yet: they are not drawn (the window runs a little past now while following).
  const nowMs = Date.now();
  const visible = buckets
    .map((b, i) => ({ b, i, x0: x(b.start) }))
    .filter(({ b, x0 }) => x0 + bw >= 0 && x0 <= VW && b.start <= nowMs);
  const w = Math.max(0.5, bw - Math.min(1, bw * 0.15));
  /** One band: an SVG stretched to the lanes' width, bars drawn by `bar` per visible bucket. */
  const band = (name: string, bar: (b: SeriesBucket, x0: number) => ReactNode) => (
    <svg
      className={`series-band band-${name}`}
      viewBox={`0 0 ${VW} 100`}
      preserveAspectRatio="none"
      aria-hidden="true"
    >
      {visible.map(({ b, i, x0 }) => (
        <g key={b.start}>
          {i === hover && (
            <rect className="s-hover" x={x0} y={0} width={Math.max(bw, 1)} height={100} />
          )}
          {bar(b, x0)}
        </g>
      ))}
    </svg>
  );
  /** Stacked bars of a record of counts, bottom up in `order`, scaled to `max`. */
  const stack = (
    counts: Readonly<Record<string, number>>,
    order: readonly string[],
    max: number,
    x0: number,
    cls: (key: string) => string,
  ) => {
    let y = 100;
    return order.map((key) => {
      const h = ((counts[key] ?? 0) / max) * 100;
      y -= h;
      return h > 0 ? (
        <rect key={key} className={cls(key)} x={x0} y={y} width={w} height={h} />
      ) : null;
    });
  };
  const coldKinds = [
    ...new Set([...COLD_KINDS, ...buckets.flatMap((b) => Object.keys(b.coldStarts))]),
  ];

  return (
    <section
      className="series-strip"
      aria-label={`Series for the visible range: ${summaryText(summary)}`}
      data-from={data?.from}
      data-to={data?.to}
      data-peak-alive={summary.peakAlive}
      data-cold-starts={summary.coldStarts}
      data-invokes={summary.invokes}
      data-errors={summary.errors}
      data-timeouts={summary.timeouts}
      onPointerMove={onMove}
      onPointerLeave={() => setHover(-1)}
    >
      <div className="series-label series-when">
        {hovered
          ? `${formatClock(hovered.start, step)} UTC, per ${formatStep(step)}`
          : error
            ? 'Series unavailable'
            : data
              ? `per ${formatStep(step)}`
              : 'Loading…'}
      </div>
      <div className="series-gap" />
      <div className="series-label" data-band="alive">
        Alive{' '}
        {hovered ? `${total(hovered.alive)}${breakdown(hovered.alive)}` : `≤ ${summary.peakAlive}`}
      </div>
      {band('alive', (b, x0) => stack(b.alive, ALIVE_STATES, maxAlive, x0, (k) => `s-${k}`))}
      <div className="series-label" data-band="invokes">
        Invokes{' '}
        {hovered
          ? `${hovered.invokes} · ${hovered.errors} err · ${hovered.timeouts} t/o`
          : `${summary.invokes} · ${summary.errors} err`}
      </div>
      {band('invokes', (b, x0) =>
        stack(
          { bad: b.errors + b.timeouts, ok: Math.max(0, b.invokes - b.errors - b.timeouts) },
          ['bad', 'ok'],
          maxInvokes,
          x0,
          (k) => (k === 'bad' ? 's-errors' : 's-invokes'),
        ),
      )}
      <div className="series-label" data-band="cold">
        Cold{' '}
        {hovered
          ? `${total(hovered.coldStarts)}${breakdown(hovered.coldStarts)}`
          : summary.coldStarts}
      </div>
      {band('cold', (b, x0) =>
        stack(
          b.coldStarts,
          coldKinds,
          maxCold,
          x0,
          (k) => `c-${Math.min(COLD_KINDS.length, coldKinds.indexOf(k))}`,
        ),
      )}
    </section>
  );
}

function formatStep(step: number): string {
  if (step >= 3_600_000) return `${Math.round(step / 3_600_000)} h`;
  if (step >= 60_000) return `${Math.round(step / 60_000)} min`;
  if (step >= 1000) return `${Math.round(step / 1000)} s`;
  return `${Math.round(step)} ms`;
}
