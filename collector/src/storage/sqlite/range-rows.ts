import { ENVIRONMENT_FACT_FIELDS, lastInvokeIdOf } from '@lifeline/protocol';
import {
  type ActivityRow,
  edges,
  FUNCTION_STATS_FACTS,
  type InvokeBucket,
  isWholeFleet,
  type RangeRows,
  SHUTDOWN_FACTS,
  type StoredEnvironment,
} from '../read-model.ts';
import { traceIdRange } from '../search-ids.ts';
import type { SqliteDatabase } from './open.ts';

/** `tenant` filters on the tenantId fact when the derivation has one; otherwise no environment has a tenant. */
const TENANT = (ENVIRONMENT_FACT_FIELDS as readonly string[]).includes('tenantId')
  ? '(@tenant IS NULL OR e.tenantId = @tenant)'
  : '@tenant IS NULL';

/** Environments in [@from, @to] (rules in read-model.ts); the first condition lets the lastActivityAt index serve. */
const IN_RANGE = `e.lastActivityAt >= @from - @lostAfterMs
  AND e.firstActivityAt <= @to
  AND e.lastActivityAt + CASE WHEN e.shutdownAt IS NULL AND e.exitedAt IS NULL THEN @lostAfterMs ELSE 0 END >= @from
  AND (@functionName IS NULL OR e.functionName = @functionName)
  AND ${TENANT}`;

/**
 * Up to this many environments active since a range's start, its pages are read from them (index on
 * lastActivityAt, then sorted); beyond, by walking the table newest first. Counting to the bound costs at most this
 * many index entries; sorting them, a few milliseconds.
 */
const FEW_CANDIDATES = 5_000;

/**
 * Calls `visit` with each of `rows` (raw: values in `columns` order) as an object of those columns, the same object
 * refilled for every row: an aggregate over tens of thousands of rows makes no object per row.
 */
function visitRows<T>(rows: unknown[], columns: readonly string[], visit: (row: T) => void): void {
  const row: Record<string, unknown> = {};
  for (const values of rows as unknown[][]) {
    for (let index = 0; index < columns.length; index++)
      row[columns[index] as string] = values[index];
    visit(row as T);
  }
}

/**
 * The row selections of the read model on SQLite. `fewCandidates` is {@link FEW_CANDIDATES} but for the tests that
 * run both plans of a window page on the same rows.
 */
