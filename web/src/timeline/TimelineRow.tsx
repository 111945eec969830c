import { type CSSProperties, memo } from 'react';
import { INIT_KIND_TEXT, invokeLabel, laneLabel, shortId } from './invoke-labels.ts';
import { barStatus, type InvokeBar, invokeEnd } from './lane-model.ts';
import type { GroupRow, LaneRow } from './row-model.ts';
import { SUB_LANE_H, slotOf, subLanesOf } from './sub-lanes.ts';
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

/** Tag in the lane label for every start other than a plain on-demand cold start. */
const KIND_TAG = {
  'on-demand': '',
  proactive: 'proactive',
  'provisioned-concurrency': 'PC',
  'snap-start-restore': 'restore',
  'snap-start-snapshot': 'snapshot',
  'lambda-managed-instances': 'LMI',
} as const;

interface GroupRowViewProps {
  row: GroupRow;
  /** Called with the group's key. */
  onToggle: (key: string) => void;
}

/** A function or tenant header: collapses its lanes. */
export const GroupRowView = memo(function GroupRowView({ row, onToggle }: GroupRowViewProps) {
  return (
    <button
      type="button"
      className="group-toggle"
      aria-expanded={!row.collapsed}
      aria-label={`${row.by === 'tenant' ? 'Tenant' : 'Function'} ${row.label}: ${row.laneCount} environments, ${row.alive} alive`}
      onClick={() => onToggle(row.key)}
    >
      <span className="chev" aria-hidden="true">
        ▾
      </span>
      <span>{row.label}</span>
      <span className="group-meta">
        {row.laneCount} env{row.laneCount === 1 ? '' : 's'} · {row.alive} alive ·{' '}
        {row.invokes.toLocaleString('en-US')} invokes
      </span>
    </button>
  );
});

interface LaneRowViewProps {
  row: LaneRow;
  /** The window the invoke targets are chosen for (settles after pan/zoom). */
  window: TimeWindow;
  /** Epoch ms the targets' `--s` offsets count from; the list sets `--ws` and `--k` against it. */
  origin: number;
  now: number;
  selectedEnv: string | null;
  selectedReq: string | null;
  onSelect: (envId: string, requestId: string | null) => void;
}

/**
 * Indexes [from, to) of the invokes overlapping the window (at most {@link MAX_INVOKE_TARGETS}). Rows re-render only
 * when this range changes: positions come from CSS variables set once on the list (see `.invoke-hit` in app.css).
 */
export function visibleRange(
  bars: readonly InvokeBar[],
  window: TimeWindow,
  now: number,
): [number, number] {
  let from = lowerBound(bars, window.start, (b) => b.startAt);
  if (from > 0 && (invokeEnd(bars[from - 1]!) ?? now) >= window.start) from--;
  let to = from;
  while (to < bars.length && to - from < MAX_INVOKE_TARGETS && bars[to]!.startAt <= window.end)
    to++;
  return [from, to];
}

function sameRange(a: [number, number], b: [number, number]): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

function sameLaneRow(a: LaneRowViewProps, b: LaneRowViewProps): boolean {
  const running = (p: LaneRowViewProps) => p.row.lane.invokes.at(-1)?.status === 'running';
  return (
    a.row.lane === b.row.lane &&
    a.row.state === b.row.state &&
    a.row.reinitOf === b.row.reinitOf &&
    a.row.chainIndex === b.row.chainIndex &&
    a.row.chainLength === b.row.chainLength &&
    a.row.showFunction === b.row.showFunction &&
    a.origin === b.origin &&
    sameRange(
      visibleRange(a.row.lane.invokes, a.window, a.now),
      visibleRange(b.row.lane.invokes, b.window, b.now),
    ) &&
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
  origin,
  now,
  selectedEnv,
  selectedReq,
  onSelect,
}: LaneRowViewProps) {
  const { lane, state } = row;
  const bars = lane.invokes;
  const sub = subLanesOf(lane);
  const [from, to] = visibleRange(bars, window, now);
  const targets = [];
  for (let i = from; i < to; i++) {
    const bar = bars[i]!;
    const end = invokeEnd(bar) ?? (sub ? null : bars[i + 1]?.startAt) ?? now;
    const label = invokeLabel(bar, barStatus(bar, lane, now));
    const position = {
      '--s': bar.startAt - origin,
      '--d': Math.max(0, end - bar.startAt),
      // Concurrent invokes sit in their sub-lane (see .invoke-hit[data-sub] in app.css).
      ...(sub
        ? { '--slot-top': `${6 + slotOf(sub, i) * SUB_LANE_H}px`, '--slot-h': `${SUB_LANE_H}px` }
        : {}),
    } as CSSProperties;
    targets.push(
      <button
        key={bar.requestId}
        type="button"
        className="invoke-hit"
        data-status={bar.status}
        data-sub={sub ? true : undefined}
        aria-label={label}
        aria-pressed={bar.requestId === selectedReq}
        title={label}
        style={position}
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
          {row.showFunction ? ` · ${lane.functionName}` : ''}
          {lane.functionVersion && lane.functionVersion !== '$LATEST'
            ? ` · v${lane.functionVersion}`
            : ''}
        </span>
        {lane.initKind !== 'on-demand' && (
          <span className="kind-tag" title={INIT_KIND_TEXT[lane.initKind]}>
            {KIND_TAG[lane.initKind]}
            {sub && sub.peak > 1 ? ` ×${sub.peak}` : ''}
          </span>
        )}
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
