import {
  type InvocationFacts,
  type LifelineEvent,
  toEnvironment,
  toInvocation,
  toShutdown,
} from '@lifeline/protocol';
import {
  decodeRowCursor,
  decodeTextCursor,
  encodeRowCursor,
  encodeTextCursor,
  pageOf,
} from '../cursor-codec.ts';
import type { EnvironmentRow } from '../fact-rows.ts';
import {
  type FunctionDetails,
  type FunctionRow,
  functionSummaryOf,
  RECENT_ACTIVITY_MS,
} from '../function-summary.ts';
import { type ReadModel, readModelQueries } from '../read-model.ts';
import type { ListReads, QueryStore, ReadModelJson, StoredRow } from '../types.ts';
import type { SqliteDatabase } from './open.ts';
import { createSqliteRangeRows } from './range-rows.ts';

/**
 * The state rules of the derivation (environmentState) in SQL, for the `state` filter and the `alive` count
 * (parameters @now and @lostAfterMs, collector clock).
 */
export const STATE_SQL = `CASE
  WHEN exitedAt IS NOT NULL THEN 'ended'
  WHEN shutdownAt IS NOT NULL THEN
    CASE WHEN COALESCE(shutdownReceivedAt, @now) + MAX(0, COALESCE(shutdownDeadlineMs, shutdownAt) - shutdownAt) < @now
      THEN 'ended' ELSE 'shutting-down' END
  WHEN @now - lastReceivedAt > @lostAfterMs THEN 'lost'
  WHEN lastInvokeStatus = 'running' THEN 'active'
  WHEN invokeCount = 0 AND initReportAt IS NULL AND initRuntimeDoneAt IS NULL THEN 'initializing'
  ELSE 'idle' END`;

type InvocationRow = InvocationFacts & { rowId: number; fnName: string | null };

/**
 * The SQLite query store: the read model, the lists and the row counts from `reads` (the read worker's, on its own
 * connection), or, without it (`:memory:`), on `db` taking turns with ingest. The size (three pragmas) is read on
 * `db`.
 */
export function createSqliteQueryStore(
  db: SqliteDatabase,
  reads?: ReadModel & ListReads & Pick<QueryStore, 'counts'> & { json: ReadModelJson },
): QueryStore {
  const model = reads ?? readModelQueries(createSqliteRangeRows(db));
  const lists = reads ?? createSqliteListReads(db);
  const { counts } = reads ?? createSqliteCounts(db);
  const selectPageCount = db.prepare('PRAGMA page_count').pluck();
  const selectFreePages = db.prepare('PRAGMA freelist_count').pluck();
  const selectPageSize = db.prepare('PRAGMA page_size').pluck();

  return {
    window: model.window,
    shutdownStats: model.shutdownStats,
    functionStats: model.functionStats,
    series: model.series,
    search: model.search,
    listFunctions: lists.listFunctions,
    listEnvironments: lists.listEnvironments,
    environmentDetail: lists.environmentDetail,
    listInvocations: lists.listInvocations,
    listShutdowns: lists.listShutdowns,
    json: reads?.json,
    counts,

    sizeBytes: async () =>
      (Number(selectPageCount.get()) - Number(selectFreePages.get())) *
      Number(selectPageSize.get()),
  };
}

/**
 * The row counts of /metrics on `db`. SQLite keeps no row count: `COUNT(*)` walks the smallest index of the table,
 * 0.2 s warm and 3.6 s cold for 4.4M events (a kept history file), so the read worker runs them too.
 */
export function createSqliteCounts(db: SqliteDatabase): Pick<QueryStore, 'counts'> {
  const countEvents = db.prepare('SELECT COUNT(*) FROM events').pluck();
  const countEnvironments = db.prepare('SELECT COUNT(*) FROM environments').pluck();
  return {
    counts: async () => ({
      events: Number(countEvents.get()),
      environments: Number(countEnvironments.get()),
    }),
  };
}

/**
 * The read API's lists and details on `db`. Each is a page read by index, yet under ten dashboards a 7-day
 * Shutdowns page at 10M events took 16–61 ms: on the collector's thread that was as long a wait for every POST
 * arriving meanwhile, so the read worker runs them on its connection (read-worker.ts).
 */
