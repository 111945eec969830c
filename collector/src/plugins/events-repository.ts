import type {
  Environment,
  EnvironmentDetail,
  EnvironmentState,
  FunctionSummary,
  Invocation,
  LifelineEvent,
  Page,
  Shutdown,
} from '@lifeline/protocol';
import {
  applyEvents,
  type EnvironmentFacts,
  type EnvironmentModel,
  type InvocationFacts,
  percentile,
  requestIdsOf,
  toEnvironment,
  toInvocation,
  toShutdown,
} from '@lifeline/protocol';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { BadQueryError, StorageUnavailableError, storageError } from '../errors.ts';
import type { SqliteDatabase } from './db.ts';

/** An event to store: the validated event and its JSON text (what `/v1/events` and the live socket send back). */
export interface EncodedEvent {
  event: LifelineEvent;
  body: string;
}

/** A stored event as the live hub and `/v1/events` need it. */
export interface StoredRow {
  cursor: number;
  receivedAt: number;
  envId: string;
  /** The event's JSON text, as received (re-serialised once at ingest). */
  body: string;
  /**
   * Position in a function-filtered stream when it differs from `cursor`: the events an environment sent before
   * its register are sent at the cursor where its function became known (see {@link InsertResult.revealed}).
   */
  position?: number;
}

/** Result of {@link EventsRepository.insertBatch}. */
export interface InsertResult {
  accepted: number;
  duplicates: number;
  /** The newly stored rows, in cursor order. */
  stored: StoredRow[];
  /** envId → functionName for every environment the batch touched whose register is known. */
  functions: Map<string, string>;
  /**
   * envId → function cursor for every environment whose function this batch revealed while events of it were
   * already stored: its highest cursor in this batch. A function-filtered stream sends the environment's earlier
   * events right before that row.
   */
  revealed?: Map<string, number>;
}

/** Common listing options: `cursor` is the opaque `nextCursor` of the previous page. */
export interface ListOptions {
  cursor?: string | undefined;
  limit: number;
  /** Collector clock used to compute states. */
  now: number;
  lostAfterMs: number;
}

