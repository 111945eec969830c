import type { FunctionStats, FunctionStatsItem } from '@lifeline/protocol';
import { useReadApi } from '../app/read-api.ts';
import { formatDuration } from '../timeline/time-scale.ts';
import { Sparkline } from './Sparkline.tsx';
import './FunctionsView.css';

interface FunctionsViewProps {
  from: number;
  to: number;
  /** How the range reads in a sentence, e.g. "the last 15 min". */
  rangeText: string;
  functionName: string | null;
  tenant?: string | null;
  /** Shows the function's environments on the timeline. */
  onOpen: (functionName: string) => void;
}

/** Per function, over the chosen range, from the collector's figures (`/v1/stats/functions`). */
export function FunctionsView({
  from,
  to,
  rangeText,
  functionName,
  tenant,
  onOpen,
}: FunctionsViewProps) {
  const { data, error } = useReadApi<FunctionStats>('/v1/stats/functions', {
    from: Math.floor(from),
    to: Math.ceil(to),
    tenant,
  });
  return (
    <FunctionsReport
      stats={data}
      error={error}
      rangeText={rangeText}
      functionName={functionName}
      onOpen={onOpen}
    />
  );
}

function sum(list: readonly FunctionStatsItem[], pick: (f: FunctionStatsItem) => number): number {
  return list.reduce((n, f) => n + pick(f), 0);
}

function coldTotal(f: FunctionStatsItem): number {
  return Object.values(f.coldStarts).reduce((a, b) => a + b, 0);
}

function breakdown(counts: Readonly<Record<string, number>>): string {
  return (
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(' · ') || '—'
  );
}

interface FunctionsReportProps {
  stats: FunctionStats | null;
  error: string | null;
  rangeText: string;
  functionName: string | null;
  onOpen: (functionName: string) => void;
}

/** The cards and the per-function table, every figure stated over the range it covers. */
export function FunctionsReport({
  stats,
  error,
  rangeText,
  functionName,
  onOpen,
}: FunctionsReportProps) {
  const list = (stats?.functions ?? []).filter(
    (f) => !functionName || f.functionName === functionName,
  );
  const minutes = stats ? Math.max(1e-9, (stats.to - stats.from) / 60_000) : 1;
  const coldByKind: Record<string, number> = {};
  for (const f of list)
    for (const [k, n] of Object.entries(f.coldStarts)) coldByKind[k] = (coldByKind[k] ?? 0) + n;
  const cards: [string, string, string][] = [
    [
      'Environments alive now',
      String(sum(list, (f) => f.alive)),
      `of ${sum(list, (f) => f.environments)} active in ${rangeText}`,
    ],
    ['Cold starts', String(sum(list, coldTotal)), breakdown(coldByKind)],
    [
      'Invokes per minute',
      (sum(list, (f) => f.invokes) / minutes).toFixed(1),
      `average over ${rangeText}`,
    ],
    ['Invokes', sum(list, (f) => f.invokes).toLocaleString('en-US'), `started in ${rangeText}`],
    ['Errors', String(sum(list, (f) => f.errors)), 'error and failure statuses'],
    ['Timeouts', String(sum(list, (f) => f.timeouts)), 'invokes that hit their deadline'],
  ];
  return (
    <div className="view">
      <div className="scroll">
        <div className="section-title">
          <h2>Functions</h2>
          <span className="progress" aria-live="polite">
            {error
              ? `Could not read the figures: ${error}`
              : stats
                ? `${list.length} functions active in ${rangeText}`
                : 'Loading figures…'}
          </span>
        </div>
        <div className="cards">
          {cards.map(([label, value, sub]) => (
            <section key={label} className="card" aria-label={label}>
              <div className="label">{label}</div>
              <div className="value">{stats ? value : '…'}</div>
              <div className="sub">{sub}</div>
            </section>
          ))}
        </div>
        <table className="data functions-table" aria-label="Functions">
          <thead>
            <tr>
              <th>Function</th>
              <th>Invokes and errors</th>
              <th className="num">Alive now</th>
              <th className="num">Envs</th>
              <th className="num">Cold starts</th>
              <th className="num">Init p50 / p95</th>
              <th className="num">Invokes</th>
              <th className="num">Per min</th>
              <th className="num">Errors</th>
              <th className="num">Timeouts</th>
              <th className="wide">Shutdowns</th>
            </tr>
          </thead>
          <tbody>
            {list.map((f) => (
              <tr key={f.functionName} data-function={f.functionName}>
                <td>
                  <button
                    type="button"
                    className="btn"
                    onClick={() => onOpen(f.functionName)}
                    aria-label={`Show ${f.functionName} on the timeline`}
                  >
                    {f.functionName}
                  </button>
                  <div className="sub">
                    {f.versions.map((v) => (v === '$LATEST' ? v : `v${v}`)).join(', ')}
                  </div>
                </td>
                <td>
                  <Sparkline series={f.series} />
                </td>
                <td className="num">
                  <b>{f.alive}</b>
                </td>
                <td className="num">{f.environments}</td>
                <td className="num" title={breakdown(f.coldStarts)}>
                  {coldTotal(f)}
                </td>
                <td className="num">
                  {formatDuration(f.initDurationP50)} / {formatDuration(f.initDurationP95)}
                </td>
                <td className="num">{f.invokes.toLocaleString('en-US')}</td>
                <td className="num">{f.invokesPerMinute.toFixed(1)}</td>
                <td className="num" data-nonzero={f.errors > 0} data-kind="error">
                  {f.errors}
                </td>
                <td className="num" data-nonzero={f.timeouts > 0} data-kind="timeout">
                  {f.timeouts}
                </td>
                <td className="wide">{breakdown(f.shutdowns)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
