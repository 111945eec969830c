import {
  applyEvents,
  type EnvironmentModel,
  type InvocationFacts,
  type LifelineEvent,
  lastInvokeIdOf,
  requestIdsOf,
} from '@lifeline/protocol';
import { StorageUnavailableError, storageError } from '../../errors.ts';
import { encodeEventBody } from '../event-body.ts';
import {
  ENVIRONMENT_COLUMNS,
  type EnvironmentRow,
  INVOCATION_COLUMNS,
  sameInvocation,
} from '../fact-rows.ts';
import type { EncodedEvent, IngestStore, InsertResult, StoredRow } from '../types.ts';
import { createSqliteInvokeRollups } from './invoke-rollups.ts';
import type { SqliteDatabase } from './open.ts';

/** Built once from the constant column lists (never from input). */
function upsertSql(table: string, columns: readonly string[], key: readonly string[]): string {
  const updates = columns
    .filter((column) => !key.includes(column))
    .map((column) => `${column} = excluded.${column}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
}

/** The SQLite ingest store: one writer, every statement prepared once. */
export function createSqliteIngestStore(db: SqliteDatabase): IngestStore {
  const insertEvent = db.prepare(
    'INSERT OR IGNORE INTO events (id, envId, receivedAt, data) VALUES (?, ?, ?, ?)',
  );
  const selectEnvironment = db.prepare('SELECT * FROM environments WHERE envId = ?');
  const selectInvocation = db.prepare(
    'SELECT * FROM invocations WHERE envId = ? AND requestId = ?',
  );
  const upsertEnvironment = db.prepare(upsertSql('environments', ENVIRONMENT_COLUMNS, ['envId']));
  const upsertInvocation = db.prepare(
    upsertSql('invocations', INVOCATION_COLUMNS, ['envId', 'requestId']),
  );
  const rollups = createSqliteInvokeRollups(db);

  const loadModel = (envId: string, requestIds: Set<string>): EnvironmentModel | undefined => {
    const row = selectEnvironment.get(envId) as EnvironmentRow | undefined;
    if (row === undefined) return undefined;
    const lastInvoke = lastInvokeIdOf(row);
    if (lastInvoke !== null) requestIds.add(lastInvoke);
    const invocations = new Map<string, InvocationFacts>();
    for (const requestId of requestIds) {
      const found = selectInvocation.get(envId, requestId) as InvocationFacts | undefined;
      if (found !== undefined) invocations.set(requestId, found);
    }
    return { env: row, invocations };
  };

  const insertTransaction = db.transaction(
    (events: readonly EncodedEvent[], receivedAt: number): InsertResult => {
      const stored: StoredRow[] = [];
      const byEnv = new Map<string, { events: LifelineEvent[]; lastCursor: number }>();
      for (const { event, body } of events) {
        const data = encodeEventBody(event.id, event.envId, body);
        const info = insertEvent.run(event.id, event.envId, receivedAt, data);
        if (info.changes === 0) continue;
        const cursor = Number(info.lastInsertRowid);
        stored.push({ cursor, receivedAt, envId: event.envId, body });
        const entry = byEnv.get(event.envId);
        if (entry) {
          entry.events.push(event);
          entry.lastCursor = cursor;
        } else byEnv.set(event.envId, { events: [event], lastCursor: cursor });
      }
      for (const [envId, { events: envEvents, lastCursor }] of byEnv) {
        const model = loadModel(envId, requestIdsOf(envEvents));
        const next = applyEvents(model, envEvents, receivedAt);
        upsertEnvironment.run({ ...next.env, lastCursor });
        for (const invocation of next.invocations.values()) {
          const before = model?.invocations.get(invocation.requestId);
          if (before === undefined || !sameInvocation(before, invocation)) {
            upsertInvocation.run(invocation);
          }
        }
        rollups.record(model, next);
      }
      return { accepted: stored.length, duplicates: events.length - stored.length, stored };
    },
  );

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
    parallelCommits: 1,
    insertBatches: async (batches, receivedAt) => groupTransaction.immediate(batches, receivedAt),
  };
}
