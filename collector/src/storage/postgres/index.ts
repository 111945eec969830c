import type { Storage } from '../types.ts';
import { createPostgresEventLog } from './event-log.ts';
import { createPostgresIngestStore } from './ingest-store.ts';
import { openPool } from './pool.ts';
import { createPostgresQueryStore } from './query-store.ts';
import { createPostgresRetentionStore } from './retention-store.ts';

/**
 * The PostgreSQL storage: a pool (migrated at start-up, one collector at a time), the shared event log with its
 * LISTEN connection, and the same stores as SQLite. Several collectors may open the same database.
 */
export async function openPostgresStorage(url: string): Promise<Storage> {
  const pool = await openPool(url);
  const eventLog = createPostgresEventLog(pool, url);
  return {
    kind: 'postgres',
    ingest: createPostgresIngestStore(pool),
    eventLog,
    query: createPostgresQueryStore(pool),
    retention: createPostgresRetentionStore(pool),
    async close() {
      await eventLog.close();
      await pool.end();
    },
  };
}
