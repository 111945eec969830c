import { monoNow } from './clock.ts';
import { type Generation, round } from './generation.ts';
import { sendRaw } from './http-json.ts';
import { phaseOutcome } from './phase-outcome.ts';
import {
  restoreReportRecord,
  restoreRuntimeDoneRecord,
  restoreStartRecord,
} from './platform-records.ts';
import type { SandboxContext } from './sandbox-context.ts';
import type { RestoreResult } from './types.ts';

/**
 * Restores a snapshotted SnapStart environment (README "Modes"): its processes resume where the snapshot stopped them
 * (the extensions still parked in the `/event/next` of their Init, and given no event now), the runtime's
 * `/runtime/restore/next` is answered, and the restore ends when the runtime asks for its first invocation, by
 * `deadlineMs`. Publishes restoreStart, restoreRuntimeDone and restoreReport; whether the sandbox then idles or
 * resets is the caller's decision.
 */
export async function runRestorePhase(
  ctx: SandboxContext,
  generation: Generation,
  deadlineMs: number,
): Promise<RestoreResult> {
  const { options, supervisor } = ctx;
  const startedMono = monoNow();
  ctx.state = 'restoring';
  ctx.log({ kind: 'restore.start', deadlineMs });
  generation.dispatcher.publish('platform.restoreStart', restoreStartRecord(options));
  supervisor.thaw(generation);
  const parked = generation.runtimeRestoreParked;
  generation.runtimeRestoreParked = undefined;
  if (!parked || !sendRaw(parked, 200, '', {})) {
    generation.failure ??= {
      errorType: 'Runtime.ExitError',
      errorMessage: 'runtime is not waiting for its restore',
    };
  }
  const inTime = await ctx.waitFor(
    () => generation.failure !== undefined || generation.runtimeParked.length > 0,
    deadlineMs,
  );
  const endedAt = Date.now();
  const durationMs = round(monoNow() - startedMono);
  const { status, errorType, errorMessage } = phaseOutcome(
    generation,
    inTime,
    ctx.closed,
    'Restore',
  );
  generation.dispatcher.publish(
    'platform.restoreRuntimeDone',
    restoreRuntimeDoneRecord(status, errorType),
    endedAt,
  );
  generation.dispatcher.publish(
    'platform.restoreReport',
    restoreReportRecord(status, errorType, durationMs),
    endedAt,
  );
  ctx.log({ kind: 'restore.end', status, errorType, errorMessage, durationMs });
  return { status, durationMs, errorType, errorMessage };
}
