import type pg from 'pg';
import type { RetentionReport, RetentionStore } from '../types.ts';
import { eventDay } from './ingest-store.ts';
import { forgetInvokeRollups } from './invoke-rollups.ts';
import { LOCKS } from './pool.ts';

const DAY_MS = 86_400_000;
/** Day partitions kept ready around today (collector clock), so current events never land in the default one. */
const DAYS_AHEAD = 2;

const partitionName = (day: number) => `events_d${day}`;

const yieldToIngest = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * PostgreSQL retention, by the event clock in whole days: a day partition of the event log whose every event is
 * older than the retention limit is dropped whole (no row-by-row delete, no vacuum debt); rows in the default
 * partition and derived rows of environments last active before the limit are deleted in small transactions.
 * Each pass also creates the partitions of the next days. With several collectors on the database, one at a
 * time runs it (a session advisory lock; the others skip the pass). The size cap (`retentionMaxMb`) is SQLite's:
 * on PostgreSQL the database's size is the operator's.
 */
export function createPostgresRetentionStore(pool: pg.Pool): RetentionStore {
  const ensurePartitions = async (client: pg.PoolClient, today: number) => {
    for (let day = today - 1; day <= today + DAYS_AHEAD; day++) {
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF event_rows FOR VALUES FROM (${day}) TO (${day + 1})`,
        );
      } catch {
        // The default partition already holds events of that day (an extension clock ahead of the collector's):
        // they stay there and are pruned row by row.
      }
    }
  };

  return {
    async expire(pass) {
      const report: RetentionReport = { environments: 0, events: 0 };
      const client = await pool.connect();
      try {
        const locked = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock($1) AS ok',
          [LOCKS.retention],
        );
        if (!locked.rows[0]?.ok) return report;
        try {
          await ensurePartitions(client, eventDay(pass.now));
          const cutoff = pass.now - pass.retentionHours * 3_600_000;
          // A day goes once its last millisecond is older than the cutoff.
          const lastWholeDay = Math.floor(cutoff / DAY_MS) - 1;
          const partitions = await client.query<{ name: string }>(
            `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'event_rows'::regclass AND c.relname ~ '^events_d[0-9]+$'`,
          );
          for (const { name } of partitions.rows) {
            if (pass.signal?.aborted) return report;
            const day = Number(name.slice('events_d'.length));
            if (day > lastWholeDay) continue;
            const counted = await client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${name}`);
            await client.query(`DROP TABLE ${name}`);
            report.events += counted.rows[0]?.n ?? 0;
            await yieldToIngest();
          }
          for (let chunk = 0; chunk < pass.maxChunks; chunk++) {
            if (pass.signal?.aborted) return report;
            const events = await client.query(
              `DELETE FROM events_default WHERE ctid IN (
                 SELECT ctid FROM events_default WHERE day <= $1 LIMIT $2)`,
              [lastWholeDay, pass.chunkEvents],
            );
            report.events += events.rowCount ?? 0;
            await yieldToIngest();
            if ((events.rowCount ?? 0) < pass.chunkEvents) break;
          }
          for (let chunk = 0; chunk < pass.maxChunks; chunk++) {
            if (pass.signal?.aborted) return report;
            await client.query('BEGIN');
            const gone = await client.query<{
              envId: string;
              functionName: string | null;
              tenantId: string | null;
            }>(
              `DELETE FROM environments WHERE "envId" IN (
                 SELECT "envId" FROM environments WHERE "lastActivityAt" < $1 LIMIT 500)
               RETURNING "envId", "functionName", "tenantId"`,
              [cutoff],
            );
            const envIds = gone.rows.map((row) => row.envId);
            if (envIds.length > 0) {
              // Rollup rows are written only under the ordering lock (invoke-rollups.ts): taking it here too means
              // this pass and an ingest never hold rollup rows the other waits for.
              await client.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.ingestOrder]);
              await forgetInvokeRollups(client, gone.rows);
              await client.query('DELETE FROM invocations WHERE "envId" = ANY($1)', [envIds]);
            }
            await client.query('COMMIT');
            report.environments += envIds.length;
            await yieldToIngest();
            if (envIds.length < 500) break;
          }
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [LOCKS.retention]);
        }
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
      return report;
    },
  };
}
