import type { EnvironmentState } from '@lifeline/protocol';
import type { ActivityCell } from './density.ts';
import { INIT_KIND_TEXT, isNearTimeout, shortId } from './invoke-labels.ts';
import { barStatus, type EnvLane, type InvokeBar, invokeEnd } from './lane-model.ts';
import { subLanesOf } from './sub-lanes.ts';
import { formatDuration } from './time-scale.ts';

/** One line of a hover card: label and value. */
export type HoverLine = readonly [string, string];

/** What a hover card shows: a title and a few lines. */
export interface HoverFacts {
  readonly title: string;
  readonly lines: readonly HoverLine[];
}

function clock(t: number): string {
  return `${new Date(t).toISOString().slice(11, 23)} UTC`;
}

/** How the environment started, by the shared init-kind rule (a SnapStart environment restores, not inits). */
export function startKind(lane: EnvLane): string {
  return INIT_KIND_TEXT[lane.initKind];
}

/** The facts a pointer over an invoke bar asks for: status, duration, headroom to the deadline, how it started. */
export function invokeHoverFacts(lane: EnvLane, bar: InvokeBar, now: number): HoverFacts {
  const end = invokeEnd(bar);
  const budget = bar.deadlineMs !== null ? bar.deadlineMs - bar.startAt : null;
  const lines: HoverLine[] = [];
  const status = barStatus(bar, lane, now);
  lines.push([
    'Status',
    status === 'awaiting-report'
      ? 'awaiting report (its end has not arrived)'
      : `${status}${bar.errorType ? ` (${bar.errorType})` : ''}${isNearTimeout(bar) ? ', near timeout' : ''}`,
  ]);
  if (bar.responseLatencyMs !== null && bar.responseDurationMs !== null) {
    lines.push([
      'Streamed',
      `first byte after ${formatDuration(bar.responseLatencyMs)}, then ${formatDuration(bar.responseDurationMs)}`,
    ]);
  }
  lines.push([
    'Duration',
    bar.durationMs !== null
      ? formatDuration(bar.durationMs)
      : end !== null
        ? formatDuration(end - bar.startAt)
        : status === 'running'
          ? 'not over yet'
          : 'unknown until its report arrives',
  ]);
  if (bar.headroomMs !== null && budget !== null && budget > 0) {
    lines.push([
      'Headroom',
      `${formatDuration(bar.headroomMs)} of ${formatDuration(budget)} (${Math.round((bar.headroomMs / budget) * 100)} % left)`,
    ]);
  } else if (budget !== null) {
    lines.push(['Timeout', formatDuration(budget)]);
  }
  lines.push(['Started', clock(bar.startAt)]);
  if (bar.initDurationMs !== null) {
    lines.push(['Cold start', `${startKind(lane)}, ${formatDuration(bar.initDurationMs)}`]);
  }
  if (bar.reportPending && bar.status !== 'running') lines.push(['Report', 'not arrived yet']);
  return { title: `Invoke ${shortId(bar.requestId)}`, lines };
}

/** The facts a pointer over a lane (outside its bars) asks for: state, how it started, what it did, how it ended. */
export function laneHoverFacts(lane: EnvLane, state: EnvironmentState, now: number): HoverFacts {
  const init = lane.inits.find((i) => i.phase === 'restore') ?? lane.inits[0];
  const start = lane.registeredAt ?? lane.firstActivityAt;
  const end = lane.exitedAt ?? lane.shutdown?.receivedAt ?? null;
  const lines: HoverLine[] = [
    [
      'State',
      state === 'idle' || state === 'lost'
        ? `${state}, silent since ${clock(lane.lastActivityAt)}`
        : state,
    ],
    [
      'Function',
      `${lane.functionName}${lane.functionVersion && lane.functionVersion !== '$LATEST' ? ` v${lane.functionVersion}` : ''}`,
    ],
    [
      'Started by',
      `${startKind(lane)}${init?.durationMs != null ? `, ${formatDuration(init.durationMs)}` : ''}`,
    ],
    ['Invokes', `${lane.invokeCount} · ${lane.errorCount} errors · ${lane.timeoutCount} timeouts`],
    ['Lifetime', `${formatDuration((end ?? now) - start)}${end === null ? ' so far' : ''}`],
  ];
  const sub = subLanesOf(lane);
  if (sub) lines.push(['Concurrency', `up to ${sub.peak} invokes at once`]);
  if (lane.tenantId) lines.push(['Tenant', lane.tenantId]);
  if (lane.shutdown) lines.push(['Shutdown', lane.shutdown.reason]);
  return { title: `Environment ${shortId(lane.envId)}`, lines };
}

/** Date and time to the minute, or to the second for cells shorter than a minute. */
function dateTime(t: number, seconds: boolean): string {
  return new Date(t)
    .toISOString()
    .slice(0, seconds ? 19 : 16)
    .replace('T', ' ');
}

/**
 * The facts a pointer over a dense lane's cell asks for: the time span it covers and what it holds (invokes that
 * started in it, of which errors and timeouts, and their summed known durations).
 */
export function cellHoverFacts(lane: EnvLane, cell: ActivityCell, step: number): HoverFacts {
  const start = cell.bucket * step;
  const end = start + step;
  const seconds = step < 60_000;
  const sameDay =
    new Date(start).toISOString().slice(0, 10) === new Date(end).toISOString().slice(0, 10);
  const endText = dateTime(end, seconds);
  return {
    title: `${cell.invokes} invoke${cell.invokes === 1 ? '' : 's'} in ${formatDuration(step)}`,
    lines: [
      ['Span', `${dateTime(start, seconds)} – ${sameDay ? endText.slice(11) : endText} UTC`],
      ['Invokes', String(cell.invokes)],
      ['Errors', String(cell.errors)],
      ['Timeouts', String(cell.timeouts)],
      ['Busy', `${formatDuration(cell.busyMs)} of ${formatDuration(step)}`],
      ['Environment', `${shortId(lane.envId)} · ${lane.functionName}`],
    ],
  };
}
