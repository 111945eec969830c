import type { EnvironmentState } from '../constants.ts';
import type { EnvironmentFacts } from './facts.ts';

/**
 * The state of an environment at collector time `now`. Only collector times are compared with `now` (receive
 * times); event-clock values only ever meet other event-clock values. The events repository evaluates the same
 * rules in SQL for the `state` filter; keep both in step.
 */
export function environmentState(
  env: EnvironmentFacts,
  now: number,
  lostAfterMs: number,
): EnvironmentState {
  if (env.exitedAt !== null) return 'ended';
  if (env.shutdownAt !== null) {
    const budget = Math.max(0, (env.shutdownDeadlineMs ?? env.shutdownAt) - env.shutdownAt);
    return (env.shutdownReceivedAt ?? now) + budget < now ? 'ended' : 'shutting-down';
  }
  if (now - env.lastReceivedAt > lostAfterMs) return 'lost';
  // An invoke past its own timeout with no end yet is awaiting its report, not running: the environment is idle.
  if (
    env.lastInvokeStatus === 'running' &&
    (env.lastInvokeExpiresAt === null || now <= env.lastInvokeExpiresAt)
  ) {
    return 'active';
  }
  if (env.invokeCount === 0 && env.initReportAt === null && env.initRuntimeDoneAt === null) {
    return 'initializing';
  }
  return 'idle';
}
