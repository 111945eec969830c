import { memo } from 'react';
import { invokeLabel, laneLabel, shortId } from './invoke-labels.ts';
import { invokeEnd } from './lane-model.ts';
import type { GroupRow, LaneRow } from './row-model.ts';
import { lowerBound, type TimeWindow } from './time-scale.ts';

/** Most invoke buttons drawn per lane; beyond that, zoom in (the canvas still draws every bar). */
export const MAX_INVOKE_TARGETS = 300;

const STATE_TEXT = {
  initializing: 'initializing',
  active: 'active',
  idle: 'idle',
  'shutting-down': 'shutting down',
  ended: 'ended',
  lost: 'lost',
} as const;

interface GroupRowViewProps {
  row: GroupRow;
  onToggle: (functionName: string) => void;
}

/** A function header: collapses its lanes. */
export const GroupRowView = memo(function GroupRowView({ row, onToggle }: GroupRowViewProps) {
  return (
    <button
      type="button"
      className="group-toggle"
      aria-expanded={!row.collapsed}
      aria-label={`Function ${row.functionName}: ${row.laneCount} environments, ${row.alive} alive`}
      onClick={() => onToggle(row.functionName)}
    >
      <span className="chev" aria-hidden="true">
        ▾
      </span>
      <span>{row.functionName}</span>
      <span className="group-meta">
        {row.laneCount} env{row.laneCount === 1 ? '' : 's'} · {row.alive} alive ·{' '}
        {row.invokes.toLocaleString('en-US')} invokes
      </span>
    </button>
  );
});

interface LaneRowViewProps {
  row: LaneRow;
  /** The window the invoke targets are positioned in (settles after pan/zoom). */
  window: TimeWindow;
  now: number;
  selectedEnv: string | null;
  selectedReq: string | null;
  onSelect: (envId: string, requestId: string | null) => void;
}

function sameLaneRow(a: LaneRowViewProps, b: LaneRowViewProps): boolean {
  const running = (p: LaneRowViewProps) => p.row.lane.invokes.at(-1)?.status === 'running';
  return (
    a.row.lane === b.row.lane &&
    a.row.state === b.row.state &&
    a.row.reinitOf === b.row.reinitOf &&
    a.row.chainIndex === b.row.chainIndex &&
    a.row.chainLength === b.row.chainLength &&
    a.window === b.window &&
    a.selectedEnv === b.selectedEnv &&
    a.selectedReq === b.selectedReq &&
    a.onSelect === b.onSelect &&
    // The clock only moves the end of a running bar; rows rebuilt every second must not re-render otherwise.
    (a.now === b.now || (!running(a) && !running(b)))
  );
}

/** One environment: label with state badge, and an accessible, focusable target per visible invoke. */
export const LaneRowView = memo(function LaneRowView({
  row,
  window,
  now,
  selectedEnv,
  selectedReq,
  onSelect,
}: LaneRowViewProps) {
  const { lane, state } = row;
  const span = window.end - window.start;
  const bars = lane.invokes;
  let from = lowerBound(bars, window.start, (b) => b.startAt);
  if (from > 0) from--;
  const targets = [];
  for (let i = from; i < bars.length && targets.length < MAX_INVOKE_TARGETS; i++) {
    const bar = bars[i]!;
    if (bar.startAt > window.end) break;
    const end = invokeEnd(bar) ?? now;
    if (end < window.start) continue;
    const left = ((bar.startAt - window.start) / span) * 100;
    const width = ((end - bar.startAt) / span) * 100;
    const label = invokeLabel(bar);
    targets.push(
      <button
        key={bar.requestId}
        type="button"
        className="invoke-hit"
        data-status={bar.status}
        aria-label={label}
        aria-pressed={bar.requestId === selectedReq}
        title={label}
        style={{ left: `${left}%`, width: `${width}%` }}
        onClick={(e) => {
          e.stopPropagation();
          onSelect(lane.envId, bar.requestId);
        }}
      />,
    );
  }
  const chain =
    row.chainLength > 1
      ? row.chainIndex === 0
        ? 'first'
        : row.chainIndex === row.chainLength - 1
          ? 'last'
          : 'middle'
      : null;
  return (
    <>
      <button
        type="button"
        className="lane-label"
        aria-label={laneLabel(lane, state)}
        aria-pressed={selectedEnv === lane.envId && !selectedReq}
        onClick={() => onSelect(lane.envId, null)}
        title={lane.envId}
      >
        {chain && <span className="chain-rail" data-pos={chain} aria-hidden="true" />}
        <span className="env-id">
          {row.reinitOf && (
            <span className="reinit" title={`re-initialised after ${row.reinitOf}`}>
              ↳{' '}
            </span>
          )}
          {shortId(lane.envId)}
          {lane.functionVersion && lane.functionVersion !== '$LATEST'
            ? ` · v${lane.functionVersion}`
            : ''}
        </span>
        <span className="badge" data-state={state}>
          {STATE_TEXT[state]}
        </span>
      </button>
      <div className="lane-chart" data-env={lane.envId}>
        {targets}
      </div>
    </>
  );
}, sameLaneRow);
