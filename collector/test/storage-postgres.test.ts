import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';
import { encode, freshPostgresDatabase, lifecycle } from './helper.ts';

const DAY = 86_400_000;

describe('PostgreSQL storage', () => {
  it('drops whole day partitions past retention and keeps the recent days', async () => {
    const server = inject('pgUrl');
    expect(server, 'PostgreSQL is needed for this test: apt-get install postgresql').not.toBe('');
    const url = await freshPostgresDatabase(server);
    const storage = await openPostgresStorage(url);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const now = Date.now();
      const old = now - 10 * DAY;
      const pass = { retentionHours: 24 * 7, retentionMaxMb: 1, chunkEvents: 100, maxChunks: 100 };
      // The partitions of ten days ago, as a pass run then made them.
      await storage.retention.expire({ ...pass, now: old });
      const oldEvents = lifecycle('env-old', {
        startAt: old,
        invokes: 2,
        shutdownReason: 'spindown',
      });
      const newEvents = lifecycle('env-new', { startAt: now, invokes: 2 });
      const skewed = lifecycle('env-skewed', { startAt: old - 40 * DAY, invokes: 1 });
      for (const events of [oldEvents, newEvents, skewed]) {
        const [result] = await storage.ingest.insertBatches([encode(events)], now);
        expect(result).toMatchObject({ accepted: events.length });
      }
      const partitions = async () =>
        (
          await admin.query<{ name: string }>(
            `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'event_rows'::regclass ORDER BY 1`,
          )
        ).rows.map((row) => row.name);
      const oldDay = `events_d${Math.floor(old / DAY)}`;
      expect(await partitions()).toContain(oldDay);

      const report = await storage.retention.expire({ ...pass, now });
      expect(report.events).toBe(oldEvents.length + skewed.length);
      expect(report.environments).toBe(2);
      expect(await partitions()).not.toContain(oldDay);
      expect(await partitions()).toContain(`events_d${Math.floor(now / DAY) + 2}`);
      expect(await storage.query.counts()).toEqual({ events: newEvents.length, environments: 1 });
      // The head and the live log are untouched by the drop: cursors go on from where they were.
      const head = await storage.eventLog.head();
      const rest = await storage.eventLog.eventsAfter(0, 1000);
      expect(rest.map((row) => row.envId)).toEqual(newEvents.map(() => 'env-new'));
      expect(head).toBe(oldEvents.length + newEvents.length + skewed.length);
    } finally {
      await admin.end();
      await storage.close();
    }
  });

  it('assigns cursors in commit order across concurrent ingest transactions', async () => {
    const server = inject('pgUrl');
    expect(server).not.toBe('');
    const url = await freshPostgresDatabase(server);
    const [a, b] = await Promise.all([openPostgresStorage(url), openPostgresStorage(url)]);
    try {
      const writes = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).ingest.insertBatches(
          [encode(lifecycle(`env-c-${i}`, { invokes: 3 }))],
          Date.now(),
        ),
      );
      // A reader polling while the writers race never sees the head pass a cursor that is not yet readable.
      let reading = true;
      const reader = (async () => {
        let seen = 0;
        while (reading) {
          const head = await a.eventLog.head();
          const rows = await a.eventLog.eventsAfter(seen, 100_000, head);
          if (rows.length > 0) {
            const cursors = rows.map((row) => row.cursor);
            expect(Math.min(...cursors)).toBeGreaterThan(seen);
            seen = head;
          }
        }
        return seen;
      })();
      await Promise.all(writes);
      reading = false;
      await reader;
      const all = await b.eventLog.eventsAfter(0, 100_000);
      const cursors = all.map((row) => row.cursor);
      expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
      expect(all).toHaveLength(20 * lifecycle('x', { invokes: 3 }).length);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails only the bad batch of a group and commits the others', async () => {
    const server = inject('pgUrl');
    expect(server).not.toBe('');
    const storage = await openPostgresStorage(await freshPostgresDatabase(server));
    try {
      const good = encode(lifecycle('env-good', { invokes: 1 }));
      const bad = encode(lifecycle('env-bad', { invokes: 1 }));
      // PostgreSQL text cannot hold a NUL character: the bad batch fails inside the group.
      (bad[2] as { body: string }).body = `nul ${String.fromCharCode(0)} here`;
      const also = encode(lifecycle('env-also', { invokes: 1 }));
      const [first, second, third] = await storage.ingest.insertBatches(
        [good, bad, also],
        Date.now(),
      );
      expect(first).toMatchObject({ accepted: good.length, duplicates: 0 });
      expect(second).toMatchObject({ statusCode: 400, code: 'COLLECTOR_ERR_INVALID_BATCH' });
      expect(third).toMatchObject({ accepted: also.length, duplicates: 0 });
      expect(await storage.query.counts()).toEqual({
        events: good.length + also.length,
        environments: 2,
      });
      const again = await storage.ingest.insertBatches([good, also], Date.now());
      expect(again).toEqual([
        { accepted: 0, duplicates: good.length, stored: [] },
        { accepted: 0, duplicates: also.length, stored: [] },
      ]);
    } finally {
      await storage.close();
    }
  });
});
