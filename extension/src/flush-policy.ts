/**
 * Every timing rule of delivery, as pure functions of the pipeline's state and the clock: when to send, how long to
 * back off, when a delivery in flight is stale, and when the buffer is worth writing to the spool. `Delivery` keeps
 * the state and asks; nothing here reads a clock or a timer.
 */

/** What the delivery pipeline looks like at one moment. */
export interface FlushState {
  /** Events waiting to be sent (not in flight). */
  sendable: number;
  /** A batch is on its way. */
  inFlight: boolean;
  /** Consecutive failed attempts. */
  failures: number;
  /** When the last attempt failed (epoch ms). */
  lastFailureAt: number;
}

/** Why a flush is being considered. */
export type FlushTrigger = 'invoke' | 'record' | 'retry' | 'shutdown';

/** The policy's answer. */
export type FlushDecision = 'now' | 'later';

const BASE_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
const SHUTDOWN_MAX_BACKOFF_MS = 50;
/** A pause between events this long makes a delivery still in flight from before it suspect. */
export const STALE_AFTER_PAUSE_MS = 1_000;

/**
 * Backoff after `failures` consecutive failures: 100 ms doubling up to 5 s (50 ms at shutdown, where time is short).
 */
export function backoffMs(failures: number, trigger: FlushTrigger): number {
  if (failures <= 0) return 0;
  const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(failures - 1, 16));
  return trigger === 'shutdown' ? Math.min(backoff, SHUTDOWN_MAX_BACKOFF_MS) : backoff;
}

/**
 * Decides whether to send a batch now. One batch at a time keeps delivery in order. An INVOKE always tries at once,
 * even while backing off: the environment may have been frozen for hours and the invoke should go out live.
 */
export function decide(state: FlushState, trigger: FlushTrigger, now: number): FlushDecision {
  if (state.inFlight || state.sendable === 0) return 'later';
  if (trigger === 'invoke' || state.failures === 0) return 'now';
  return now >= state.lastFailureAt + backoffMs(state.failures, trigger) ? 'now' : 'later';
}

/** How long until a retry after `decide` said `later` while failing (at least 1 ms). */
export function retryInMs(state: FlushState, trigger: FlushTrigger, now: number): number {
  return Math.max(1, state.lastFailureAt + backoffMs(state.failures, trigger) - now);
}

/**
 * Whether a delivery still in flight from before a pause should be abandoned at the next event: after a pause of
 * `STALE_AFTER_PAUSE_MS` or more (a freeze), its connection most likely died meanwhile and would hang until the
 * request timeout; after a short pause it is more likely a slow collector, and it is left alone.
 */
export function isStale(flightFromBeforePause: boolean, pausedAt: number, now: number): boolean {
  return flightFromBeforePause && now - pausedAt >= STALE_AFTER_PAUSE_MS;
}

/** What the background spool write is decided on. */
export interface SpoolState {
  /** Events waiting for acknowledgement. */
  pending: number;
  /** `time` of the oldest of them. */
  oldestTime: number | undefined;
  /** Consecutive failed attempts. */
  failures: number;
  /** When the pause before the latest one began (epoch ms): older events survived a pause unacknowledged. */
  previousPauseAt: number;
}

/**
 * Whether the buffer is worth a background spool write: when it emptied (the old file must go), when the collector
 * is failing, or when some event already survived one pause unacknowledged. Healthy deliveries are acknowledged
 * within milliseconds, and a busy disk must not cost the function anything.
 */
export function shouldSpool(state: SpoolState): boolean {
  return (
    state.pending === 0 ||
    state.failures > 0 ||
    (state.oldestTime !== undefined && state.oldestTime <= state.previousPauseAt)
  );
}

/**
 * How long records (telemetry) wait before a batch of their own, for an INVOKE to carry them. Delivery is one batch
 * at a time, so an INVOKE arriving while a records-only batch is in flight waits for two round trips instead of one;
 * invoked back to back, an environment would pay that on a fifth of its invokes. Records come batched by the
 * Telemetry API every 25 ms at the soonest: 25 ms more at most doubles that, and nothing waits for them.
 */
export const RECORDS_LINGER_MS = 25;

/** Managed Instances are never frozen: the spool is written on this schedule instead of at `/event/next`. */
export const UNFROZEN_CHECKPOINT_MS = 1_000;

/**
 * `auto` waits for an invoke's end when the invoke before it came at least this long earlier (or there was none):
 * below one invoke a second the next thaw is at most a second away and brings the end anyway, so the wait would be
 * billed for nothing; above it the end would otherwise sit in a frozen environment for as long as the function is
 * idle — minutes, often.
 */
export const LIVE_END_AUTO_MIN_INTERVAL_MS = 1_000;
/** The live invoke end never holds the function closer than this to its deadline. */
export const LIVE_END_DEADLINE_GUARD_MS = 100;

/**
 * Whether to wait for this invoke's `platform.runtimeDone` (and its delivery) before `/event/next`.
 * `sinceLastInvokeMs` is the time since the previous INVOKE of this process, undefined for the first. Never while
 * delivery is failing: an end that cannot reach the collector now would be waited for, and billed, for nothing.
 */
export function waitForInvokeEnd(
  mode: 'auto' | 'on' | 'off',
  sinceLastInvokeMs: number | undefined,
  failing: boolean,
): boolean {
  if (failing) return false;
  if (mode !== 'auto') return mode === 'on';
  return sinceLastInvokeMs === undefined || sinceLastInvokeMs >= LIVE_END_AUTO_MIN_INTERVAL_MS;
}

/**
 * The longest the live invoke end waits for `platform.runtimeDone` after the INVOKE. A working telemetry pipe brings
 * it within the buffering timeout of the runtime's end; a function running longer than this simply gets its end at
 * the next thaw, and a broken pipe costs at most this much once (a miss turns the live end off until the missed
 * record turns up).
 */
export const LIVE_END_MAX_WAIT_MS = 10_000;

/** How long the live invoke end may wait for `platform.runtimeDone`: the cap, and never near the deadline. */
export function invokeEndWaitMs(invokedAt: number, deadlineMs: number, now: number): number {
  const until = Math.min(invokedAt + LIVE_END_MAX_WAIT_MS, deadlineMs - LIVE_END_DEADLINE_GUARD_MS);
  return Math.max(0, until - now);
}
