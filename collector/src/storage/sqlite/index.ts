import type { Storage } from '../types.ts';
import { createSqliteEventLog } from './event-log.ts';
import { createSqliteIngestStore } from './ingest-store.ts';
import type { SqliteDatabase } from './open.ts';
import { openDatabase } from './open.ts';
import { createSqliteQueryStore } from './query-store.ts';
import { type ReadWorker, startReadWorker } from './read-worker-client.ts';
import { createSqliteRetentionStore } from './retention-store.ts';

/** The SQLite storage, with its connection for tools that need the file itself (tests, benches). */
export interface SqliteStorage extends Storage {
  readonly kind: 'sqlite';
  readonly db: SqliteDatabase;
  /** The read worker serving the read model (none for `:memory:`). */
  readonly readWorker: ReadWorker | undefined;
}

/**
 * The SQLite storage over one file (created and migrated if needed): one connection, one writer, and the heavy
 * reads on a read worker's own connection (an in-memory database has no second connection: it reads on this one).
 */
export function openSqliteStorage(path: string): SqliteStorage {
  const db = openDatabase(path);
  const reads = path === ':memory:' ? undefined : startReadWorker(path);
  return {
    kind: 'sqlite',
    db,
    readWorker: reads,
    ingest: createSqliteIngestStore(db),
    eventLog: createSqliteEventLog(db),
    query: createSqliteQueryStore(db, reads),
    retention: createSqliteRetentionStore(db),
    close: async () => {
      await reads?.close();
      db.close();
    },
  };
}
