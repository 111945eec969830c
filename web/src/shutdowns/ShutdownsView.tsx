import type { Page, Shutdown, ShutdownFigure, ShutdownStats } from '@lifeline/protocol';
import { useEffect, useMemo, useState } from 'react';
import { getJson, useReadApi } from '../app/read-api.ts';
import { reasonKind } from '../timeline/lane-state.ts';
import { formatDuration } from '../timeline/time-scale.ts';
import { shutdownsToCsv } from './csv-export.ts';
import { binsOf, Histogram } from './Histogram.tsx';
import {
  lifeRange,
  meaningfulIdle,
  type ShutdownSortKey,
  sortShutdowns,
} from './shutdown-table.ts';
import './ShutdownsView.css';

/** Rows per table page (the collector's page limit). */
const PAGE_SIZE = 500;

/** What the view shows: shutdowns in [from, to] (extension clock), filtered. */
export interface ShutdownQuery {
  from: number;
  to: number;
  functionName: string | null;
  version: string | null;
  reason: string | null;
  tenant?: string | null;
}

interface ShutdownsViewProps {
  /** A range that follows live moves in steps (see App), and each step reads the figures again. */
  query: ShutdownQuery;
  onOpen: (envId: string) => void;
  /** Shows the environment's life on the timeline. */
  onShow: (envId: string, from: number, to: number) => void;
}

function pct(v: number | null): string {
  return v === null ? '—' : `${v.toFixed(1)} %`;
}

function params(q: ShutdownQuery) {
  return {
    from: Math.floor(q.from),
    to: Math.ceil(q.to),
    function: q.functionName,
    version: q.version,
    reason: q.reason,
    tenant: q.tenant,
  };
}

/** "How do my environments end?", from the collector's figures for the range (`/v1/stats/shutdowns`). */
export function ShutdownsView({ query, onOpen, onShow }: ShutdownsViewProps) {
  const p = params(query);
  const stats = useReadApi<ShutdownStats>('/v1/stats/shutdowns', p);
  const first = useReadApi<Page<Shutdown>>('/v1/shutdowns', { ...p, limit: PAGE_SIZE });
  const [more, setMore] = useState<{ rows: Shutdown[]; next: string | null } | null>(null);
  const key = JSON.stringify(p);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new query drops the pages loaded for the old one.
  useEffect(() => setMore(null), [key]);
  const rows = useMemo(
    () => [...(first.data?.items ?? []), ...(more?.rows ?? [])],
    [first.data, more],
  );
  const next = more ? more.next : (first.data?.nextCursor ?? null);
  const loadMore = async () => {
    if (!next) return;
    const page = await getJson<Page<Shutdown>>('/v1/shutdowns', {
      ...p,
      limit: PAGE_SIZE,
      cursor: next,
    });
    setMore((m) => ({ rows: [...(m?.rows ?? []), ...page.items], next: page.nextCursor }));
  };
  return (
    <ShutdownsReport
      stats={stats.data}
      error={stats.error ?? first.error}
      rows={rows}
      hasMore={next !== null}
      onLoadMore={loadMore}
      onOpen={onOpen}
      onShow={onShow}
    />
  );
}

interface ShutdownsReportProps {
  /** Null while the first answer is on its way. */
  stats: ShutdownStats | null;
  error: string | null;
  rows: readonly Shutdown[];
  hasMore: boolean;
  onLoadMore: () => void;
  onOpen: (envId: string) => void;
  onShow: (envId: string, from: number, to: number) => void;
}

const CHARTS: readonly [ShutdownFigure, string, (v: number) => string, string?][] = [
  ['budgetUsedPct', 'Shutdown budget used (%)', (v) => `${v.toFixed(v < 10 ? 1 : 0)}%`],
  ['shutdownDurationMs', 'Shutdown phase (SHUTDOWN → exit)', formatDuration],
  [
    'idleMs',
    'Idle before spindown',
    formatDuration,
    'Idle time applies to spindowns only; none in this range.',
  ],
  ['lifetimeMs', 'Environment lifetime', formatDuration],
  ['invokes', 'Invokes per environment', (v) => String(Math.round(v))],
];

