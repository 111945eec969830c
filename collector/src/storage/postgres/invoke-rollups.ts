import type pg from 'pg';
import type { RollupChange, RollupDelta, RollupKey } from '../rollups.ts';

const COLUMNS = 'minute, "functionName", "tenantId", invokes, errors, timeouts';
const ADD = `ON CONFLICT (minute, "functionName", "tenantId") DO UPDATE SET
  invokes = invoke_rollups.invokes + EXCLUDED.invokes, errors = invoke_rollups.errors + EXCLUDED.errors,
  timeouts = invoke_rollups.timeouts + EXCLUDED.timeouts`;
const ADD_DELTAS = `INSERT INTO invoke_rollups (${COLUMNS})
  SELECT ${COLUMNS} FROM json_to_recordset($1::json)
    AS d(minute bigint, "functionName" text, "tenantId" text, invokes bigint, errors bigint, timeouts bigint)
  ${ADD}`;
/** An environment's stored invocations counted into a key ($4 = 1) or out of it ($4 = -1). */
const ADD_STORED = `INSERT INTO invoke_rollups (${COLUMNS})
  SELECT floor("startedAt" / 60000)::bigint, $2::text, $3::text, $4 * COUNT(*),
    $4 * COUNT(*) FILTER (WHERE status IN ('error', 'failure')), $4 * COUNT(*) FILTER (WHERE status = 'timeout')
  FROM invocations WHERE "envId" = $1 AND "startedAt" IS NOT NULL GROUP BY 1
  ${ADD}`;

/**
 * Records the rollup changes of one ingest transaction (rules in rollups.ts), after its environment and
 * invocation rows were written. The deltas of every environment go in one statement, summed per row first (one
 * statement may not update a row twice). An environment whose key changed moves its stored invocations after.
 */
export async function recordInvokeRollups(
  client: pg.PoolClient,
  changes: readonly RollupChange[],
): Promise<void> {
  const summed = new Map<string, RollupDelta>();
  for (const { deltas } of changes) {
    for (const delta of deltas) {
      const id = JSON.stringify([delta.minute, delta.functionName, delta.tenantId]);
      const sum = summed.get(id);
      if (sum === undefined) summed.set(id, { ...delta });
      else {
        sum.invokes += delta.invokes;
        sum.errors += delta.errors;
        sum.timeouts += delta.timeouts;
      }
    }
  }
  // Rows in one order in every transaction: two collectors ingesting side by side never wait on each other in a
  // cycle over them.
  const rows = [...summed.values()].sort(
    (a, b) =>
      a.minute - b.minute ||
      (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0) ||
      (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0),
  );
  if (rows.length > 0) await client.query(ADD_DELTAS, [JSON.stringify(rows)]);
  const addStored = async (envId: string, key: RollupKey | null, sign: 1 | -1) => {
    if (key !== null) await client.query(ADD_STORED, [envId, key.functionName, key.tenantId, sign]);
  };
  for (const { move } of changes) {
    if (move === null) continue;
    await addStored(move.envId, move.from, -1);
    await addStored(move.envId, move.to, 1);
  }
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
