import { useMemo } from 'react';
import type { EnvLane } from '../timeline/lane-model.ts';
import { formatDuration } from '../timeline/time-scale.ts';
import { functionOverviews } from './function-summary.ts';

interface FunctionsViewProps {
  lanes: ReadonlyMap<string, EnvLane>;
  now: number;
  functionName: string | null;
  version: string | null;
  onOpen: (functionName: string) => void;
}

/** Per function: environments alive now, cold starts, init p50/p95, invokes per minute, errors and timeouts. */
export function FunctionsView({ lanes, now, functionName, version, onOpen }: FunctionsViewProps) {
  const overviews = useMemo(() => {
    const selected = [...lanes.values()].filter(
      (l) =>
        (!functionName || l.functionName === functionName) &&
        (!version || l.functionVersion === version),
    );
    return functionOverviews(selected, now);
  }, [lanes, now, functionName, version]);
  const total = (pick: (f: (typeof overviews)[number]) => number) =>
    overviews.reduce((n, f) => n + pick(f), 0);
  const cards: [string, string, string][] = [
    [
      'Environments alive now',
      String(total((f) => f.alive)),
      `of ${total((f) => f.environments)} seen`,
    ],
    ['Cold starts', String(total((f) => f.coldStarts)), 're-initialisations included'],
    ['Invokes per minute', total((f) => f.invokesPerMinute).toFixed(1), 'last 5 min of activity'],
    [
      'Running now',
      String(total((f) => f.running)),
      `${total((f) => f.invokes).toLocaleString('en-US')} invokes seen`,
    ],
    ['Errors', String(total((f) => f.errors)), 'error and failure statuses'],
    ['Timeouts', String(total((f) => f.timeouts)), 'invokes that hit their deadline'],
  ];
  return (
    <div className="view">
      <div className="scroll">
        <div className="section-title">
          <h2>Functions</h2>
          <span className="progress">{overviews.length} functions</span>
        </div>
        <div className="cards">
          {cards.map(([label, value, sub]) => (
            <section key={label} className="card" aria-label={label}>
              <div className="label">{label}</div>
              <div className="value">{value}</div>
              <div className="sub">{sub}</div>
            </section>
          ))}
        </div>
        <table className="data" aria-label="Functions">
          <thead>
            <tr>
              <th>Function</th>
              <th>Versions</th>
              <th className="num">Alive now</th>
              <th className="num">Environments</th>
              <th className="num">Cold starts</th>
              <th className="num">Init p50</th>
              <th className="num">Init p95</th>
              <th className="num">Invokes</th>
              <th className="num">Invokes/min</th>
              <th className="num">Errors</th>
              <th className="num">Timeouts</th>
              <th>Shutdowns</th>
            </tr>
          </thead>
          <tbody>
            {overviews.map((f) => (
              <tr key={f.functionName} data-function={f.functionName}>
                <td>
                  <button type="button" className="btn" onClick={() => onOpen(f.functionName)}>
                    {f.functionName}
                  </button>
                </td>
                <td>{f.versions.join(', ') || '—'}</td>
                <td className="num">
                  <b>{f.alive}</b>
                </td>
                <td className="num">{f.environments}</td>
                <td className="num">{f.coldStarts}</td>
                <td className="num">{formatDuration(f.initDurationP50)}</td>
                <td className="num">{formatDuration(f.initDurationP95)}</td>
                <td className="num">{f.invokes.toLocaleString('en-US')}</td>
                <td className="num">{f.invokesPerMinute.toFixed(1)}</td>
                <td className="num" style={f.errors ? { color: 'var(--c-error)' } : undefined}>
                  {f.errors}
                </td>
                <td className="num" style={f.timeouts ? { color: 'var(--c-timeout)' } : undefined}>
                  {f.timeouts}
                </td>
                <td>
                  {Object.entries(f.shutdowns)
                    .filter(([, n]) => n > 0)
                    .map(([reason, n]) => `${reason} ${n}`)
                    .join(' · ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
