import type { RetentionReport, RetentionStore } from '../types.ts';
import { createSqliteInvokeRollups } from './invoke-rollups.ts';
import type { SqliteDatabase } from './open.ts';

const yieldToIngest = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * SQLite retention: whole environments go. First every environment whose last event was received more than
 * `retentionHours` ago (collector clock), then, while the database uses more than `retentionMaxMb`, the least
 * recently heard-from environments among those not heard from since `now`. Each transaction deletes at most
 * `chunkEvents` events and re-checks that the environment is still stale, and the pass yields to the event loop
 * between transactions: an event acknowledged meanwhile is never deleted (its environment is kept from then on,
 * without the chunks already gone). SQLite reuses the freed pages; the file does not shrink (no VACUUM, which
 * would block ingest).
 */
export function createSqliteRetentionStore(db: SqliteDatabase): RetentionStore {
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
  const hasEvents = db.prepare('SELECT 1 FROM events WHERE envId = ? LIMIT 1').pluck();
  const deleteInvocations = db.prepare('DELETE FROM invocations WHERE envId = ?');
  const rollups = createSqliteInvokeRollups(db);
  const deleteEnvironment = db.prepare('DELETE FROM environments WHERE envId = ?');
  const selectPageCount = db.prepare('PRAGMA page_count').pluck();
  const selectFreePages = db.prepare('PRAGMA freelist_count').pluck();
  const selectPageSize = db.prepare('PRAGMA page_size').pluck();

  const usedBytes = () =>
    (Number(selectPageCount.get()) - Number(selectFreePages.get())) * Number(selectPageSize.get());

  const deleteChunk = db.transaction((envId: string, maxEvents: number, receivedBefore: number) => {
    const lastReceivedAt = selectLastReceivedAt.get(envId) as number | undefined;
    if (lastReceivedAt !== undefined && lastReceivedAt >= receivedBefore) {
      return { environments: 0, events: 0, kept: true };
    }
    const events = deleteEventsChunk.run(envId, maxEvents).changes;
    if (hasEvents.get(envId) !== undefined) return { environments: 0, events, kept: false };
    rollups.forget(envId);
    deleteInvocations.run(envId);
    const environments = deleteEnvironment.run(envId).changes;
    return { environments, events, kept: false };
  });

  return {
    async expire(pass) {
      let chunksLeft = pass.maxChunks;
      const report: RetentionReport = { environments: 0, events: 0 };
      const deleteWhole = async (envId: string, receivedBefore: number) => {
        for (;;) {
          if (chunksLeft-- <= 0 || pass.signal?.aborted) return false;
          const deleted = deleteChunk.immediate(envId, pass.chunkEvents, receivedBefore);
          report.events += deleted.events;
          report.environments += deleted.environments;
          await yieldToIngest();
          if (deleted.kept || deleted.environments > 0 || deleted.events < pass.chunkEvents) {
            return true;
          }
        }
      };
      const cutoff = pass.now - pass.retentionHours * 3_600_000;
      for (;;) {
        const expired = selectReceivedBefore.all(cutoff, 100) as string[];
        if (expired.length === 0) break;
        for (const envId of expired) if (!(await deleteWhole(envId, cutoff))) return report;
      }
      // Only environments not heard from since the pass began: one receiving now is kept whole.
      const maxBytes = pass.retentionMaxMb * 1024 * 1024;
      while (usedBytes() > maxBytes) {
        const [oldest] = selectReceivedBefore.all(pass.now, 1) as string[];
        if (oldest === undefined) break;
        if (!(await deleteWhole(oldest, pass.now))) return report;
      }
      return report;
    },
  };
}
