import type { EventLog, StoredRow } from '../types.ts';
import type { SqliteDatabase } from './open.ts';

/**
 * The SQLite event log. One process writes the file, so a local commit's rows are the next rows of the log and
 * the head is simply the highest cursor (AUTOINCREMENT: never reused, even after retention deleted the newest).
 */
export function createSqliteEventLog(db: SqliteDatabase): EventLog {
  const selectHead = db.prepare('SELECT COALESCE(MAX(cursor), 0) FROM events').pluck();
  const selectEventsAfter = db.prepare(
    'SELECT cursor, receivedAt, envId, body FROM events WHERE cursor > ? AND cursor <= ? ORDER BY cursor LIMIT ?',
  );
  return {
    singleWriter: true,
    head: async () => Number(selectHead.get()),
    eventsAfter: async (after, limit, upTo = Number.MAX_SAFE_INTEGER) =>
      selectEventsAfter.all(after, upTo, limit) as StoredRow[],
    onRemoteCommit: () => () => {},
  };
}