/** `GET /v1/environments` filters; `from`/`to` select environments active in that range (event clock). */
export interface EnvironmentFilter extends ListOptions {
  functionName?: string | undefined;
  state?: EnvironmentState | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** `GET /v1/invocations` filters; `from`/`to` bound the invoke's start (event clock). */
export interface InvocationFilter extends ListOptions {
  functionName?: string | undefined;
  envId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** `GET /v1/shutdowns` filters; `reason` matches case-insensitively, `from`/`to` bound SHUTDOWN's arrival. */
export interface ShutdownFilter extends ListOptions {
  functionName?: string | undefined;
  version?: string | undefined;
  reason?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** What one retention step removed. */
export interface DeletedCounts {
  environments: number;
  events: number;
}

/**
 * Storage behind intent-named operations: routes, the live hub and retention never see SQL. A second backend
 * (e.g. PostgreSQL) implements this interface; the SQLite one is synchronous, others may return promises.
 */
export interface EventsRepository {
  /** Stores new events and updates the derived tables in ONE transaction; duplicates (by id) are skipped. */
  insertBatch(events: readonly EncodedEvent[], receivedAt: number): InsertResult;
  /**
   * Group commit: several batches in ONE transaction (one fsync), each batch inside its own savepoint, so a batch
   * that fails is rolled back alone and reported as an Error in its slot while the others commit.
   */
  insertBatches(
    batches: readonly (readonly EncodedEvent[])[],
    receivedAt: number,
  ): (InsertResult | Error)[];
  /** Newest cursor (0 when empty). */
  head(): number;
  /**
   * Events with `after < cursor <= upTo`, in cursor order (at most `limit`). With `functionName`, only that
   * function's environments, and an environment whose events arrived before its register has those events
   * (`position` = its function cursor) inserted right before the row at its function cursor, once: the page may
   * then hold more than `limit` rows, and the last row is always one at its own cursor.
   */
  eventsAfter(after: number, limit: number, upTo?: number, functionName?: string): StoredRow[];
  /** An environment's events with a cursor below `before`, in cursor order (the rows a reveal sends late). */
  environmentEventsBefore(envId: string, before: number): StoredRow[];
  /** The function an environment registered for, or null while its register event is unknown. */
  functionOf(envId: string): string | null;
  /** Per-function summaries, by name. */
  listFunctions(options: ListOptions): Page<FunctionSummary>;
  /** Environments, newest first. */
  listEnvironments(filter: EnvironmentFilter): Page<Environment>;
  /** One environment with its invocations (invoke order) and up to 10,000 of its events; null if unknown. */
  environmentDetail(envId: string, now: number, lostAfterMs: number): EnvironmentDetail | null;
  /** Invocations, newest first. */
  listInvocations(filter: InvocationFilter): Page<Invocation>;
  /** Shutdowns, newest environment first. */
  listShutdowns(filter: ShutdownFilter): Page<Shutdown>;
  /** Counts for /metrics. */
  counts(): { events: number; environments: number };
  /** Bytes of the database in use (pages minus free pages). */
  usedBytes(): number;
  /** Up to `limit` envIds whose last event was received before `before` (collector clock), oldest first. */
  environmentsReceivedBefore(before: number, limit: number): string[];
  /**
   * Deletes up to `maxEvents` events of the environment, and the environment itself once it has none left, but
   * only while its last event was received before `receivedBefore` (checked in the same transaction): an
   * environment that received an event since it was chosen is kept (`kept: true`, nothing deleted).
   */
  deleteEnvironmentChunk(
    envId: string,
    maxEvents: number,
    receivedBefore: number,
  ): DeletedCounts & { kept: boolean };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage behind every route; see {@link EventsRepository}. */
    repository: EventsRepository;
  }
}

const ENVIRONMENT_COLUMNS = [
  'envId',
  'functionName',
  'functionVersion',
  'handler',
  'memorySizeMb',
  'runtime',
  'architecture',
  'region',
  'accountId',
  'initializationType',
  'sandboxId',
  'previousEnvId',
  'telemetry',
  'registeredAt',
  'startToRegisteredMs',
  'initStartAt',
  'initRuntimeDoneAt',
  'initRuntimeDoneStatus',
  'initReportAt',
  'initReportStatus',
  'initReportDurationMs',
  'reportInitDurationMs',
  'initPhase',
  'invokeCount',
  'errorCount',
  'timeoutCount',
  'firstActivityAt',
  'lastActivityAt',
  'lastSeq',
  'eventCount',
  'droppedEvents',
  'lastInvokeSeq',
  'lastInvokeRequestId',
  'lastInvokeStatus',
  'lastInvokeEndAt',
  'shutdownReason',
  'shutdownAt',
  'shutdownDeadlineMs',
  'shutdownReceivedAt',
  'exitedAt',
  'exitShutdownMs',
  'firstReceivedAt',
  'lastReceivedAt',
] as const satisfies readonly (keyof EnvironmentFacts)[];

const INVOCATION_COLUMNS = [
  'envId',
  'requestId',
  'seq',
  'startedAt',
  'deadlineMs',
  'invokedFunctionArn',
  'traceId',
  'platformStartAt',
  'runtimeDoneAt',
  'runtimeDoneStatus',
  'runtimeDoneDurationMs',
  'runtimeDoneErrorType',
  'reportAt',
  'reportStatus',
  'reportDurationMs',
  'billedDurationMs',
  'memorySizeMb',
  'maxMemoryUsedMb',
  'initDurationMs',
  'extensionOverheadMs',
  'reportErrorType',
  'status',
] as const satisfies readonly (keyof InvocationFacts)[];

/** Built once from the constant column lists above (never from input). */
function upsertSql(table: string, columns: readonly string[], key: string): string {
  const updates = columns
    .filter((column) => !key.split(',').includes(column))
    .map((column) => `${column} = excluded.${column}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')}`;
}

/**
 * The state rules of protocol/src/derive/environment-state.ts in SQL, for the `state` filter and the `alive` count
 * (parameters @now and @lostAfterMs, collector clock).
 */
const STATE_SQL = `CASE
  WHEN exitedAt IS NOT NULL THEN 'ended'
  WHEN shutdownAt IS NOT NULL THEN
    CASE WHEN COALESCE(shutdownReceivedAt, @now) + MAX(0, COALESCE(shutdownDeadlineMs, shutdownAt) - shutdownAt) < @now
      THEN 'ended' ELSE 'shutting-down' END
  WHEN @now - lastReceivedAt > @lostAfterMs THEN 'lost'
  WHEN lastInvokeStatus = 'running' THEN 'active'
  WHEN invokeCount = 0 AND initReportAt IS NULL AND initRuntimeDoneAt IS NULL THEN 'initializing'
  ELSE 'idle' END`;

const FIVE_MINUTES_MS = 5 * 60 * 1000;

interface EnvironmentRow extends EnvironmentFacts {
  rowId: number;
}

interface InvocationRow extends InvocationFacts {
  rowId: number;
  fnName: string | null;
}

/** Creates the SQLite repository over an opened database; every statement is prepared here, once. */
export function createSqliteRepository(db: SqliteDatabase): EventsRepository {
  const insertEvent = db.prepare(
    'INSERT OR IGNORE INTO events (id, envId, seq, type, time, receivedAt, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const selectEnvironment = db.prepare('SELECT * FROM environments WHERE envId = ?');
  const selectInvocation = db.prepare(
    'SELECT * FROM invocations WHERE envId = ? AND requestId = ?',
  );
  const upsertEnvironment = db.prepare(upsertSql('environments', ENVIRONMENT_COLUMNS, 'envId'));
  const upsertInvocation = db.prepare(
    upsertSql('invocations', INVOCATION_COLUMNS, 'envId,requestId'),
  );
  const selectHead = db.prepare('SELECT COALESCE(MAX(cursor), 0) FROM events').pluck();
  const selectEventsAfter = db.prepare(
    'SELECT cursor, receivedAt, envId, body FROM events WHERE cursor > ? AND cursor <= ? ORDER BY cursor LIMIT ?',
  );
  const selectFunctionEventsAfter = db.prepare(
    `SELECT e.cursor, e.receivedAt, e.envId, e.body, v.functionCursor FROM events e
     JOIN environments v ON v.envId = e.envId
     WHERE e.cursor > ? AND e.cursor <= ? AND v.functionName = ?
       AND (v.functionCursor IS NULL OR e.cursor >= v.functionCursor)
     ORDER BY e.cursor LIMIT ?`,
  );
  const selectEnvironmentEventsBefore = db.prepare(
    'SELECT cursor, receivedAt, envId, body FROM events WHERE envId = ? AND cursor < ? ORDER BY cursor',
  );
  const updateFunctionCursor = db.prepare(
    'UPDATE environments SET functionCursor = ? WHERE envId = ?',
  );
  const selectFunctionOf = db
    .prepare('SELECT functionName FROM environments WHERE envId = ?')
    .pluck();
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
  const countEvents = db.prepare('SELECT COUNT(*) FROM events').pluck();
  const countEnvironments = db.prepare('SELECT COUNT(*) FROM environments').pluck();
  const selectReceivedBefore = db
    .prepare(
      'SELECT envId FROM environments WHERE lastReceivedAt < ? ORDER BY lastReceivedAt LIMIT ?',
    )
    .pluck();
  const selectLastReceivedAt = db
    .prepare('SELECT lastReceivedAt FROM environments WHERE envId = ?')
    .pluck();
  const deleteEventsChunk = db.prepare(
    'DELETE FROM events WHERE cursor IN (SELECT cursor FROM events WHERE envId = ? ORDER BY cursor LIMIT ?)',
  );
  const countEnvironmentEvents = db
    .prepare('SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE envId = ? LIMIT 1)')
    .pluck();
  const deleteInvocations = db.prepare('DELETE FROM invocations WHERE envId = ?');
  const selectPageCount = db.prepare('PRAGMA page_count').pluck();
  const selectFreePages = db.prepare('PRAGMA freelist_count').pluck();
  const selectPageSize = db.prepare('PRAGMA page_size').pluck();
  const deleteEnvironment = db.prepare('DELETE FROM environments WHERE envId = ?');

  const loadModel = (
    envId: string,
    requestIds: Set<string>,
  ): { model: EnvironmentModel | undefined } => {
    const row = selectEnvironment.get(envId) as EnvironmentRow | undefined;
    if (row === undefined) return { model: undefined };
    if (row.lastInvokeRequestId !== null) requestIds.add(row.lastInvokeRequestId);
    const invocations = new Map<string, InvocationFacts>();
    for (const requestId of requestIds) {
      const found = selectInvocation.get(envId, requestId) as InvocationFacts | undefined;
      if (found !== undefined) invocations.set(requestId, found);
    }
    return { model: { env: row, invocations } };
  };

  const insertTransaction = db.transaction(
    (events: readonly EncodedEvent[], receivedAt: number): InsertResult => {
      const stored: StoredRow[] = [];
      const byEnv = new Map<string, LifelineEvent[]>();
      for (const { event, body } of events) {
        const info = insertEvent.run(
          event.id,
          event.envId,
          event.seq,
          event.type,
          event.time,
          receivedAt,
          body,
        );
        if (info.changes === 0) continue;
        stored.push({ cursor: Number(info.lastInsertRowid), receivedAt, envId: event.envId, body });
        const list = byEnv.get(event.envId);
        if (list) list.push(event);
        else byEnv.set(event.envId, [event]);
      }
      const functions = new Map<string, string>();
      const revealed = new Map<string, number>();
      for (const [envId, envEvents] of byEnv) {
        const requestIds = requestIdsOf(envEvents);
        const { model } = loadModel(envId, requestIds);
        const next = applyEvents(model, envEvents, receivedAt);
        upsertEnvironment.run(next.env);
        for (const invocation of next.invocations.values()) {
          const before = model?.invocations.get(invocation.requestId);
          if (before === undefined || !sameInvocation(before, invocation)) {
            upsertInvocation.run(invocation);
          }
        }
        if (next.env.functionName !== null) functions.set(envId, next.env.functionName);
        if (
          model !== undefined &&
          model.env.functionName === null &&
          next.env.functionName !== null
        ) {
          let functionCursor = 0;
          for (const row of stored) if (row.envId === envId) functionCursor = row.cursor;
          updateFunctionCursor.run(functionCursor, envId);
          revealed.set(envId, functionCursor);
        }
      }
      return {
        accepted: stored.length,
        duplicates: events.length - stored.length,
        stored,
        functions,
        revealed,
      };
    },
  );

  const page = <T>(items: T[], limit: number, cursorOf: (item: T) => string): Page<T> => {
    if (items.length <= limit) return { items, nextCursor: null };
    const kept = items.slice(0, limit);
    const last = kept[kept.length - 1];
    return { items: kept, nextCursor: last === undefined ? null : cursorOf(last) };
  };

  const groupTransaction = db.transaction(
    (batches: readonly (readonly EncodedEvent[])[], receivedAt: number) =>
      batches.map((events) => {
        try {
          // Nested better-sqlite3 transaction = SAVEPOINT: rolled back alone if it throws.
          return insertTransaction(events, receivedAt);
        } catch (error) {
          // Errors such as SQLITE_FULL roll back the whole outer transaction, not only the savepoint: every
          // batch of the group is lost, and the rest must not run in autocommit (stored, then never
          // acknowledged nor broadcast). Throwing fails the whole group with one retryable error.
          if (!db.inTransaction) {
            throw (
              storageError(error, 'the batch was not stored') ??
              new StorageUnavailableError(
                'the collector rolled back the batch after a storage error; retry later',
                { cause: error },
              )
            );
          }
          return error instanceof Error ? error : new Error(String(error));
        }
      }),
  );

  return {
    insertBatch: (events, receivedAt) => insertTransaction.immediate(events, receivedAt),

    insertBatches: (batches, receivedAt) => groupTransaction.immediate(batches, receivedAt),

    head: () => Number(selectHead.get()),

    eventsAfter(after, limit, upTo = Number.MAX_SAFE_INTEGER, functionName) {
      if (functionName === undefined)
        return selectEventsAfter.all(after, upTo, limit) as StoredRow[];
      const rows = selectFunctionEventsAfter.all(after, upTo, functionName, limit) as (StoredRow & {
        functionCursor: number | null;
      })[];
      const out: StoredRow[] = [];
      for (const { functionCursor, ...row } of rows) {
        if (functionCursor === row.cursor) {
          for (const early of selectEnvironmentEventsBefore.all(
            row.envId,
            row.cursor,
          ) as StoredRow[]) {
            out.push({ ...early, position: row.cursor });
          }
        }
        out.push(row);
      }
      return out;
    },

    environmentEventsBefore: (envId, before) =>
      selectEnvironmentEventsBefore.all(envId, before) as StoredRow[],

    functionOf: (envId) => (selectFunctionOf.get(envId) as string | null | undefined) ?? null,

    listFunctions({ cursor, limit, now, lostAfterMs }) {
      const rows = selectFunctions.all({
        after: cursor === undefined ? null : decodeTextCursor(cursor),
        limit: limit + 1,
        now,
        lostAfterMs,
      }) as {
        functionName: string;
        environments: number;
        coldStarts: number;
        invokes: number;
        errors: number;
        timeouts: number;
        lastActivityAt: number;
        alive: number;
      }[];
      const items = rows.map((row): FunctionSummary => {
        const durations = selectInitDurations.all(row.functionName) as number[];
        const shutdowns: Record<string, number> = {};
        for (const { reason, n } of selectShutdownReasons.all(row.functionName) as {
          reason: string;
          n: number;
        }[]) {
          shutdowns[reason] = n;
        }
        const recent = Number(
          selectRecentInvokes.get(row.functionName, row.lastActivityAt - FIVE_MINUTES_MS),
        );
        return {
          functionName: row.functionName,
          versions: (selectVersions.all(row.functionName) as string[]).slice(0, 100),
          alive: row.alive,
          environments: row.environments,
          coldStarts: row.coldStarts,
          initDurationP50: percentile(durations, 50),
          initDurationP95: percentile(durations, 95),
          invokes: row.invokes,
          errors: row.errors,
          timeouts: row.timeouts,
          invokesPerMinute: recent / 5,
          shutdowns,
          lastActivityAt: row.lastActivityAt,
        };
      });
      return page(items, limit, (item) => encodeTextCursor(item.functionName));
    },

    listEnvironments(filter) {
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
      const items = rows.map((row) => ({
        rowId: row.rowId,
        item: toEnvironment(row, filter.now, filter.lostAfterMs),
      }));
      const result = page(items, filter.limit, (entry) => String(entry.rowId));
      return { items: result.items.map((entry) => entry.item), nextCursor: result.nextCursor };
    },

    environmentDetail(envId, now, lostAfterMs) {
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

    listInvocations(filter) {
      const rows = selectInvocations.all({
        functionName: filter.functionName ?? null,
        envId: filter.envId ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
      }) as InvocationRow[];
      const result = page(rows, filter.limit, (row) => String(row.rowId));
      return {
        items: result.items.map((row) => toInvocation(row, row.fnName)),
        nextCursor: result.nextCursor,
      };
    },

    listShutdowns(filter) {
      const rows = selectShutdowns.all({
        functionName: filter.functionName ?? null,
        version: filter.version ?? null,
        reason: filter.reason ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        before: filter.cursor === undefined ? null : decodeRowCursor(filter.cursor),
        limit: filter.limit + 1,
      }) as EnvironmentRow[];
      const result = page(rows, filter.limit, (row) => String(row.rowId));
      return {
        items: result.items.map((row) => toShutdown(row)).filter((item) => item !== null),
        nextCursor: result.nextCursor,
      };
    },

    counts: () => ({
      events: Number(countEvents.get()),
      environments: Number(countEnvironments.get()),
    }),

    usedBytes: () =>
      (Number(selectPageCount.get()) - Number(selectFreePages.get())) *
      Number(selectPageSize.get()),

    environmentsReceivedBefore: (before, limit) =>
      selectReceivedBefore.all(before, limit) as string[],

    deleteEnvironmentChunk: db.transaction(
      (envId: string, maxEvents: number, receivedBefore: number) => {
        const lastReceivedAt = selectLastReceivedAt.get(envId) as number | undefined;
        if (lastReceivedAt !== undefined && lastReceivedAt >= receivedBefore) {
          return { environments: 0, events: 0, kept: true };
        }
        const events = deleteEventsChunk.run(envId, maxEvents).changes;
        if (Number(countEnvironmentEvents.get(envId)) > 0) {
          return { environments: 0, events, kept: false };
        }
        deleteInvocations.run(envId);
        const environments = deleteEnvironment.run(envId).changes;
        return { environments, events, kept: false };
      },
    ),
  };
}

function sameInvocation(a: InvocationFacts, b: InvocationFacts): boolean {
  for (const column of INVOCATION_COLUMNS) if (a[column] !== b[column]) return false;
  return true;
}

const BAD_CURSOR = 'cursor is not one this collector issued; pass back nextCursor unchanged';

function decodeRowCursor(cursor: string): number {
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new BadQueryError(BAD_CURSOR);
  return Number(cursor);
}

function encodeTextCursor(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeTextCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{2,2000}$/.test(cursor)) throw new BadQueryError(BAD_CURSOR);
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only the exact encoding of a valid UTF-8 name is one this collector issued (`abc` or `42` decode to garbage).
  if (
    text.length === 0 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
    /[\uFFFD\u0000-\u001F\u007F]/.test(text) ||
    encodeTextCursor(text) !== cursor
  ) {
    throw new BadQueryError(BAD_CURSOR);
  }
  return text;
}

/** Options of the {@link eventsRepositoryPlugin}. */
export type EventsRepositoryPluginOptions = Record<never, never>;

const plugin: FastifyPluginAsync<EventsRepositoryPluginOptions> = async (app) => {
  app.decorate('repository', createSqliteRepository(app.db));
};

/** Decorates `app.repository` with the SQLite repository over `app.db`. */
export const eventsRepositoryPlugin = fp(plugin, {
  name: 'lifeline-events-repository',
  fastify: '5.x',
  dependencies: ['lifeline-db'],
});
