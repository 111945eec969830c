import type { EnvironmentState, InitKind, InvocationDisplayStatus } from '@lifeline/protocol';
import type { EnvLane, InvokeBar } from './lane-model.ts';
import { invokeEnd, laneInvokeCount } from './lane-model.ts';
import { formatDuration } from './time-scale.ts';

/** A near-timeout: it finished with less than this share of its time budget left. */
export const NEAR_TIMEOUT_RATIO = 0.1;

/** Whether the invoke finished (not as a timeout) with under 10 % of its budget left. */
export function isNearTimeout(bar: InvokeBar): boolean {
  if (bar.headroomMs === null || bar.deadlineMs === null || bar.status === 'timeout') return false;
  const budget = bar.deadlineMs - bar.startAt;
  return budget > 0 && bar.headroomMs < budget * NEAR_TIMEOUT_RATIO;
}

/** Short id for labels: the first 8 characters and an ellipsis. */
export function shortId(id: string): string {
  return id.length > 9 ? `${id.slice(0, 8)}…` : id;
}

/**
 * Accessible name of an invoke, e.g. "Invoke 8484521e… 120 ms success"; `status` is the shown one (the shared rule's
 * `awaiting-report` for an invoke that can no longer be running but has no end yet).
 */
export function invokeLabel(bar: InvokeBar, status: InvocationDisplayStatus = bar.status): string {
  const end = invokeEnd(bar);
  const duration = bar.durationMs ?? (end !== null ? end - bar.startAt : null);
  const parts = [`Invoke ${shortId(bar.requestId)}`];
  if (status === 'running') parts.push('running');
  else if (status === 'awaiting-report') parts.push('awaiting report');
  else {
    parts.push(formatDuration(duration));
    parts.push(bar.status);
    if (isNearTimeout(bar)) parts.push('near timeout');
  }
  return parts.join(' ');
}

/** Short words for the init kinds (lane tags, hover cards, details). */
export const INIT_KIND_TEXT: Record<InitKind, string> = {
  'on-demand': 'on-demand init',
  proactive: 'proactive init',
  'provisioned-concurrency': 'provisioned concurrency',
  'snap-start-restore': 'SnapStart restore',
  'snap-start-snapshot': 'SnapStart snapshot init',
  'lambda-managed-instances': 'Managed Instances',
};

/** Accessible name of an environment lane. */
export function laneLabel(lane: EnvLane, state: EnvironmentState): string {
  const n = laneInvokeCount(lane);
  const reason = lane.shutdown ? `, shutdown ${lane.shutdown.reason}` : '';
  return `Environment ${shortId(lane.envId)} ${lane.functionName} ${state}, ${n} invoke${n === 1 ? '' : 's'}${reason}`;
}
