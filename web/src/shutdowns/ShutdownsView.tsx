import { useMemo, useState } from 'react';
import type { EnvLane } from '../timeline/lane-model.ts';
import { formatDuration } from '../timeline/time-scale.ts';
import { histogram } from '../util/stats.ts';
import { shutdownsToCsv } from './csv-export.ts';
import { Histogram } from './Histogram.tsx';
import { REASON_COLOR } from './reason-colors.ts';
import {
  type ShutdownFilter,
  type ShutdownRow,
  type ShutdownSortKey,
  shutdownRows,
  sortShutdownRows,
  summarizeShutdowns,
} from './shutdown-stats.ts';

const TABLE_LIMIT = 2000;

function binsOf(rows: readonly ShutdownRow[], value: (row: ShutdownRow) => number | null) {
  const values = rows.map(value).filter((v): v is number => v !== null && Number.isFinite(v));
  return histogram(values, 12);
}

function pct(v: number | null): string {
  return v === null ? '—' : `${v.toFixed(1)} %`;
}

interface ShutdownsViewProps {
  lanes: ReadonlyMap<string, EnvLane>;
  filter: ShutdownFilter;
  onSelect: (envId: string) => void;
}

/** "How do my environments end?": by reason, shutdown budget used, idle time, lifetime, invokes per environment. */
export function ShutdownsView({ lanes, filter, onSelect }: ShutdownsViewProps) {
  const rows = useMemo(() => shutdownRows(lanes.values(), filter), [lanes, filter]);
  // Idle time is the question for spindowns only: a timeout or failure ends an environment mid-work.
  const spindowns = useMemo(() => rows.filter((r) => r.reasonKind === 'spindown'), [rows]);
  const summary = useMemo(() => summarizeShutdowns(rows), [rows]);
  const [sort, setSort] = useState<{ key: ShutdownSortKey; dir: 'asc' | 'desc' }>({
    key: 'receivedAt',
    dir: 'desc',
  });
  const sorted = useMemo(() => sortShutdownRows(rows, sort.key, sort.dir), [rows, sort]);

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

  const all = summary[0]!;
  return (
    <div className="view">
      <div className="scroll">
        <div className="section-title">
          <h2>How environments end</h2>
          <span className="progress">{rows.length} shutdowns</span>
          <span className="spacer" />
          <button type="button" className="btn" onClick={exportCsv} disabled={rows.length === 0}>
            Export CSV
          </button>
        </div>
        <div className="cards">
          {summary.map((s) => (
            <section
              key={s.reason}
              className="card"
              aria-label={`Reason ${s.reason}`}
              data-reason={s.reason}
              style={
                s.reason !== 'all'
                  ? { borderTop: `3px solid ${REASON_COLOR[s.reason]}` }
                  : undefined
              }
            >
              <div className="label">{s.reason === 'all' ? 'All shutdowns' : s.reason}</div>
              <div className="value" data-figure="count">
                {s.count}
              </div>
              <dl className="figures">
                <dt>budget p50 / p95</dt>
                <dd>
                  <span data-figure="budget-p50">{pct(s.budgetUsedPct.p50)}</span> /{' '}
                  <span data-figure="budget-p95">{pct(s.budgetUsedPct.p95)}</span>
                </dd>
                <dt>phase p50 / max</dt>
                <dd>
                  <span data-figure="shutdown-p50">{formatDuration(s.shutdownMs.p50)}</span> /{' '}
                  {formatDuration(s.shutdownMs.max)}
                </dd>
                <dt>idle before p50</dt>
                <dd data-figure="idle-p50">{formatDuration(s.idleMs.p50)}</dd>
                <dt>lifetime p50</dt>
                <dd data-figure="lifetime-p50">{formatDuration(s.lifetimeMs.p50)}</dd>
                <dt>invokes / env</dt>
                <dd data-figure="invokes-mean">{s.meanInvokes.toFixed(1)}</dd>
              </dl>
            </section>
          ))}
        </div>
        {all.count > 0 && (
          <div className="legend" style={{ marginBottom: 8 }}>
            {(['spindown', 'timeout', 'failure', 'other'] as const).map((kind) => (
              <span key={kind} className="legend-item">
                <span
                  className="swatch"
                  style={{ background: REASON_COLOR[kind] }}
                  aria-hidden="true"
                />
                {kind}
              </span>
            ))}
          </div>
        )}
        {all.count > 0 && (
          <div className="charts">
            <Histogram
              title="Shutdown budget used (%)"
              bins={binsOf(rows, (r) => r.budgetUsedPct)}
              format={(v) => `${v.toFixed(v < 10 ? 1 : 0)}%`}
            />
            <Histogram
              title="Shutdown phase (→ exit)"
              bins={binsOf(rows, (r) => r.shutdownMs)}
              format={formatDuration}
            />
            <Histogram
              title="Idle before spindown"
              bins={binsOf(spindowns, (r) => r.idleMs)}
              format={formatDuration}
              emptyText="Idle time applies to spindowns only; none in this range."
            />
            <Histogram
              title="Environment lifetime"
              bins={binsOf(rows, (r) => r.lifetimeMs)}
              format={formatDuration}
            />
            <Histogram
              title="Invokes per environment"
              bins={binsOf(rows, (r) => r.invokes)}
              format={(v) => String(Math.round(v))}
            />
          </div>
        )}
        <table className="data" aria-label="Shutdowns">
          <thead>
            <tr>
              {header('receivedAt', 'Shutdown at', false)}
              <th>Environment</th>
              {header('functionName', 'Function', false)}
              {header('reason', 'Reason', false)}
              {header('shutdownMs', 'Shutdown phase')}
              {header('budgetUsedPct', 'Budget used')}
              {header('idleMs', 'Idle before')}
              {header('lifetimeMs', 'Lifetime')}
              {header('invokes', 'Invokes')}
            </tr>
          </thead>
          <tbody>
            {sorted.slice(0, TABLE_LIMIT).map((r) => (
              <tr key={r.envId} data-env={r.envId}>
                <td>{new Date(r.receivedAt).toISOString().slice(11, 23)}</td>
                <td>
                  <button
                    type="button"
                    className="btn mono"
                    onClick={() => onSelect(r.envId)}
                    aria-label={`Open environment ${r.envId}`}
                  >
                    {r.envId.slice(0, 12)}
                  </button>
                </td>
                <td>
                  {r.functionName}
                  {r.functionVersion && r.functionVersion !== '$LATEST'
                    ? ` · v${r.functionVersion}`
                    : ''}
                </td>
                <td>
                  <span
                    className="status-pill"
                    style={{
                      color: REASON_COLOR[r.reasonKind],
                      background: `color-mix(in srgb, ${REASON_COLOR[r.reasonKind]} 14%, transparent)`,
                    }}
                  >
                    {r.reason}
                  </span>
                </td>
                <td className="num">
                  {formatDuration(r.shutdownMs)}{' '}
                  <span className="sub">/ {formatDuration(r.budgetMs)}</span>
                </td>
                <td className="num">
                  {pct(r.budgetUsedPct)}
                  <span className="bar-track" aria-hidden="true">
                    <span
                      className="bar-fill"
                      style={{
                        width: `${Math.min(100, r.budgetUsedPct ?? 0)}%`,
                        background:
                          (r.budgetUsedPct ?? 0) > 80
                            ? 'var(--c-timeout)'
                            : (r.budgetUsedPct ?? 0) > 50
                              ? 'var(--c-near)'
                              : 'var(--c-success)',
                      }}
                    />
                  </span>
                </td>
                <td className="num">{formatDuration(r.idleMs)}</td>
                <td className="num">{formatDuration(r.lifetimeMs)}</td>
                <td className="num">{r.invokes}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {sorted.length > TABLE_LIMIT && (
          <p className="progress">
            Showing {TABLE_LIMIT} of {sorted.length}; export CSV for all.
          </p>
        )}
      </div>
    </div>
  );
}