export function createSqliteRangeRows(
  db: SqliteDatabase,
  { fewCandidates = FEW_CANDIDATES }: { fewCandidates?: number } = {},
): RangeRows {
  const selectHead = db.prepare('SELECT COALESCE(MAX(cursor), 0) FROM events').pluck();
  const selectEnvironments = db.prepare(
    `SELECT e.* FROM environments e WHERE ${IN_RANGE} AND (@before IS NULL OR e.rowId < @before)
     ORDER BY e.rowId DESC LIMIT @limit`,
  );
  // The same page from the environments active since the range's start only (index on lastActivityAt), for
  // ranges that reach few of them. SQLite walks the table in rowId order for the statement above, which suits a
  // range covering much of the history but made a 15-minute page at 10M events read all 61,000 environments (172 ms
  // against 17 ms at 1M). Which of the two runs is decided per page by counting, up to a bound, the candidates.
  const selectRecentEnvironments = db.prepare(
    `SELECT e.* FROM environments e
     WHERE e.rowId IN (SELECT rowId FROM environments INDEXED BY environments_by_last_activity
                       WHERE lastActivityAt >= @from - @lostAfterMs)
       AND ${IN_RANGE} AND (@before IS NULL OR e.rowId < @before)
     ORDER BY e.rowId DESC LIMIT @limit`,
  );
  const countCandidates = db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT 1 FROM environments INDEXED BY environments_by_last_activity
                             WHERE lastActivityAt >= @from - @lostAfterMs LIMIT @bound)`,
    )
    .pluck();
  const countEnvironments = db
    .prepare(`SELECT COUNT(*) FROM environments e WHERE ${IN_RANGE}`)
    .pluck();
  const selectFunctionStatsFacts = db
    .prepare(
      `SELECT ${FUNCTION_STATS_FACTS.map((column) => `e.${column}`).join(', ')}
       FROM environments e WHERE ${IN_RANGE}`,
    )
    .raw(true);
  const selectInvocations = db.prepare(
    `SELECT * FROM invocations
     WHERE envId IN (SELECT value FROM json_each(@envIds))
       AND ((COALESCE(startedAt, platformStartAt, runtimeDoneAt, reportAt) <= @to
             AND (status = 'running'
                  OR COALESCE(startedAt, platformStartAt, runtimeDoneAt, reportAt)
                     + COALESCE(reportDurationMs, runtimeDoneDurationMs, 0) >= @from))
            OR requestId IN (SELECT value FROM json_each(@lastIds)))
     ORDER BY envId, COALESCE(seq, 9007199254740991), rowId`,
  );
  // Density (readWindow with a step): the start is the invocation view's (INVOKE, else the first platform time).
  const selectActivity = db.prepare(
    `SELECT envId, CAST(start / @step AS INTEGER) AS bucket, COUNT(*) AS invokes,
       SUM(status IN ('error', 'failure')) AS errors, SUM(status = 'timeout') AS timeouts,
       SUM(COALESCE(reportDurationMs, runtimeDoneDurationMs, 0)) AS busyMs
     FROM (SELECT envId, status, reportDurationMs, runtimeDoneDurationMs,
             COALESCE(startedAt, platformStartAt, runtimeDoneAt, reportAt) AS start
           FROM invocations WHERE envId IN (SELECT value FROM json_each(@envIds)))
     WHERE start >= @from AND start <= @to
     GROUP BY envId, bucket`,
  );
  const selectLiveInvocations = db.prepare(
    `SELECT * FROM invocations
     WHERE envId IN (SELECT value FROM json_each(@envIds))
       AND (((status = 'running' OR reportAt IS NULL)
             AND COALESCE(startedAt, platformStartAt, runtimeDoneAt, reportAt) <= @to)
            OR requestId IN (SELECT value FROM json_each(@lastIds)))
     ORDER BY envId, COALESCE(seq, 9007199254740991), rowId`,
  );
  const selectShutdowns = db
    .prepare(
      `SELECT ${SHUTDOWN_FACTS.map((column) => `e.${column}`).join(', ')} FROM environments e
     WHERE e.shutdownAt >= @from AND e.shutdownAt <= @to
       AND (@functionName IS NULL OR e.functionName = @functionName)
       AND (@version IS NULL OR e.functionVersion = @version)
       AND (@reason IS NULL OR e.shutdownReason = @reason COLLATE NOCASE)
       AND ${TENANT}`,
    )
    .raw(true);
  const bucketsSql = (byFunction: boolean) =>
    `SELECT CAST(i.startedAt / @step AS INTEGER) AS bucket,
       ${byFunction ? 'e.functionName' : 'NULL'} AS functionName,
       COUNT(*) AS invokes,
       SUM(i.status IN ('error', 'failure')) AS errors,
       SUM(i.status = 'timeout') AS timeouts,
       COUNT(DISTINCT i.envId) AS environments
     FROM invocations i JOIN environments e ON e.envId = i.envId
     WHERE ((i.startedAt >= @from AND i.startedAt < @lowTo)
            OR (i.startedAt >= @highFrom AND i.startedAt <= @to))
       AND (@functionName IS NULL OR e.functionName = @functionName)
       AND ${TENANT}
     GROUP BY 1${byFunction ? ', 2' : ''}`;
  const selectBuckets = db.prepare(bucketsSql(false));
  const selectFunctionBuckets = db.prepare(bucketsSql(true));
  // The whole fleet's buckets (the timeline's strip without filters) need nothing from environments: every
  // invocation has its environment's row, so the join only cost a lookup per invocation. Read from the index
  // (startedAt, envId, status) alone (migration 009): a 7-day strip at 10M events went from a random row read per
  // invocation to one pass over the index.
  const selectFleetBuckets = db.prepare(
    `SELECT CAST(startedAt / @step AS INTEGER) AS bucket, NULL AS functionName,
       COUNT(*) AS invokes,
       SUM(status IN ('error', 'failure')) AS errors,
       SUM(status = 'timeout') AS timeouts,
       COUNT(DISTINCT envId) AS environments
     FROM invocations INDEXED BY invocations_by_started
     WHERE (startedAt >= @from AND startedAt < @lowTo) OR (startedAt >= @highFrom AND startedAt <= @to)
     GROUP BY 1`,
  );
  const selectRolledUp = db.prepare(
    `SELECT CAST(minute * 60000 / @step AS INTEGER) AS bucket, functionName,
       SUM(invokes) AS invokes, SUM(errors) AS errors, SUM(timeouts) AS timeouts, 0 AS environments
     FROM invoke_rollups
     WHERE minute >= @fromMinute AND minute < @toMinute
       AND (@functionName IS NULL OR functionName = @functionName)
       AND (@tenant IS NULL OR tenantId = @tenant)
     GROUP BY 1, 2`,
  );
  const selectEnvironmentsById = db.prepare(
    'SELECT * FROM environments WHERE envId = @q UNION SELECT * FROM environments WHERE sandboxId = @q LIMIT 50',
  );
  const selectInvocationsById = db.prepare(
    `SELECT i.*, e.functionName AS fnName FROM invocations i LEFT JOIN environments e ON e.envId = i.envId
     WHERE i.requestId = @q OR i.traceId = @q OR (i.traceId >= @low AND i.traceId < @high)
     LIMIT 50`,
  );

  const params = (filter: {
    from: number;
    to: number;
    functionName?: string | undefined;
    tenant?: string | undefined;
  }) => ({
    from: filter.from,
    to: filter.to,
    functionName: filter.functionName ?? null,
    tenant: filter.tenant ?? null,
  });

  return {
    head: async () => Number(selectHead.get()),
    environmentsInRange: async (filter) => {
      const few =
        Number(
          countCandidates.get({
            from: filter.from,
            lostAfterMs: filter.lostAfterMs,
            bound: fewCandidates + 1,
          }),
        ) <= fewCandidates;
      return (few ? selectRecentEnvironments : selectEnvironments).all({
        ...params(filter),
        lostAfterMs: filter.lostAfterMs,
        before: filter.before ?? null,
        limit: filter.limit ?? -1,
      }) as StoredEnvironment[];
    },
    countEnvironmentsInRange: async (filter) =>
      Number(countEnvironments.get({ ...params(filter), lostAfterMs: filter.lostAfterMs })),
    eachFunctionStatsFacts: async (filter, visit) =>
      visitRows(
        selectFunctionStatsFacts.all({ ...params(filter), lostAfterMs: filter.lostAfterMs }),
        FUNCTION_STATS_FACTS,
        visit,
      ),
    invocationsOf: async (envs, from, to) => {
      if (envs.length === 0) return [];
      return selectInvocations.all({
        envIds: JSON.stringify(envs.map((env) => env.envId)),
        lastIds: JSON.stringify(
          envs.flatMap((env) => {
            const last = lastInvokeIdOf(env);
            return last === null ? [] : [last];
          }),
        ),
        from,
        to,
      }) as Record<string, unknown>[];
    },
    activityOf: async (envs, range) => {
      if (envs.length === 0) return { buckets: [], invocations: [] };
      const envIds = JSON.stringify(envs.map((env) => env.envId));
      return {
        buckets: selectActivity.all({ envIds, ...range }) as ActivityRow[],
        invocations: selectLiveInvocations.all({
          envIds,
          lastIds: JSON.stringify(
            envs.flatMap((env) => {
              const last = lastInvokeIdOf(env);
              return last === null ? [] : [last];
            }),
          ),
          to: range.to,
        }) as Record<string, unknown>[],
      };
    },
    eachShutdownFacts: async (filter, visit) =>
      visitRows(
        selectShutdowns.all({
          ...params(filter),
          version: filter.version ?? null,
          reason: filter.reason ?? null,
        }),
        SHUTDOWN_FACTS,
        visit,
      ),
    invokeBuckets: async (filter) => {
      const statement = isWholeFleet(filter)
        ? selectFleetBuckets
        : filter.byFunction
          ? selectFunctionBuckets
          : selectBuckets;
      return statement.all({
        ...params(filter),
        step: filter.step,
        ...edges(filter),
      }) as InvokeBucket[];
    },
    rolledUpInvokes: async (filter) =>
      selectRolledUp.all({
        ...params(filter),
        step: filter.step,
        fromMinute: filter.fromMinute,
        toMinute: filter.toMinute,
      }) as InvokeBucket[],
    environmentsById: async (q) => selectEnvironmentsById.all({ q }) as Record<string, unknown>[],
    invocationsById: async (q) => {
      const range = traceIdRange(q);
      return selectInvocationsById.all({
        q,
        low: range?.low ?? null,
        high: range?.high ?? null,
      }) as (Record<string, unknown> & { fnName: string | null })[];
    },
  };
}
