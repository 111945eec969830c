import type { EnvironmentFacts, EnvironmentModel, InvocationFacts } from '@lifeline/protocol';

/**
 * Invoke rollups: per minute of the invocations' start, per function and tenant, how many invocations started
 * and how many of them are errors and timeouts, kept in the `invoke_rollups` table inside every ingest
 * transaction. The Functions view of a week reads a few thousand rollup rows instead of every invocation.
 *
 * A rollup row holds exactly what the raw scan of the read model counts (`invokeBuckets`): invocations with a
 * start, joined to their environment's function and tenant; errors are the statuses `error` and `failure`,
 * timeouts the status `timeout`. Invocations of an environment without a function name count in no row (the
 * Functions view skips them). An environment's tenant or function may become known after some of its
 * invocations were counted (a telemetry record carries the tenant; a late register the function): its stored
 * invocations then move from the old row key to the new one ({@link RollupChange.move}).
 */

export const ROLLUP_MINUTE_MS = 60_000;

/** The statuses counted as errors, and as timeouts (the same lists the raw scan's SQL uses). */
export const ERROR_STATUSES = ['error', 'failure'] as const;
export const TIMEOUT_STATUS = 'timeout';

/** The rollup row key of an environment's invocations; tenantId '' means none (a tenant id is never empty). */
export interface RollupKey {
  functionName: string;
  tenantId: string;
}

/** What one minute of one key gains (or loses, negative). */
export interface RollupDelta extends RollupKey {
  minute: number;
  invokes: number;
  errors: number;
  timeouts: number;
}

/** What an ingest of one environment changes in the rollups. */
export interface RollupChange {
  /** Added to the rows as they are, each (minute, key) once; the key is the environment's key before the ingest. */
  deltas: RollupDelta[];
  /**
   * When the environment's key changed: after the deltas, every stored invocation of `envId` (as the ingest
   * left it) is taken out of `from` and counted in `to` (a null key counts nowhere).
   */
  move: { envId: string; from: RollupKey | null; to: RollupKey | null } | null;
}

export function rollupKeyOf(
  env: Pick<EnvironmentFacts, 'functionName' | 'tenantId'>,
): RollupKey | null {
  if (env.functionName === null) return null;
  return { functionName: env.functionName, tenantId: env.tenantId ?? '' };
}

function sameKey(a: RollupKey | null, b: RollupKey | null): boolean {
  return (
    a === b ||
    (a !== null && b !== null && a.functionName === b.functionName && a.tenantId === b.tenantId)
  );
}

/** The minute an invocation counts in, or null when it counts nowhere (no start). */
export function rollupMinuteOf(invocation: InvocationFacts): number | null {
  return invocation.startedAt === null ? null : Math.floor(invocation.startedAt / ROLLUP_MINUTE_MS);
}

/**
 * The rollup change of one environment's ingest: `before` as loaded (undefined for a new environment, with the
 * invocations the ingest may change) and `after` as stored. Pure.
 */
export function rollupChange(
  before: EnvironmentModel | undefined,
  after: EnvironmentModel,
): RollupChange {
  const from = before === undefined ? rollupKeyOf(after.env) : rollupKeyOf(before.env);
  const to = rollupKeyOf(after.env);
  const deltas = new Map<number, RollupDelta>();
  const add = (invocation: InvocationFacts, sign: 1 | -1) => {
    const minute = rollupMinuteOf(invocation);
    if (from === null || minute === null) return;
    let delta = deltas.get(minute);
    if (delta === undefined) {
      delta = { ...from, minute, invokes: 0, errors: 0, timeouts: 0 };
      deltas.set(minute, delta);
    }
    delta.invokes += sign;
    if ((ERROR_STATUSES as readonly string[]).includes(invocation.status)) delta.errors += sign;
    if (invocation.status === TIMEOUT_STATUS) delta.timeouts += sign;
  };
  for (const invocation of after.invocations.values()) {
    const previous = before?.invocations.get(invocation.requestId);
    if (previous !== undefined) add(previous, -1);
    add(invocation, 1);
  }
  return {
    deltas: [...deltas.values()].filter(
      (delta) => delta.invokes !== 0 || delta.errors !== 0 || delta.timeouts !== 0,
    ),
    move: before === undefined || sameKey(from, to) ? null : { envId: after.env.envId, from, to },
  };
}
