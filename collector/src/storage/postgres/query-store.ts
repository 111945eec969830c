import {
  ENVIRONMENT_FACT_FIELDS,
  type FunctionSummary,
  type InvocationFacts,
  type LifelineEvent,
  lastInvokeIdOf,
  toEnvironment,
  toInvocation,
  toShutdown,
} from '@lifeline/protocol';
import type pg from 'pg';
import {
  decodeRowCursor,
  decodeTextCursor,
  encodeRowCursor,
  encodeTextCursor,
  pageOf,
} from '../cursor-codec.ts';
import type { EnvironmentRow } from '../fact-rows.ts';
import { type FunctionRow, functionSummaryOf, RECENT_ACTIVITY_MS } from '../function-summary.ts';
import {
  type ActivityRow,
  edges,
  FUNCTION_STATS_FACTS,
  type FunctionStatsFacts,
  type InvokeBucket,
  isWholeFleet,
  type RangeRows,
  readModelQueries,
  SHUTDOWN_FACTS,
  type ShutdownFacts,
  type StoredEnvironment,
} from '../read-model.ts';
import { traceIdRange } from '../search-ids.ts';
import type { QueryStore, StoredRow } from '../types.ts';
import { named } from './named.ts';

/** The state rules of the derivation (environmentState) in SQL; see the SQLite store. */
const STATE_SQL = `CASE
  WHEN "exitedAt" IS NOT NULL THEN 'ended'
  WHEN "shutdownAt" IS NOT NULL THEN
    CASE WHEN COALESCE("shutdownReceivedAt", @now::float8)
              + GREATEST(0, COALESCE("shutdownDeadlineMs", "shutdownAt") - "shutdownAt") < @now::float8
      THEN 'ended' ELSE 'shutting-down' END
  WHEN @now::float8 - "lastReceivedAt" > @lostAfterMs::float8 THEN 'lost'
  WHEN "lastInvokeStatus" = 'running' THEN 'active'
  WHEN "invokeCount" = 0 AND "initReportAt" IS NULL AND "initRuntimeDoneAt" IS NULL THEN 'initializing'
  ELSE 'idle' END`;

const TENANT = (ENVIRONMENT_FACT_FIELDS as readonly string[]).includes('tenantId')
  ? '(@tenant::text IS NULL OR e."tenantId" = @tenant::text)'
  : '@tenant::text IS NULL';

const IN_RANGE = `e."lastActivityAt" >= @from::float8 - @lostAfterMs::float8
  AND e."firstActivityAt" <= @to::float8
  AND e."lastActivityAt" + CASE WHEN e."shutdownAt" IS NULL AND e."exitedAt" IS NULL
        THEN @lostAfterMs::float8 ELSE 0 END >= @from::float8
  AND (@functionName::text IS NULL OR e."functionName" = @functionName::text)
  AND ${TENANT}`;

