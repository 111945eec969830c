import type pg from 'pg';
import type { RollupChange, RollupKey } from '../rollups.ts';

const COLUMNS = 'minute, "functionName", "tenantId", invokes, errors, timeouts';
const ADD = `ON CONFLICT (minute, "functionName", "tenantId") DO UPDATE SET
  invokes = invoke_rollups.invokes + EXCLUDED.invokes, errors = invoke_rollups.errors + EXCLUDED.errors,
  timeouts = invoke_rollups.timeouts + EXCLUDED.timeouts`;
/**
 * The rollup write of an ingest transaction, as a data-modifying CTE of the statement that takes the ordering lock
 * (the CTE `ordered` of that statement; parameters from `$first`, values from {@link rollupParams}). Rollup rows
 * are shared by every environment of a function and minute, so they are written only while the ordering lock is
 * held: written earlier, their row locks would make every ingest transaction of a busy function wait for the one
 * before it to commit, and collectors would take turns for the whole transaction instead of this one statement.
 * Deltas and moved environments go in one INSERT, summed per row first (one statement may not update a row twice).
 * An environment whose key changed moves its stored invocations (as this transaction left them) from the old key
 * ($sign = -1) to the new one ($sign = 1); sums commute, so the deltas and the move may be added in one step.
 */
export function rollupCte(first: number): string {
  const [rows, envs, fns, tenants, signs] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
  return `rolled AS (
    INSERT INTO invoke_rollups (${COLUMNS})
    SELECT minute, fn, tenant, sum(invokes), sum(errors), sum(timeouts) FROM ordered, (
      SELECT d.minute, d."functionName" AS fn, d."tenantId" AS tenant, d.invokes, d.errors, d.timeouts
        FROM json_to_recordset(${rows}::json)
        AS d(minute bigint, "functionName" text, "tenantId" text, invokes bigint, errors bigint, timeouts bigint)
      UNION ALL
      SELECT floor(i."startedAt" / 60000)::bigint, m.fn, m.tenant, m.sign,
        CASE WHEN i.status IN ('error', 'failure') THEN m.sign ELSE 0 END,
        CASE WHEN i.status = 'timeout' THEN m.sign ELSE 0 END
        FROM unnest(${envs}::text[], ${fns}::text[], ${tenants}::text[], ${signs}::integer[]) AS m(env, fn, tenant, sign)
        JOIN invocations i ON i."envId" = m.env AND i."startedAt" IS NOT NULL
    ) AS counted
    GROUP BY minute, fn, tenant ORDER BY minute, fn, tenant
    ${ADD})`;
}

/** The values of {@link rollupCte}'s five parameters for one ingest transaction's changes. */
export function rollupParams(changes: readonly RollupChange[]): unknown[] {
  const deltas = changes.flatMap((change) => change.deltas);
  const moves: { envId: string; key: RollupKey; sign: 1 | -1 }[] = [];
  for (const { move } of changes) {
    if (move === null) continue;
    if (move.from !== null) moves.push({ envId: move.envId, key: move.from, sign: -1 });
    if (move.to !== null) moves.push({ envId: move.envId, key: move.to, sign: 1 });
  }
  return [
    JSON.stringify(deltas),
    moves.map((move) => move.envId),
    moves.map((move) => move.key.functionName),
    moves.map((move) => move.key.tenantId),
    moves.map((move) => move.sign),
  ];
}

/** Takes these environments' stored invocations out of the rollups (before they are deleted), in row order. */
export async function forgetInvokeRollups(
  client: pg.PoolClient,
  envs: readonly { envId: string; functionName: string | null; tenantId: string | null }[],
): Promise<void> {
  const counted = envs.filter((env) => env.functionName !== null);
  if (counted.length === 0) return;
  await client.query(
    `INSERT INTO invoke_rollups (${COLUMNS})
     SELECT floor(i."startedAt" / 60000)::bigint, e.fn, e.tenant, -COUNT(*),
       -COUNT(*) FILTER (WHERE i.status IN ('error', 'failure')), -COUNT(*) FILTER (WHERE i.status = 'timeout')
     FROM invocations i JOIN unnest($1::text[], $2::text[], $3::text[]) AS e(id, fn, tenant) ON i."envId" = e.id
     WHERE i."startedAt" IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
     ${ADD}`,
    [
      counted.map((env) => env.envId),
      counted.map((env) => env.functionName),
      counted.map((env) => env.tenantId ?? ''),
    ],
  );
}
