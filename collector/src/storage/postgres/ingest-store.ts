import {
  applyEvents,
  type EnvironmentFacts,
  type EnvironmentModel,
  type InvocationFacts,
  type LifelineEvent,
  requestIdsOf,
} from '@lifeline/protocol';
import pg from 'pg';
import { InvalidBatchError, StorageUnavailableError } from '../../errors.ts';
import { encodeEventBody } from '../event-body.ts';
import { ENVIRONMENT_COLUMNS, INVOCATION_COLUMNS, sameInvocation } from '../fact-rows.ts';
import { type RollupChange, rollupChange } from '../rollups.ts';
import type { EncodedEvent, IngestStore, InsertResult } from '../types.ts';
import { rollupCte, rollupParams } from './invoke-rollups.ts';
import { EVENTS_CHANNEL, LOCKS } from './pool.ts';

const DAY_MS = 86_400_000;

/** The partition day of an event: its own time's day, so a re-delivery falls on the same day. */
export function eventDay(time: number): number {
  return Math.floor(time / DAY_MS);
}

/**
 * The advisory lock key of an environment (FNV-1a, 32 bits): two environments may share a key, which only makes
 * their transactions take turns.
 */
export function environmentLockKey(envId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < envId.length; i++) {
    hash ^= envId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
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

/**
 * BEGIN and the environment locks in the order of `keys` (sorted by the caller) in one round trip. The keys are
 * 32-bit integers this module computed, so they are written into the text (a parameter would need a second,
 * extended-protocol statement).
 */
function beginWithLocks(keys: readonly number[]): string {
  const list = keys.map((key) => String(key | 0)).join(',');
  return `BEGIN; SELECT pg_advisory_xact_lock(${LOCKS.ingestEnvironment}, key)
    FROM unnest(ARRAY[${list}]::integer[]) WITH ORDINALITY AS keys(key, n) ORDER BY n`;
}
const STORED_IDS = `SELECT id FROM event_rows
  WHERE (day, id) IN (SELECT * FROM unnest($1::integer[], $2::text[]))`;
/**
 * The only statement under the ordering lock, one round trip: take the lock, insert the new events (cursors from
 * the sequence, in array order), set each environment's `lastCursor` to its last new event, add the transaction's
 * invoke rollups (shared rows, see invoke-rollups.ts), write the head and NOTIFY it. The head and the notification
 * take effect at the commit that follows.
 */
const INSERT_EVENTS = `WITH ordered AS MATERIALIZED (SELECT pg_advisory_xact_lock(${LOCKS.ingestOrder})),
  inserted AS (
    INSERT INTO event_rows (id, day, "envId", "receivedAt", data)
    SELECT rows.* FROM ordered,
      unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::text[]) AS rows
    ON CONFLICT (day, id) DO NOTHING
    RETURNING cursor, id, "envId"),
  last AS (SELECT "envId", max(cursor) AS cursor FROM inserted GROUP BY "envId"),
  envs AS (
    UPDATE environments SET "lastCursor" = last.cursor FROM last
    WHERE environments."envId" = last."envId"),
  head AS (
    UPDATE log_head SET cursor = top.cursor FROM (SELECT max(cursor) AS cursor FROM inserted) AS top
    WHERE top.cursor IS NOT NULL RETURNING log_head.cursor),
  ${rollupCte(7)}
  SELECT cursor, id, (SELECT pg_notify('${EVENTS_CHANNEL}', cursor::text) FROM head) AS notified,
    CASE WHEN (SELECT count(*) FROM inserted) <> $6 THEN lifeline_ingest_id_race() END AS raced
  FROM inserted ORDER BY cursor`;
const UPSERT_ENVIRONMENTS = upsertSql('environments', ENVIRONMENT_COLUMNS, ['envId']);
const UPSERT_INVOCATIONS = upsertSql('invocations', INVOCATION_COLUMNS, ['envId', 'requestId']);
const SELECT_ENVIRONMENTS = 'SELECT * FROM environments WHERE "envId" = ANY($1)';
const SELECT_INVOCATIONS =
  'SELECT * FROM invocations WHERE "envId" = ANY($1) AND "requestId" = ANY($2)';

/**
 * The ingest statements are prepared once per connection (a name per text) and then only bound and executed:
 * every ingest transaction runs the same six, and parsing and planning them anew each time cost the database
 * CPU that ingest throughput is bound by (see the collector README's PostgreSQL figures).
 */
const statementNames = new Map<string, string>();
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `lifeline_ingest_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

/** Attempts of one group when PostgreSQL reports a deadlock or a serialization failure, or ids raced. */
const ATTEMPTS = 5;
/** SQLSTATEs worth running the whole transaction again for. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * A query followed by COMMIT in one round trip: both are sent before one Sync, so the server commits as soon as the
 * query ends, without waiting for this process to read the result and answer (under load the event loop can take
 * milliseconds to get there, and the ordering lock is held until the commit). When the query fails the server
 * skips the COMMIT (everything up to the Sync) and the transaction stays open, failed: the caller rolls it back.
 * The results are the query's then the COMMIT's. Built on node-postgres's Query, whose extended-protocol steps
 * (parse, bind, describe, execute, sync) it keeps, adding parse, bind and execute of COMMIT before the sync.
 */
class QueryThenCommit extends (pg.Query as unknown as new (
  config: pg.QueryConfig,
  values: undefined,
  callback: (error: Error | null, results?: pg.QueryResult[]) => void,
) => object) {
  _getRows(connection: {
    execute(options: { portal: string; rows?: number }): void;
    parse(options: { text: string }): void;
    bind(options: object): void;
    sync(): void;
  }): void {
    connection.execute({ portal: '' });
    connection.parse({ text: 'COMMIT' });
    connection.bind({});
    connection.execute({ portal: '' });
    connection.sync();
  }
}

/** Runs `text` then COMMIT in one round trip (see {@link QueryThenCommit}); resolves with the query's rows. */
function queryThenCommit<Row>(
  client: pg.PoolClient,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const query = new QueryThenCommit(prepared(text, values), undefined, (error, results) => {
      if (error) reject(error);
      else resolve((results?.[0]?.rows ?? []) as Row[]);
    });
    client.query(query as unknown as pg.QueryConfig);
  });
}

const isRetryable = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
};

/**
 * The PostgreSQL ingest store. Collectors ingest in parallel; only the step that takes cursors is serialised.
 *
 * One transaction, in this order:
 * 1. Transaction-level advisory locks on the environments of the group (a 32-bit hash of each envId), in sorted
 *    key order. Transactions touching the same environment take turns; others run side by side. So the events
 *    of one environment are derived one transaction after the other, and a re-delivered batch racing its
 *    original waits for it.
 * 2. Which event ids are already stored (primary-key lookup). Under the environment locks this is exact: a
 *    transaction that stored one of them has committed before the locks were granted (advisory locks are
 *    released after the commit became visible), and READ COMMITTED reads it in the next statement.
 * 3. Load the facts, fold the new events with `applyEvents`, upsert environments and invocations. Row locks
 *    taken here belong to environments this transaction has locked, so they never wait on another ingest.
 * 4. The ordering lock (one key for the whole database), then one statement: insert the new events with cursors
 *    from the sequence, set each environment's `lastCursor`, write `log_head`, NOTIFY. The COMMIT is sent with
 *    it in the same round trip, so the lock is held for that statement and the commit only, never while this
 *    process gets round to answering. Cursors are taken and committed while the ordering lock is held, so cursor
 *    order is commit order: a reader that has seen cursor N never later finds a smaller one committed.
 *
 * Locks are always taken in the same order (environment keys ascending, the ordering lock last), so two ingest
 * transactions cannot deadlock; a deadlock or serialization failure (say, against an operator's statement) still
 * runs the transaction again. `lastCursor` is the cursor of the environment's last stored event: an environment's
 * transactions take turns and each takes its cursors later than the one before, so it only grows.
 *
 * If the step-4 insert finds an event already stored that step 2 had not (one id sent under two environment ids
 * by two collectors at once), the statement fails with SQLSTATE 40001 (before the COMMIT, which is then skipped)
 * and the transaction is run again rather than deriving an event twice. See ADR 9.
 */
export function createPostgresIngestStore(pool: pg.Pool): IngestStore {
  /**
   * Stores several batches with one statement per step: a group costs the same few round trips whatever its
   * size. An id that occurs in several batches of the group is stored for the first of them, as one transaction
   * per batch would. Throws when any row fails; the caller then retries each batch on its own so only the bad
   * one fails.
   */
  const insertGroup = async (
    client: pg.PoolClient,
    batches: readonly (readonly EncodedEvent[])[],
    receivedAt: number,
    commit: boolean,
  ): Promise<InsertResult[]> => {
    const all = batches.flat();
    const stored = await client.query<{ id: string }>(
      prepared(STORED_IDS, [
        all.map(({ event }) => eventDay(event.time)),
        all.map(({ event }) => event.id),
      ]),
    );
    const seen = new Set(stored.rows.map((row) => row.id));
    const fresh: { encoded: EncodedEvent; batch: number }[] = [];
    batches.forEach((events, batch) => {
      for (const encoded of events) {
        if (seen.has(encoded.event.id)) continue;
        seen.add(encoded.event.id);
        fresh.push({ encoded, batch });
      }
    });
    const results: InsertResult[] = batches.map((events) => ({
      accepted: 0,
      duplicates: events.length,
      stored: [],
    }));
    if (fresh.length === 0) {
      if (commit) await client.query('COMMIT');
      return results;
    }
    const byEnv = new Map<string, LifelineEvent[]>();
    for (const { encoded } of fresh) {
      const events = byEnv.get(encoded.event.envId);
      if (events) events.push(encoded.event);
      else byEnv.set(encoded.event.envId, [encoded.event]);
    }
    const rollups = await derive(client, byEnv, receivedAt);
    const values = [
      fresh.map(({ encoded }) => encoded.event.id),
      fresh.map(({ encoded }) => eventDay(encoded.event.time)),
      fresh.map(({ encoded }) => encoded.event.envId),
      fresh.map(() => receivedAt),
      fresh.map(({ encoded: { event, body } }) => encodeEventBody(event.id, event.envId, body)),
      fresh.length,
      ...rollupParams(rollups),
    ];
    const inserted = commit
      ? await queryThenCommit<{ cursor: number; id: string }>(client, INSERT_EVENTS, values)
      : (await client.query<{ cursor: number; id: string }>(prepared(INSERT_EVENTS, values))).rows;
    const cursorOf = new Map(inserted.map((row) => [row.id, row.cursor]));
    for (const { encoded, batch } of fresh) {
      const result = results[batch] as InsertResult;
      const cursor = cursorOf.get(encoded.event.id) as number;
      result.stored.push({ cursor, receivedAt, envId: encoded.event.envId, body: encoded.body });
      result.accepted += 1;
      result.duplicates -= 1;
    }
    return results;
  };

  /**
   * Folds the new events of each environment into its stored facts and upserts what changed; returns the rollup
   * changes, written later under the ordering lock.
   */
  const derive = async (
    client: pg.PoolClient,
    byEnv: Map<string, LifelineEvent[]>,
    receivedAt: number,
  ): Promise<RollupChange[]> => {
    const envIds = [...byEnv.keys()];
    const current = new Map<string, EnvironmentFacts & { lastCursor: number }>();
    for (const row of (
      await client.query<EnvironmentFacts & { lastCursor: number }>(
        prepared(SELECT_ENVIRONMENTS, [envIds]),
      )
    ).rows) {
      current.set(row.envId, row);
    }
    const wanted = new Map<string, Set<string>>();
    for (const [envId, events] of byEnv) {
      const ids = requestIdsOf(events);
      const last = current.get(envId)?.lastInvokeRequestId;
      if (last) ids.add(last);
      wanted.set(envId, ids);
    }
    const requestIds = [...new Set([...wanted.values()].flatMap((ids) => [...ids]))];
    const stored = new Map<string, Map<string, InvocationFacts>>();
    if (requestIds.length > 0) {
      const rows = await client.query<InvocationFacts>(
        prepared(SELECT_INVOCATIONS, [envIds, requestIds]),
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
    const rollupChanges: RollupChange[] = [];
    for (const [envId, events] of byEnv) {
      const env = current.get(envId);
      const model: EnvironmentModel | undefined =
        env === undefined ? undefined : { env, invocations: stored.get(envId) ?? new Map() };
      const next = applyEvents(model, events, receivedAt);
      rollupChanges.push(rollupChange(model, next));
      // The insert under the ordering lock sets lastCursor to the new events' last cursor.
      envRows.push({ ...next.env, lastCursor: env?.lastCursor ?? 0 });
      for (const invocation of next.invocations.values()) {
        const before = model?.invocations.get(invocation.requestId);
        if (before === undefined || !sameInvocation(before, invocation)) {
          invocationRows.push(invocation);
        }
      }
    }
    await client.query(prepared(UPSERT_ENVIRONMENTS, [JSON.stringify(envRows)]));
    if (invocationRows.length > 0) {
      await client.query(prepared(UPSERT_INVOCATIONS, [JSON.stringify(invocationRows)]));
    }
    return rollupChanges;
  };

  /** One attempt: the whole group, or (when a row fails) each batch in its own savepoint. */
  const transaction = async (
    client: pg.PoolClient,
    batches: readonly (readonly EncodedEvent[])[],
    receivedAt: number,
  ): Promise<(InsertResult | Error)[]> => {
    const keys = [
      ...new Set(
        batches.flatMap((events) => events.map(({ event }) => environmentLockKey(event.envId))),
      ),
    ].sort((a, b) => a - b);
    const begin = () => client.query(beginWithLocks(keys));
    await begin();
    let results: (InsertResult | Error)[];
    try {
      // Commits too: the whole group went in.
      return await insertGroup(client, batches, receivedAt, true);
    } catch (error) {
      if (isRetryable(error)) throw error;
      // Some row of the group failed: start over with each batch on its own, so only the bad one fails.
      await client.query('ROLLBACK');
      await begin();
      results = [];
      for (const events of batches) {
        await client.query('SAVEPOINT batch');
        try {
          const [result] = await insertGroup(client, [events], receivedAt, false);
          await client.query('RELEASE SAVEPOINT batch');
          results.push(result as InsertResult);
        } catch (error) {
          if (isRetryable(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT batch');
          results.push(batchError(error));
        }
      }
    }
    await client.query('COMMIT');
    return results;
  };

  return {
    // Transactions of different environments run side by side up to the ordering statement.
    parallelCommits: 4,
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
        for (let attempt = 1; ; attempt++) {
          try {
            return await transaction(client, batches, receivedAt);
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {});
            if (!isRetryable(error) || attempt >= ATTEMPTS) throw error;
          }
        }
      } catch (error) {
        broken = true;
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