const SQL = {
  environment: named('SELECT * FROM environments WHERE "envId" = @envId'),
  functions: named(
    `SELECT "functionName", COUNT(*) AS environments, COUNT("registeredAt") AS "coldStarts",
       SUM("invokeCount") AS invokes, SUM("errorCount") AS errors, SUM("timeoutCount") AS timeouts,
       MAX("lastActivityAt") AS "lastActivityAt",
       SUM(CASE WHEN (${STATE_SQL}) IN ('ended', 'lost') THEN 0 ELSE 1 END) AS alive
     FROM environments
     WHERE "functionName" IS NOT NULL AND (@after::text IS NULL OR "functionName" > @after::text)
     GROUP BY "functionName" ORDER BY "functionName" LIMIT @limit`,
  ),
  versions: named(
    `SELECT DISTINCT "functionVersion" AS v FROM environments
     WHERE "functionName" = @name AND "functionVersion" IS NOT NULL ORDER BY 1`,
  ),
  initDurations: named(
    `SELECT d FROM (SELECT COALESCE("initReportDurationMs", "reportInitDurationMs") AS d FROM environments
     WHERE "functionName" = @name) x WHERE d IS NOT NULL ORDER BY d`,
  ),
  shutdownReasons: named(
    `SELECT "shutdownReason" AS reason, COUNT(*) AS n FROM environments
     WHERE "functionName" = @name AND "shutdownReason" IS NOT NULL GROUP BY "shutdownReason"`,
  ),
  recentInvokes: named(
    `SELECT COUNT(*) AS n FROM invocations i JOIN environments e ON e."envId" = i."envId"
     WHERE e."functionName" = @name AND i."startedAt" >= @since`,
  ),
  environments: named(
    `SELECT * FROM environments
     WHERE (@functionName::text IS NULL OR "functionName" = @functionName::text)
       AND (@from::float8 IS NULL OR "lastActivityAt" >= @from::float8)
       AND (@to::float8 IS NULL OR "firstActivityAt" <= @to::float8)
       AND (@state::text IS NULL OR (${STATE_SQL}) = @state::text)
       AND (@before::bigint IS NULL OR "rowId" < @before::bigint)
     ORDER BY "rowId" DESC LIMIT @limit`,
  ),
  environmentInvocations: named(
    `SELECT * FROM invocations WHERE "envId" = @envId
     ORDER BY COALESCE(seq, 9007199254740991), "rowId"`,
  ),
  environmentEvents: named(
    `SELECT cursor, "receivedAt", "envId", body FROM events WHERE "envId" = @envId
     ORDER BY cursor LIMIT @limit`,
  ),
  invocations: named(
    `SELECT i.*, e."functionName" AS "fnName" FROM invocations i
     LEFT JOIN environments e ON e."envId" = i."envId"
     WHERE (@functionName::text IS NULL OR e."functionName" = @functionName::text)
       AND (@envId::text IS NULL OR i."envId" = @envId::text)
       AND (@from::float8 IS NULL OR COALESCE(i."startedAt", i."platformStartAt") >= @from::float8)
       AND (@to::float8 IS NULL OR COALESCE(i."startedAt", i."platformStartAt") <= @to::float8)
       AND (@before::bigint IS NULL OR i."rowId" < @before::bigint)
     ORDER BY i."rowId" DESC LIMIT @limit`,
  ),
  shutdowns: named(
    `SELECT * FROM environments
     WHERE "shutdownAt" IS NOT NULL
       AND (@functionName::text IS NULL OR "functionName" = @functionName::text)
       AND (@version::text IS NULL OR "functionVersion" = @version::text)
       AND (@reason::text IS NULL OR lower("shutdownReason") = lower(@reason::text))
       AND (@from::float8 IS NULL OR "shutdownAt" >= @from::float8)
       AND (@to::float8 IS NULL OR "shutdownAt" <= @to::float8)
       AND (@before::bigint IS NULL OR "rowId" < @before::bigint)
     ORDER BY "rowId" DESC LIMIT @limit`,
  ),
  counts: named(
    `SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM environments) AS environments`,
  ),
  size: named('SELECT pg_database_size(current_database()) AS bytes'),
  head: named('SELECT cursor FROM log_head'),
  rangeEnvironments: named(
    `SELECT e.* FROM environments e WHERE ${IN_RANGE}
       AND (@before::bigint IS NULL OR e."rowId" < @before::bigint)
     ORDER BY e."rowId" DESC LIMIT @limit::bigint`,
  ),
  rangeCount: named(`SELECT COUNT(*) AS n FROM environments e WHERE ${IN_RANGE}`),
  rangeFunctionStatsFacts: named(
    `SELECT ${FUNCTION_STATS_FACTS.map((column) => `e."${column}"`).join(', ')}
     FROM environments e WHERE ${IN_RANGE}`,
  ),
  rangeInvocations: named(
    `SELECT * FROM invocations
     WHERE "envId" = ANY(@envIds::text[])
       AND ((COALESCE("startedAt", "platformStartAt", "reportAt") <= @to::float8
             AND (status = 'running'
                  OR COALESCE("startedAt", "platformStartAt", "reportAt")
                     + COALESCE("reportDurationMs", "runtimeDoneDurationMs", 0) >= @from::float8))
            OR "requestId" = ANY(@lastIds::text[]))
     ORDER BY "envId", COALESCE(seq, 9007199254740991), "rowId"`,
  ),
  // Density (readWindow with a step): the start is the invocation view's (INVOKE, else the first platform time).
  rangeActivity: named(
    `SELECT "envId", floor(start / @step::float8)::bigint AS bucket, COUNT(*)::int AS invokes,
       (COUNT(*) FILTER (WHERE status IN ('error', 'failure')))::int AS errors,
       (COUNT(*) FILTER (WHERE status = 'timeout'))::int AS timeouts,
       SUM(COALESCE("reportDurationMs", "runtimeDoneDurationMs", 0)) AS "busyMs"
     FROM (SELECT "envId", status, "reportDurationMs", "runtimeDoneDurationMs",
             COALESCE("startedAt", "platformStartAt", "runtimeDoneAt", "reportAt") AS start
           FROM invocations WHERE "envId" = ANY(@envIds::text[])) i
     WHERE start >= @from::float8 AND start <= @to::float8
     GROUP BY "envId", 2`,
  ),
  rangeLiveInvocations: named(
    `SELECT * FROM invocations
     WHERE "envId" = ANY(@envIds::text[])
       AND (((status = 'running' OR "reportAt" IS NULL)
             AND COALESCE("startedAt", "platformStartAt", "runtimeDoneAt", "reportAt") <= @to::float8)
            OR "requestId" = ANY(@lastIds::text[]))
     ORDER BY "envId", COALESCE(seq, 9007199254740991), "rowId"`,
  ),
  rangeShutdowns: named(
    `SELECT ${SHUTDOWN_FACTS.map((column) => `e."${column}"`).join(', ')} FROM environments e
     WHERE e."shutdownAt" >= @from::float8 AND e."shutdownAt" <= @to::float8
       AND (@functionName::text IS NULL OR e."functionName" = @functionName::text)
       AND (@version::text IS NULL OR e."functionVersion" = @version::text)
       AND (@reason::text IS NULL OR lower(e."shutdownReason") = lower(@reason::text))
       AND ${TENANT}`,
  ),
  buckets: (byFunction: boolean) =>
    named(
      `SELECT floor(i."startedAt" / @step::float8)::bigint AS bucket,
         ${byFunction ? 'e."functionName"' : 'NULL::text'} AS "functionName",
         COUNT(*) AS invokes,
         COUNT(*) FILTER (WHERE i.status IN ('error', 'failure')) AS errors,
         COUNT(*) FILTER (WHERE i.status = 'timeout') AS timeouts,
         COUNT(DISTINCT i."envId") AS environments
       FROM invocations i JOIN environments e ON e."envId" = i."envId"
       WHERE ((i."startedAt" >= @from::float8 AND i."startedAt" < @lowTo::float8)
              OR (i."startedAt" >= @highFrom::float8 AND i."startedAt" <= @to::float8))
         AND (@functionName::text IS NULL OR e."functionName" = @functionName::text)
         AND ${TENANT}
       GROUP BY 1, 2`,
    ),
  // The whole fleet's buckets need nothing from environments (see the SQLite twin in sqlite/range-rows.ts);
  // migration 005 lets them come from the index alone.
  fleetBuckets: named(
    `SELECT floor("startedAt" / @step::float8)::bigint AS bucket, NULL::text AS "functionName",
       COUNT(*) AS invokes,
       COUNT(*) FILTER (WHERE status IN ('error', 'failure')) AS errors,
       COUNT(*) FILTER (WHERE status = 'timeout') AS timeouts,
       COUNT(DISTINCT "envId") AS environments
     FROM invocations
     WHERE ("startedAt" >= @from::float8 AND "startedAt" < @lowTo::float8)
        OR ("startedAt" >= @highFrom::float8 AND "startedAt" <= @to::float8)
     GROUP BY 1`,
  ),
  rolledUp: named(
    `SELECT floor(minute * 60000 / @step::float8)::bigint AS bucket, "functionName",
       SUM(invokes) AS invokes, SUM(errors) AS errors, SUM(timeouts) AS timeouts, 0 AS environments
     FROM invoke_rollups
     WHERE minute >= @fromMinute::bigint AND minute < @toMinute::bigint
       AND (@functionName::text IS NULL OR "functionName" = @functionName::text)
       AND (@tenant::text IS NULL OR "tenantId" = @tenant::text)
     GROUP BY 1, 2`,
  ),
  environmentsById: named(
    `SELECT * FROM environments WHERE "envId" = @q
     UNION SELECT * FROM environments WHERE "sandboxId" = @q LIMIT 50`,
  ),
  invocationsById: named(
    `SELECT i.*, e."functionName" AS "fnName" FROM invocations i
     LEFT JOIN environments e ON e."envId" = i."envId"
     WHERE i."requestId" = @q OR i."traceId" = @q
        OR (i."traceId" >= @low::text AND i."traceId" < @high::text)
     LIMIT 50`,
  ),
};