export function createSqliteListReads(db: SqliteDatabase): ListReads {
  const selectEnvironment = db.prepare('SELECT * FROM environments WHERE envId = ?');
  const selectFunctions = db.prepare(
    `SELECT functionName, COUNT(*) AS environments, COUNT(registeredAt) AS coldStarts,
       SUM(invokeCount) AS invokes, SUM(errorCount) AS errors, SUM(timeoutCount) AS timeouts,
       MAX(lastActivityAt) AS lastActivityAt,
       SUM(CASE WHEN (${STATE_SQL}) IN ('ended', 'lost') THEN 0 ELSE 1 END) AS alive
     FROM environments
     WHERE functionName IS NOT NULL AND (@after IS NULL OR functionName > @after)
     GROUP BY functionName ORDER BY functionName LIMIT @limit`,
  );
  const selectVersions = db
    .prepare(
      'SELECT DISTINCT functionVersion FROM environments WHERE functionName = ? AND functionVersion IS NOT NULL ORDER BY functionVersion',
    )
    .pluck();
  const selectInitDurations = db
    .prepare(
      `SELECT d FROM (SELECT COALESCE(initReportDurationMs, reportInitDurationMs) AS d FROM environments
       WHERE functionName = ?) WHERE d IS NOT NULL ORDER BY d`,
    )
    .pluck();
  const selectShutdownReasons = db.prepare(
    `SELECT shutdownReason AS reason, COUNT(*) AS n FROM environments
     WHERE functionName = ? AND shutdownReason IS NOT NULL GROUP BY shutdownReason`,
  );
  const selectRecentInvokes = db
    .prepare(
      `SELECT COUNT(*) FROM invocations i JOIN environments e ON e.envId = i.envId
       WHERE e.functionName = ? AND i.startedAt >= ?`,
    )
    .pluck();
  const selectEnvironments = db.prepare(
    `SELECT * FROM environments
     WHERE (@functionName IS NULL OR functionName = @functionName)
       AND (@from IS NULL OR lastActivityAt >= @from)
       AND (@to IS NULL OR firstActivityAt <= @to)
       AND (@state IS NULL OR (${STATE_SQL}) = @state)
       AND (@before IS NULL OR rowId < @before)
     ORDER BY rowId DESC LIMIT @limit`,
  );
  const selectEnvironmentInvocations = db.prepare(
    'SELECT * FROM invocations WHERE envId = ? ORDER BY COALESCE(seq, 9007199254740991), rowId',
  );
  const selectEnvironmentEvents = db.prepare(
    'SELECT cursor, receivedAt, envId, body FROM events WHERE envId = ? ORDER BY cursor LIMIT ?',
  );
  const selectInvocations = db.prepare(
    `SELECT i.*, e.functionName AS fnName FROM invocations i
     LEFT JOIN environments e ON e.envId = i.envId
     WHERE (@functionName IS NULL OR e.functionName = @functionName)
       AND (@envId IS NULL OR i.envId = @envId)
       AND (@from IS NULL OR COALESCE(i.startedAt, i.platformStartAt) >= @from)
       AND (@to IS NULL OR COALESCE(i.startedAt, i.platformStartAt) <= @to)
       AND (@before IS NULL OR i.rowId < @before)
     ORDER BY i.rowId DESC LIMIT @limit`,
  );
  const selectShutdowns = db.prepare(
    `SELECT * FROM environments
     WHERE shutdownAt IS NOT NULL
       AND (@functionName IS NULL OR functionName = @functionName)
       AND (@version IS NULL OR functionVersion = @version)
       AND (@reason IS NULL OR shutdownReason = @reason COLLATE NOCASE)
       AND (@from IS NULL OR shutdownAt >= @from)
       AND (@to IS NULL OR shutdownAt <= @to)
       AND (@before IS NULL OR rowId < @before)
     ORDER BY rowId DESC LIMIT @limit`,
  );

  return {
    async listFunctions({ cursor, limit, now, lostAfterMs }) {
      const rows = selectFunctions.all({
        after: cursor === undefined ? null : decodeTextCursor(cursor),
        limit: limit + 1,
        now,
        lostAfterMs,
      }) as FunctionRow[];
      const items = rows.map((row) =>
        functionSummaryOf(row, {
          versions: selectVersions.all(row.functionName) as string[],
          initDurations: selectInitDurations.all(row.functionName) as number[],
          shutdownReasons: selectShutdownReasons.all(
            row.functionName,
          ) as FunctionDetails['shutdownReasons'],
          recentInvokes: Number(
            selectRecentInvokes.get(row.functionName, row.lastActivityAt - RECENT_ACTIVITY_MS),
          ),
        }),
      );
      return pageOf(items, limit, (item) => encodeTextCursor(item.functionName));
    },

    async listEnvironments(filter) {
      const rows = selectEnvironments.all({
        functionName: filter.functionName ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        state: filter.state ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
        now: filter.now,
        lostAfterMs: filter.lostAfterMs,
      }) as EnvironmentRow[];
      const page = pageOf(rows, filter.limit, (row) => encodeRowCursor(row.rowId));
      return {
        items: page.items.map((row) => toEnvironment(row, filter.now, filter.lostAfterMs)),
        nextCursor: page.nextCursor,
      };
    },

    async environmentDetail(envId, now, lostAfterMs) {
      const row = selectEnvironment.get(envId) as EnvironmentRow | undefined;
      if (row === undefined) return null;
      const invocations = (selectEnvironmentInvocations.all(envId) as InvocationFacts[]).map(
        (invocation) => toInvocation(invocation, row.functionName),
      );
      const events = (selectEnvironmentEvents.all(envId, 10_000) as StoredRow[]).map((stored) => ({
        cursor: stored.cursor,
        receivedAt: stored.receivedAt,
        event: JSON.parse(stored.body) as LifelineEvent,
      }));
      return { environment: toEnvironment(row, now, lostAfterMs), invocations, events };
    },

    async listInvocations(filter) {
      const rows = selectInvocations.all({
        functionName: filter.functionName ?? null,
        envId: filter.envId ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
      }) as InvocationRow[];
      const page = pageOf(rows, filter.limit, (row) => encodeRowCursor(row.rowId));
      return {
        items: page.items.map((row) => toInvocation(row, row.fnName)),
        nextCursor: page.nextCursor,
      };
    },

    async listShutdowns(filter) {
      const rows = selectShutdowns.all({
        functionName: filter.functionName ?? null,
        version: filter.version ?? null,
        reason: filter.reason ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
      }) as EnvironmentRow[];
      const page = pageOf(rows, filter.limit, (row) => encodeRowCursor(row.rowId));
      return {
        items: page.items.map((row) => toShutdown(row)).filter((item) => item !== null),
        nextCursor: page.nextCursor,
      };
    },
  };
}
