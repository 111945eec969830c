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