/** The PostgreSQL query store: the same lists and read model as SQLite, in PostgreSQL's dialect. */
export function createPostgresQueryStore(pool: pg.Pool): QueryStore {
  const all = async <T>(
    statement: ReturnType<typeof named>,
    params: Record<string, unknown> = {},
  ) => (await pool.query(statement.text, statement.values(params))).rows as T[];

  const range = (filter: {
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

  const rows: RangeRows = {
    head: async () => (await all<{ cursor: number }>(SQL.head))[0]?.cursor ?? 0,
    environmentsInRange: (filter) =>
      all<StoredEnvironment>(SQL.rangeEnvironments, {
        ...range(filter),
        lostAfterMs: filter.lostAfterMs,
        before: filter.before ?? null,
        limit: filter.limit ?? null,
      }),
    countEnvironmentsInRange: async (filter) =>
      (
        await all<{ n: number }>(SQL.rangeCount, {
          ...range(filter),
          lostAfterMs: filter.lostAfterMs,
        })
      )[0]?.n ?? 0,
    eachFunctionStatsFacts: async (filter, visit) => {
      const found = await all<FunctionStatsFacts>(SQL.rangeFunctionStatsFacts, {
        ...range(filter),
        lostAfterMs: filter.lostAfterMs,
      });
      for (const row of found) visit(row);
    },
    invocationsOf: async (envs, from, to) =>
      envs.length === 0
        ? []
        : all(SQL.rangeInvocations, {
            envIds: envs.map((env) => env.envId),
            lastIds: envs.flatMap((env) =>
              env.lastInvokeRequestId === null ? [] : [env.lastInvokeRequestId],
            ),
            from,
            to,
          }),
    activityOf: async (envs, { from, to, step }) => {
      if (envs.length === 0) return { buckets: [], invocations: [] };
      const envIds = envs.map((env) => env.envId);
      return {
        buckets: await all<ActivityRow>(SQL.rangeActivity, { envIds, from, to, step }),
        invocations: await all(SQL.rangeLiveInvocations, {
          envIds,
          lastIds: envs.flatMap((env) => {
            const last = lastInvokeIdOf(env);
            return last === null ? [] : [last];
          }),
          to,
        }),
      };
    },
    eachShutdownFacts: async (filter, visit) => {
      const found = await all<ShutdownFacts>(SQL.rangeShutdowns, {
        ...range(filter),
        version: filter.version ?? null,
        reason: filter.reason ?? null,
      });
      for (const row of found) visit(row);
    },
    invokeBuckets: (filter) =>
      all<InvokeBucket>(isWholeFleet(filter) ? SQL.fleetBuckets : SQL.buckets(filter.byFunction), {
        ...range(filter),
        step: filter.step,
        ...edges(filter),
      }),
    rolledUpInvokes: (filter) =>
      all<InvokeBucket>(SQL.rolledUp, {
        ...range(filter),
        step: filter.step,
        fromMinute: filter.fromMinute,
        toMinute: filter.toMinute,
      }),
    environmentsById: (q) => all(SQL.environmentsById, { q }),
    invocationsById: (q) => {
      const trace = traceIdRange(q);
      return all(SQL.invocationsById, { q, low: trace?.low ?? null, high: trace?.high ?? null });
    },
  };

  return {
    ...readModelQueries(rows),

    async listFunctions({ cursor, limit, now, lostAfterMs }) {
      const found = await all<FunctionRow>(SQL.functions, {
        after: cursor === undefined ? null : decodeTextCursor(cursor),
        limit: limit + 1,
        now,
        lostAfterMs,
      });
      const items: FunctionSummary[] = [];
      for (const row of found) {
        const name = row.functionName;
        const since = row.lastActivityAt - RECENT_ACTIVITY_MS;
        items.push(
          functionSummaryOf(row, {
            versions: (await all<{ v: string }>(SQL.versions, { name })).map((r) => r.v),
            initDurations: (await all<{ d: number }>(SQL.initDurations, { name })).map((r) => r.d),
            shutdownReasons: await all<{ reason: string; n: number }>(SQL.shutdownReasons, {
              name,
            }),
            recentInvokes:
              (await all<{ n: number }>(SQL.recentInvokes, { name, since }))[0]?.n ?? 0,
          }),
        );
      }
      return pageOf(items, limit, (item) => encodeTextCursor(item.functionName));
    },

    async listEnvironments(filter) {
      const found = await all<EnvironmentRow>(SQL.environments, {
        functionName: filter.functionName ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        state: filter.state ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
        now: filter.now,
        lostAfterMs: filter.lostAfterMs,
      });
      const page = pageOf(found, filter.limit, (row) => encodeRowCursor(row.rowId));
      return {
        items: page.items.map((row) => toEnvironment(row, filter.now, filter.lostAfterMs)),
        nextCursor: page.nextCursor,
      };
    },

    async environmentDetail(envId, now, lostAfterMs) {
      const [row] = await all<EnvironmentRow>(SQL.environment, { envId });
      if (row === undefined) return null;
      const invocations = (await all<InvocationFacts>(SQL.environmentInvocations, { envId })).map(
        (invocation) => toInvocation(invocation, row.functionName),
      );
      const events = (await all<StoredRow>(SQL.environmentEvents, { envId, limit: 10_000 })).map(
        (stored) => ({
          cursor: stored.cursor,
          receivedAt: stored.receivedAt,
          event: JSON.parse(stored.body) as LifelineEvent,
        }),
      );
      return { environment: toEnvironment(row, now, lostAfterMs), invocations, events };
    },

    async listInvocations(filter) {
      const found = await all<InvocationFacts & { rowId: number; fnName: string | null }>(
        SQL.invocations,
        {
          functionName: filter.functionName ?? null,
          envId: filter.envId ?? null,
          from: filter.from ?? null,
          to: filter.to ?? null,
          before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
          limit: filter.limit + 1,
        },
      );
      const page = pageOf(found, filter.limit, (row) => encodeRowCursor(row.rowId));
      return {
        items: page.items.map((row) => toInvocation(row, row.fnName)),
        nextCursor: page.nextCursor,
      };
    },

    async listShutdowns(filter) {
      const found = await all<EnvironmentRow>(SQL.shutdowns, {
        functionName: filter.functionName ?? null,
        version: filter.version ?? null,
        reason: filter.reason ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
      });
      const page = pageOf(found, filter.limit, (row) => encodeRowCursor(row.rowId));
      return {
        items: page.items.map((row) => toShutdown(row)).filter((item) => item !== null),
        nextCursor: page.nextCursor,
      };
    },

    counts: async () => {
      const [row] = await all<{ events: number; environments: number }>(SQL.counts);
      return { events: row?.events ?? 0, environments: row?.environments ?? 0 };
    },

    sizeBytes: async () => (await all<{ bytes: number }>(SQL.size))[0]?.bytes ?? 0,
  };
}
