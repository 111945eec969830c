import {
  applyEvents,
  type EnvironmentFacts,
  type EnvironmentModel,
  type InvocationFacts,
  type LifelineEvent,
  requestIdsOf,
} from '@lifeline/protocol';
import type pg from 'pg';
import { InvalidBatchError, StorageUnavailableError } from '../../errors.ts';
import { ENVIRONMENT_COLUMNS, INVOCATION_COLUMNS, sameInvocation } from '../fact-rows.ts';
import type { EncodedEvent, IngestStore, InsertResult, StoredRow } from '../types.ts';
import { EVENTS_CHANNEL, LOCKS } from './pool.ts';

const DAY_MS = 86_400_000;

/** The partition day of an event: its own time's day, so a re-delivery falls on the same day. */
export function eventDay(time: number): number {
  return Math.floor(time / DAY_MS);
}

const quoted = (columns: readonly string[]) => columns.map((column) => `"${column}"`).join(', ');

/** A multi-row upsert of JSON rows, built once from the constant column lists (never from input). */
function upsertSql(table: string, columns: readonly string[], key: readonly string[]): string {
  const updates = columns
    .filter((column) => !key.includes(column))
    .map((column) => `"${column}" = EXCLUDED."${column}"`);
  return `INSERT INTO ${table} (${quoted(columns)})
    SELECT ${quoted(columns)} FROM json_populate_recordset(NULL::${table}, $1::json)
    ON CONFLICT (${quoted(key)}) DO UPDATE SET ${updates.join(', ')}`;
}

const INSERT_EVENTS = `INSERT INTO events (id, day, "envId", "receivedAt", body)
  SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::text[])
  ON CONFLICT (day, id) DO NOTHING
  RETURNING cursor, id`;
const UPSERT_ENVIRONMENTS = upsertSql('environments', ENVIRONMENT_COLUMNS, ['envId']);
const UPSERT_INVOCATIONS = upsertSql('invocations', INVOCATION_COLUMNS, ['envId', 'requestId']);

/**
 * The PostgreSQL ingest store. Every ingest transaction, on every collector, first takes one transaction-level
 * advisory lock (the ordering point) and holds it until its commit: cursors come from a sequence while the lock
 * is held, so cursors are assigned in commit order and a reader that has seen cursor N never later finds a
 * smaller one committed. The transaction writes the head (`log_head`) and NOTIFYs the new head; both take effect
 * at the commit. See ADR "PostgreSQL storage and the commit-ordered cursor".
 */