/** The report itself: reason cards, the figures' histograms, and the table (rows from `/v1/shutdowns`). */
export function ShutdownsReport({
  stats,
  error,
  rows,
  hasMore,
  onLoadMore,
  onOpen,
  onShow,
}: ShutdownsReportProps) {
  const [sort, setSort] = useState<{ key: ShutdownSortKey; dir: 'asc' | 'desc' }>({
    key: 'receivedAt',
    dir: 'desc',
  });
  const sorted = useMemo(() => sortShutdowns(rows, sort.key, sort.dir), [rows, sort]);

  const exportCsv = () => {
    const blob = new Blob([shutdownsToCsv(sorted)], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `lifeline-shutdowns-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const header = (key: ShutdownSortKey, label: string, num = true) => (
    <th
      className={num ? 'num' : undefined}
      aria-sort={sort.key === key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button
        type="button"
        onClick={() =>
          setSort((s) => ({ key, dir: s.key === key && s.dir === 'desc' ? 'asc' : 'desc' }))
        }
      >
        {label}
        {sort.key === key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  );

  const f = stats?.figures;
  return (
    <div className="view">
      <div className="scroll">
        <div className="section-title">
          <h2>How environments end</h2>
          <span className="progress" aria-live="polite" data-total={stats?.total}>
            {error
              ? `Could not read the figures: ${error}`
              : stats
                ? `${stats.total.toLocaleString('en-US')} shutdowns in this range`
                : 'Loading figures…'}
          </span>
          <span className="spacer" />
          <button type="button" className="btn" onClick={exportCsv} disabled={rows.length === 0}>
            Export CSV
          </button>
        </div>
        {stats && f && (
          <div className="cards">
            <section className="card" aria-label="All shutdowns" data-reason="all">
              <div className="label">All shutdowns</div>
              <div className="value" data-figure="count">
                {stats.total.toLocaleString('en-US')}
              </div>
              <dl className="figures">
                <dt>budget used p50 / p95</dt>
                <dd>
                  <span data-figure="budget-p50">{pct(f.budgetUsedPct.p50)}</span> /{' '}
                  <span data-figure="budget-p95">{pct(f.budgetUsedPct.p95)}</span>
                </dd>
                <dt>phase p50 / max</dt>
                <dd>
                  <span data-figure="shutdown-p50">{formatDuration(f.shutdownDurationMs.p50)}</span>{' '}
                  / {formatDuration(f.shutdownDurationMs.max)}
                </dd>
                <dt>idle before spindown p50</dt>
                <dd data-figure="idle-p50">{formatDuration(f.idleMs.p50)}</dd>
                <dt>lifetime p50</dt>
                <dd data-figure="lifetime-p50">{formatDuration(f.lifetimeMs.p50)}</dd>
                <dt>invokes / env p50</dt>
                <dd data-figure="invokes-p50">{f.invokes.p50 ?? '—'}</dd>
              </dl>
            </section>
            {Object.entries(stats.byReason).map(([reason, count]) => (
              <section
                key={reason}
                className="card reason-card"
                aria-label={`Reason ${reason}`}
                data-reason={reason}
                data-kind={reasonKind(reason)}
              >
                <div className="label">{reason}</div>
                <div className="value" data-figure="count">
                  {count.toLocaleString('en-US')}
                </div>
                <div className="sub">
                  {stats.total > 0
                    ? `${Math.round((count / stats.total) * 100)} % of shutdowns`
                    : ''}
                </div>
              </section>
            ))}
          </div>
        )}
        {stats && f && stats.total > 0 && (
          <div className="charts">
            {CHARTS.map(([figure, title, format, emptyText]) => (
              <Histogram
                key={figure}
                title={title}
                bins={binsOf(f[figure].histogram)}
                format={format}
                emptyText={emptyText}
              />
            ))}
          </div>
        )}
        <div className="table-wrap">
          <table className="data" aria-label="Shutdowns">
            <thead>
              <tr>
                {header('receivedAt', 'Shutdown at', false)}
                <th>Environment</th>
                {header('functionName', 'Function', false)}
                {header('reason', 'Reason', false)}
                {header('shutdownDurationMs', 'Shutdown phase')}
                {header('budgetUsedPct', 'Budget used')}
                {header('idleMs', 'Idle before')}
                {header('lifetimeMs', 'Lifetime')}
                {header('invokes', 'Invokes')}
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => {
                const kind = reasonKind(r.reason);
                return (
                  <tr key={r.envId} data-env={r.envId}>
                    <td>{new Date(r.receivedAt).toISOString().slice(0, 23).replace('T', ' ')}</td>
                    <td>
                      <span className="row-actions">
                        <button
                          type="button"
                          className="btn mono"
                          onClick={() => onOpen(r.envId)}
                          aria-label={`Open environment ${r.envId}`}
                          title={r.envId}
                        >
                          {r.envId.slice(0, 12)}
                        </button>
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            const { from, to } = lifeRange(r);
                            onShow(r.envId, from, to);
                          }}
                          aria-label={`Show environment ${r.envId} on the timeline`}
                          title="Show on timeline"
                        >
                          ⟶
                        </button>
                      </span>
                    </td>
                    <td>
                      {r.functionName}
                      {r.functionVersion && r.functionVersion !== '$LATEST'
                        ? ` · v${r.functionVersion}`
                        : ''}
                    </td>
                    <td>
                      <span className="status-pill reason-pill" data-kind={kind}>
                        {r.reason}
                      </span>
                    </td>
                    <td className="num">
                      {formatDuration(r.shutdownDurationMs)}{' '}
                      <span className="sub">/ {formatDuration(r.budgetMs)}</span>
                    </td>
                    <td className="num">{pct(r.budgetUsedPct)}</td>
                    <td className="num">{formatDuration(meaningfulIdle(r))}</td>
                    <td className="num">{formatDuration(r.lifetimeMs)}</td>
                    <td className="num">{r.invokes}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {hasMore && (
          <p>
            <button type="button" className="btn" onClick={onLoadMore}>
              Load {PAGE_SIZE} more
            </button>
          </p>
        )}
      </div>
    </div>
  );
}
