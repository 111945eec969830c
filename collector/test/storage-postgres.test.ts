import type { LifelineEvent } from '@lifeline/protocol';
import pg from 'pg';
import { describe, expect, inject, it, vi } from 'vitest';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';
import { eventDay } from '../src/storage/postgres/ingest-store.ts';
import { LOCKS } from '../src/storage/postgres/pool.ts';
import type { InsertResult } from '../src/storage/types.ts';
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

  it('ingests interleaved and re-delivered batches of the same environments on two stores as one serial ingest would', async () => {
    const server = inject('pgUrl');
    expect(server).not.toBe('');
    const url = await freshPostgresDatabase(server);
    const serialUrl = await freshPostgresDatabase(server);
    const receivedAt = 1_700_000_100_000;
    const batches: LifelineEvent[][] = [];
    for (let env = 0; env < 12; env++) {
      const events = lifecycle(`env-par-${env}`, {
        invokes: 6,
        shutdownReason: env % 2 === 0 ? 'spindown' : undefined,
      });
      for (let i = 0; i < events.length; i += 4) batches.push(events.slice(i, i + 4));
    }
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    // Every batch twice (the re-delivery races its original), plus overlapping halves, in a shuffled order.
    const sends = [...batches, ...batches, ...batches.map((batch) => batch.slice(1))];
    for (let i = sends.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [sends[i], sends[j]] = [sends[j] as LifelineEvent[], sends[i] as LifelineEvent[]];
    }
    const [a, b] = await Promise.all([openPostgresStorage(url), openPostgresStorage(url)]);
    const serial = await openPostgresStorage(serialUrl);
    try {
      let writing = true;
      const seen = new Map<number, string>();
      const reader = (async () => {
        let after = 0;
        while (writing) {
          const head = await b.eventLog.head();
          for (const row of await a.eventLog.eventsAfter(after, 100_000, head)) {
            expect(row.cursor).toBeGreaterThan(after);
            seen.set(row.cursor, row.body);
          }
          after = head;
        }
        for (const row of await a.eventLog.eventsAfter(after, 100_000)) {
          seen.set(row.cursor, row.body);
        }
      })();
      // Groups of one to three batches, each group on one of the two stores, all at once.
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < sends.length; ) {
        const size = 1 + Math.floor(random() * 3);
        const group = sends.slice(i, i + size).map(encode);
        i += size;
        const store = random() < 0.5 ? a : b;
        calls.push(
          store.ingest.insertBatches(group, receivedAt).then((results) => {
            for (const result of results) expect(result).not.toBeInstanceOf(Error);
            return results;
          }),
        );
      }
      const results = (await Promise.all(calls)).flat() as InsertResult[];
      writing = false;
      await reader;
      for (const batch of batches) await serial.ingest.insertBatches([encode(batch)], receivedAt);

      const all = batches.flat();
      expect(results.reduce((sum, result) => sum + result.accepted, 0)).toBe(all.length);
      // Every event once, and the reader that only ever read up to the head it saw missed none: no cursor was
      // committed below a head already read.
      const stored = await a.eventLog.eventsAfter(0, 100_000);
      expect(stored.map((row) => JSON.parse(row.body).id).sort()).toEqual(
        all.map((event) => event.id).sort(),
      );
      expect([...seen.keys()].sort((x, y) => x - y)).toEqual(stored.map((row) => row.cursor));

      const facts = async (storage: typeof a) => {
        const out: Record<string, unknown> = {};
        for (let env = 0; env < 12; env++) {
          const detail = await storage.query.environmentDetail(
            `env-par-${env}`,
            receivedAt,
            60_000,
          );
          out[`env-par-${env}`] = {
            environment: detail?.environment,
            invocations: detail?.invocations,
          };
        }
        return out;
      };
      expect(await facts(a)).toEqual(await facts(serial));
      // lastCursor is the cursor of the environment's last stored event.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const mismatched = await admin.query(
          `SELECT e."envId" FROM environments e
           WHERE e."lastCursor" <> (SELECT max(cursor) FROM event_rows r WHERE r."envId" = e."envId")`,
        );
        expect(mismatched.rows).toEqual([]);
      } finally {
        await admin.end();
      }
    } finally {
      await Promise.all([a.close(), b.close(), serial.close()]);
    }
  });

  it('runs the transaction again when an event it found missing is stored before its insert', async () => {
    const server = inject('pgUrl');
    expect(server).not.toBe('');
    const url = await freshPostgresDatabase(server);
    const storage = await openPostgresStorage(url);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const events = lifecycle('env-race-id', { invokes: 2 });
      const taken = events[3] as LifelineEvent;
      // Hold the ordering lock, so the ingest derives and then waits right before its insert.
      await admin.query(`BEGIN; SELECT pg_advisory_xact_lock(${LOCKS.ingestOrder})`);
      const ingesting = storage.ingest.insertBatches([encode(events)], 1_700_000_100_000);
      await vi.waitFor(
        async () => {
          const waiting = await admin.query(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
          );
          expect(waiting.rows).toHaveLength(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      // Meanwhile one of its events is stored under another environment id (as another collector would).
      await admin.query(
        `INSERT INTO event_rows (id, day, "envId", "receivedAt", data) VALUES ($1, $2, 'env-other', 1, '{}')`,
        [taken.id, eventDay(taken.time)],
      );
      await admin.query('COMMIT');
      const [result] = await ingesting;
      expect(result).toMatchObject({ accepted: events.length - 1, duplicates: 1 });
      const detail = await storage.query.environmentDetail('env-race-id', Date.now(), 60_000);
      expect(detail?.environment.eventCount).toBe(events.length - 1);
      expect(detail?.events.map((stored) => stored.event.id)).not.toContain(taken.id);
    } finally {
      await admin.end();
      await storage.close();
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
