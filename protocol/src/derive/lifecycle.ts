import type { InvocationStatus } from '../constants.ts';
import { expiresAt } from './apply-events.ts';
import type { EnvironmentFacts, InvocationFacts } from './facts.ts';
import { lastInvokeIdOf } from './invocation-status.ts';
import { initDurationOf } from './views.ts';

/**
 * Lifecycle rules beyond the classic on-demand environment (docs/lifecycles.md): init kinds, what INIT costs, and
 * when an invoke without an end is no longer shown as running.
 */

export const INIT_KINDS = [
  /** A user-facing cold start: Lambda initialised this environment for a waiting request. */
  'on-demand',
  /** An on-demand init Lambda ran ahead of need: a long gap between init end and the first invoke. */
  'proactive',
  'provisioned-concurrency',
  /** SnapStart: restored from a snapshot (RESTORE phase instead of INIT). */
  'snap-start-restore',
  /** SnapStart: the INIT at publish whose memory becomes the snapshot. */
  'snap-start-snapshot',
  'lambda-managed-instances',
] as const;
export type InitKind = (typeof INIT_KINDS)[number];

/**
 * Gap (platform clock) between the end of an on-demand init and the first invoke's platform.start above which the
 * init was proactive. A user-facing cold start hands its request over within milliseconds of init end; 10 s is
 * far above that and any clock jitter, and is the threshold Datadog's tracer uses, so figures compare.
 */
export const PROACTIVE_INIT_GAP_MS = 10_000;

/** Since this day (UTC) Lambda bills the INIT phase of on-demand functions too. */
export const INIT_BILLED_SINCE = Date.UTC(2025, 7, 1);

/** The init kind of an environment, from its registration and platform records. */
export function initKind(env: EnvironmentFacts): InitKind {
  const type = (env.initializationType ?? '').toLowerCase();
  if (type === 'lambda-managed-instances') return 'lambda-managed-instances';
  if (type === 'provisioned-concurrency') return 'provisioned-concurrency';
  if (env.restoredFrom !== null || env.restoreStartAt !== null || env.restoreReportAt !== null) {
    return 'snap-start-restore';
  }
  if (type === 'snap-start') return 'snap-start-snapshot';
  const initEnd = env.initReportAt ?? env.initRuntimeDoneAt;
  if (
    initEnd !== null &&
    env.firstInvokeStartAt !== null &&
    env.firstInvokeStartAt - initEnd > PROACTIVE_INIT_GAP_MS
  ) {
    return 'proactive';
  }
  return 'on-demand';
}

/** Whether invokes of this environment may run at once (Managed Instances: no INVOKE events, never frozen). */
export function runsConcurrently(env: EnvironmentFacts): boolean {
  if ((env.initializationType ?? '').toLowerCase() === 'lambda-managed-instances') return true;
  return env.registeredEvents !== null && !env.registeredEvents.split(',').includes('INVOKE');
}

/** What INIT cost: the billed init duration and the extension's own part of it (process start → registered). */
export interface InitBilling {
  /** null when this init is not billed as such (before August 2025, provisioned, SnapStart, unknown). */
  billedMs: number | null;
  extensionMs: number | null;
  /** extensionMs as a percentage of billedMs. */
  extensionSharePct: number | null;
}

export function initBilling(env: EnvironmentFacts): InitBilling {
  const kind = initKind(env);
  const durationMs = initDurationOf(env);
  const billed =
    (kind === 'on-demand' || kind === 'proactive') &&
    durationMs !== null &&
    (env.initStartAt ?? env.registeredAt ?? 0) >= INIT_BILLED_SINCE
      ? durationMs
      : null;
  const extensionMs = env.registeredAt === null ? null : env.startToRegisteredMs;
  return {
    billedMs: billed,
    extensionMs,
    extensionSharePct:
      billed !== null && billed > 0 && extensionMs !== null
        ? Math.min(100, (extensionMs / billed) * 100)
        : null,
  };
}

/** An invocation's status as shown: `awaiting-report` when it has no end yet but can no longer be running. */
export type InvocationDisplayStatus = InvocationStatus | 'awaiting-report';

/**
 * The status to show at collector time `now`. An invoke without an end is running only while it can be: not once
 * its environment shut down, not once a later invoke started in an environment that runs one at a time, and not
 * past its own timeout (measured from the commit of its start on the collector clock). Production delivers an
 * invoke's platform records at the next thaw, so a warm environment's last invoke is usually over long before its
 * report arrives.
 */
export function invocationDisplayStatus(
  invocation: InvocationFacts,
  env: EnvironmentFacts,
  now: number,
): InvocationDisplayStatus {
  if (invocation.status !== 'running') return invocation.status as InvocationStatus;
  if (env.shutdownAt !== null || env.exitedAt !== null) return 'awaiting-report';
  if (!runsConcurrently(env) && lastInvokeIdOf(env) !== invocation.requestId)
    return 'awaiting-report';
  const expires = expiresAt(invocation);
  if (expires !== null && now > expires) return 'awaiting-report';
  return 'running';
}

/**
 * Stacks overlapping intervals into sub-lanes (concurrent invokes of one environment): each interval gets the lowest
 * slot free at its start; an interval without an end occupies its slot for good. Returns the slot per input index
 * and the peak concurrency (slots used).
 */
export function concurrencySlots(
  intervals: readonly { readonly start: number; readonly end: number | null }[],
): { slots: number[]; peak: number } {
  const order = intervals
    .map((_, i) => i)
    .sort((a, b) => intervals[a]!.start - intervals[b]!.start);
  const busyUntil: number[] = [];
  const slots = new Array<number>(intervals.length).fill(0);
  for (const index of order) {
    const { start, end } = intervals[index]!;
    let slot = busyUntil.findIndex((until) => until <= start);
    if (slot === -1) slot = busyUntil.length;
    busyUntil[slot] = end ?? Number.POSITIVE_INFINITY;
    slots[index] = slot;
  }
  return { slots, peak: busyUntil.length };
}