export function createPostgresIngestStore(pool: pg.Pool): IngestStore {
  /**
   * Stores several batches with one statement per step (insert, load, upsert): a group costs the same few round
   * trips whatever its size. An id that occurs in several batches of the group is stored for the first of them
   * (VALUES order), as one transaction per batch would. Throws when any row fails; the caller then retries each
   * batch on its own so only the bad one fails.
   */
  const insertGroup = async (
    client: pg.PoolClient,
    batches: readonly (readonly EncodedEvent[])[],
    receivedAt: number,
  ): Promise<InsertResult[]> => {
    const all = batches.flat();
    const inserted = await client.query<{ cursor: number; id: string }>(INSERT_EVENTS, [
      all.map(({ event }) => event.id),
      all.map(({ event }) => eventDay(event.time)),
      all.map(({ event }) => event.envId),
      all.map(() => receivedAt),
      all.map(({ body }) => body),
    ]);
    const firstOf = new Map<string, { encoded: EncodedEvent; batch: number }>();
    batches.forEach((events, batch) => {
      for (const encoded of events) {
        if (!firstOf.has(encoded.event.id)) firstOf.set(encoded.event.id, { encoded, batch });
      }
    });
    const stored: StoredRow[][] = batches.map(() => []);
    const byEnv = new Map<string, { events: LifelineEvent[]; lastCursor: number }>();
    for (const { cursor, id } of [...inserted.rows].sort((a, b) => a.cursor - b.cursor)) {
      const { encoded, batch } = firstOf.get(id) as { encoded: EncodedEvent; batch: number };
      const envId = encoded.event.envId;
      stored[batch]?.push({ cursor, receivedAt, envId, body: encoded.body });
      const entry = byEnv.get(envId);
      if (entry) {
        entry.events.push(encoded.event);
        entry.lastCursor = cursor;
      } else byEnv.set(envId, { events: [encoded.event], lastCursor: cursor });
    }
    if (byEnv.size > 0) await derive(client, byEnv, receivedAt);
    return batches.map((events, batch) => {
      const rows = stored[batch] ?? [];
      return { accepted: rows.length, duplicates: events.length - rows.length, stored: rows };
    });
  };

  const derive = async (
    client: pg.PoolClient,
    byEnv: Map<string, { events: LifelineEvent[]; lastCursor: number }>,
    receivedAt: number,
  ) => {
    const envIds = [...byEnv.keys()];
    const current = new Map<string, EnvironmentFacts>();
    for (const row of (
      await client.query<EnvironmentFacts>('SELECT * FROM environments WHERE "envId" = ANY($1)', [
        envIds,
      ])
    ).rows) {
      current.set(row.envId, row);
    }
    const wanted = new Map<string, Set<string>>();
    for (const [envId, { events }] of byEnv) {
      const ids = requestIdsOf(events);
      const last = current.get(envId)?.lastInvokeRequestId;
      if (last) ids.add(last);
      wanted.set(envId, ids);
    }
    const requestIds = [...new Set([...wanted.values()].flatMap((ids) => [...ids]))];
    const stored = new Map<string, Map<string, InvocationFacts>>();
    if (requestIds.length > 0) {
      const rows = await client.query<InvocationFacts>(
        'SELECT * FROM invocations WHERE "envId" = ANY($1) AND "requestId" = ANY($2)',
        [envIds, requestIds],
      );
      for (const row of rows.rows) {
        if (!wanted.get(row.envId)?.has(row.requestId)) continue;
        const map = stored.get(row.envId) ?? new Map<string, InvocationFacts>();
        map.set(row.requestId, row);
        stored.set(row.envId, map);
      }
    }
    const envRows: Record<string, unknown>[] = [];
    const invocationRows: InvocationFacts[] = [];
    for (const [envId, { events, lastCursor }] of byEnv) {
      const env = current.get(envId);
      const model: EnvironmentModel | undefined =
        env === undefined ? undefined : { env, invocations: stored.get(envId) ?? new Map() };
      const next = applyEvents(model, events, receivedAt);
      envRows.push({ ...next.env, lastCursor });
      for (const invocation of next.invocations.values()) {
        const before = model?.invocations.get(invocation.requestId);
        if (before === undefined || !sameInvocation(before, invocation)) {
          invocationRows.push(invocation);
        }
      }
    }
    await client.query(UPSERT_ENVIRONMENTS, [JSON.stringify(envRows)]);
    if (invocationRows.length > 0) {
      await client.query(UPSERT_INVOCATIONS, [JSON.stringify(invocationRows)]);
    }
  };

  return {
    // Ingest transactions queue on the ordering lock anyway; a second one waiting keeps the lock busy.
    parallelCommits: 2,
    async insertBatches(batches, receivedAt) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw new StorageUnavailableError(
          'the collector cannot reach its database; the batch was not stored, retry later',
          { cause: error },
        );
      }
      let broken = false;
      try {
        // BEGIN and the ordering lock in one round trip: the lock is held until COMMIT, so keep its span short.
        const begin = `BEGIN; SELECT pg_advisory_xact_lock(${LOCKS.ingestOrder})`;
        await client.query(begin);
        let results: (InsertResult | Error)[];
        try {
          results = await insertGroup(client, batches, receivedAt);
        } catch {
          // Some row of the group failed: start over with each batch on its own, so only the bad one fails.
          await client.query('ROLLBACK');
          await client.query(begin);
          results = [];
          for (const events of batches) {
            await client.query('SAVEPOINT batch');
            try {
              const [result] = await insertGroup(client, [events], receivedAt);
              await client.query('RELEASE SAVEPOINT batch');
              results.push(result as InsertResult);
            } catch (error) {
              await client.query('ROLLBACK TO SAVEPOINT batch');
              results.push(batchError(error));
            }
          }
        }
        let head = 0;
        for (const result of results) {
          const last =
            result instanceof Error ? undefined : result.stored[result.stored.length - 1];
          if (last !== undefined) head = Math.max(head, last.cursor);
        }
        if (head > 0) {
          await client.query(
            `WITH written AS (UPDATE log_head SET cursor = $1 RETURNING cursor)
             SELECT pg_notify('${EVENTS_CHANNEL}', cursor::text) FROM written`,
            [head],
          );
        }
        await client.query('COMMIT');
        return results;
      } catch (error) {
        broken = true;
        await client.query('ROLLBACK').catch(() => {});
        throw new StorageUnavailableError(
          'the database failed the transaction; the batch was not stored, retry later',
          { cause: error },
        );
      } finally {
        client.release(broken);
      }
    },
  };
}

/**
 * A batch PostgreSQL refused on its own. A data exception (SQLSTATE class 22, e.g. a NUL character in a text,
 * which SQLite stores but PostgreSQL cannot) is the sender's: a 400, nothing of the batch stored.
 */
function batchError(error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('22')) {
    return new InvalidBatchError(
      `the batch holds a value PostgreSQL cannot store (${(error as Error).message}); nothing of it was stored`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
