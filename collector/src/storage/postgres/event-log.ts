import pg from 'pg';
import type { EventLog, StoredRow } from '../types.ts';
import { clientConfig, EVENTS_CHANNEL } from './pool.ts';

const RECONNECT_MS = 1000;

/**
 * The PostgreSQL event log, shared by every collector on the database. The head is `log_head`, written under the
 * ingest ordering lock, so every event up to it is committed. Wake-ups come from a dedicated LISTEN connection:
 * a NOTIFY carries at most the new head and never rows; the reader then reads the rows from the table. When the
 * LISTEN connection drops it reconnects and wakes the listeners once (commits made meanwhile are not missed).
 */
export function createPostgresEventLog(
  pool: pg.Pool,
  url: string,
): EventLog & { close(): Promise<void> } {
  const listeners = new Set<() => void>();
  let listener: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const wake = () => {
    for (const notify of listeners) notify();
  };

  const listen = async () => {
    if (closed || listener !== undefined) return;
    const client = new pg.Client(clientConfig(url));
    listener = client;
    const lost = () => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => {});
      if (!closed) {
        retry = setTimeout(() => void listen(), RECONNECT_MS);
        retry.unref();
      }
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL) wake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      wake();
    } catch {
      lost();
    }
  };

  return {
    singleWriter: false,
    async head() {
      const result = await pool.query<{ cursor: number }>('SELECT cursor FROM log_head');
      return result.rows[0]?.cursor ?? 0;
    },
    async eventsAfter(after, limit, upTo = Number.MAX_SAFE_INTEGER) {
      const result = await pool.query<StoredRow>(
        `SELECT cursor, "receivedAt", "envId", body FROM events
         WHERE cursor > $1 AND cursor <= LEAST($2::bigint, (SELECT cursor FROM log_head))
         ORDER BY cursor LIMIT $3`,
        [after, upTo, limit],
      );
      return result.rows;
    },
    onRemoteCommit(notify) {
      listeners.add(notify);
      void listen();
      return () => {
        listeners.delete(notify);
      };
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => {});
    },
  };
}
