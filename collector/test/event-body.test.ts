import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { decodeEventBody, decodeEventBodySql, encodeEventBody } from '../src/storage/event-body.ts';
import { openStorage } from '../src/storage/index.ts';
import { eventDay } from '../src/storage/postgres/ingest-store.ts';
import { openDatabase } from '../src/storage/sqlite/open.ts';
import { backends, encode, freshPostgresDatabase, lifecycle, tempDir } from './helper.ts';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));
const migration = (path: string) => readFileSync(join(MIGRATIONS, path), 'utf8');

/** Texts the codec must give back byte for byte, beside every event of a lifecycle. */
const unusual = [
  { id: 'e"1', envId: 'env', body: '{"id":"e\\"1","envId":"env","seq":0}' },
  { id: 'e-2', envId: 'env', body: '{"envId":"env","id":"e-2","seq":1,"time":2}' },
  {
    id: 'e-3',
    envId: 'env',
    body: '{"id":"e-3","envId":"env","note":"raw \u0003 control","seq":2}',
  },
  { id: 'e-4', envId: 'é', body: '{"id":"e-4","envId":"é","x":"\u2028 ☃ ,\\"seq\\":"}' },
];

/** Old rows: the event text in `body`, before migration 007 (SQLite) / 003 (PostgreSQL). */
const oldEvents = lifecycle('env-before', { invokes: 2, shutdownReason: 'spindown' });
const newEvents = lifecycle('env-after', { invokes: 2, shutdownReason: 'timeout' });

describe('the stored event text', () => {
  it('decodes to the original text byte for byte, and is about a third of it for Lambda events', () => {
    const events = lifecycle('3f2c9a4e-hist-4e00-8000-000000000042', { invokes: 5 });
    let stored = 0;
    let original = 0;
    for (const { event, body } of encode(events)) {
      const data = encodeEventBody(event.id, event.envId, body);
      expect(decodeEventBody(event.id, event.envId, data)).toBe(body);
      stored += data.length;
      original += body.length;
    }
    expect(stored / original).toBeLessThan(0.5);
    for (const { id, envId, body } of unusual) {
      expect(decodeEventBody(id, envId, encodeEventBody(id, envId, body))).toBe(body);
    }
  });

  it('is decoded by the migrations with the expression generated from the phrase list', () => {
    expect(migration('sqlite/007-compact-event-body.sql')).toContain(
      decodeEventBodySql('data', 'id', 'envId', (code) => `char(${code})`),
    );
    expect(migration('postgres/003-compact-event-body.sql')).toContain(
      decodeEventBodySql('data', 'id', '"envId"', (code) => `chr(${code})`),
    );
  });

  it.each(backends())(
    'reads back what was ingested byte for byte (%s)',
    async (_backend, dbPath) => {
      const storage = await openStorage(await dbPath());
      try {
        const all = encode([...newEvents, ...lifecycle('env-2', { invokes: 3 })]);
        const weird = unusual.map(({ id, body }, i) => ({
          event: { ...(newEvents[0] as (typeof newEvents)[0]), id: `${id}-${i}`, envId: 'env-odd' },
          body: body
            .replace(`"id":"${id}"`, `"id":"${id}-${i}"`)
            .replace(/"envId":"[^"]*"/, '"envId":"env-odd"'),
        }));
        await storage.ingest.insertBatches([all, weird], Date.now());
        const rows = await storage.eventLog.eventsAfter(0, 1000);
        expect(rows.map((row) => row.body)).toEqual([...all, ...weird].map(({ body }) => body));
        const detail = await storage.query.environmentDetail('env-after', Date.now(), 60_000);
        expect(detail?.events.map((stored) => stored.event)).toEqual(newEvents);
      } finally {
        await storage.close();
      }
    },
  );
});

describe('migrating a database with events stored before the compact text', () => {
  it('keeps every SQLite event readable and stores new ones compact', async () => {
    const path = join(tempDir(), 'old.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, appliedAt INTEGER NOT NULL)');
    for (const name of [
      '001-init.sql',
      '002-function-cursor.sql',
      '003-idle-on-one-clock.sql',
      '004-storage-split.sql',
      '005-read-indexes.sql',
      '006-lifecycle-facts.sql',
    ]) {
      old.exec(migration(`sqlite/${name}`));
      old.prepare('INSERT INTO schema_migrations VALUES (?, 0)').run(name);
    }
    const insert = old.prepare(
      'INSERT INTO events (id, envId, receivedAt, body) VALUES (?, ?, 1, ?)',
    );
    for (const { event, body } of encode(oldEvents)) insert.run(event.id, event.envId, body);
    old.close();

    const storage = await openStorage(path);
    try {
      await storage.ingest.insertBatches([encode(newEvents), encode(oldEvents)], Date.now());
      const rows = await storage.eventLog.eventsAfter(0, 1000);
      expect(rows.map((row) => row.body)).toEqual(
        encode([...oldEvents, ...newEvents]).map(({ body }) => body),
      );
    } finally {
      await storage.close();
    }
    const db = openDatabase(path);
    try {
      const lengths = db
        .prepare(
          'SELECT envId, SUM(length(data)) AS data, SUM(length(body)) AS body FROM events GROUP BY envId',
        )
        .all() as { envId: string; data: number; body: number }[];
      const of = (envId: string) => lengths.find((row) => row.envId === envId);
      expect(of('env-before')?.data).toBe(of('env-before')?.body);
      expect(of('env-after')?.data).toBeLessThan((of('env-after')?.body ?? 0) / 2);
    } finally {
      db.close();
    }
  });

  it('keeps every PostgreSQL event readable and stores new ones compact', async () => {
    const server = inject('pgUrl');
    expect(server, 'PostgreSQL is needed for this test: apt-get install postgresql').not.toBe('');
    const url = await freshPostgresDatabase(server);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        'CREATE TABLE schema_migrations (name text PRIMARY KEY, "appliedAt" bigint NOT NULL)',
      );
      for (const name of ['001-init.sql', '002-lifecycle-facts.sql']) {
        await admin.query(migration(`postgres/${name}`));
        await admin.query('INSERT INTO schema_migrations VALUES ($1, 0)', [name]);
      }
      for (const { event, body } of encode(oldEvents)) {
        await admin.query(
          'INSERT INTO events (id, day, "envId", "receivedAt", body) VALUES ($1, $2, $3, 1, $4)',
          [event.id, eventDay(event.time), event.envId, body],
        );
      }
      await admin.query('UPDATE log_head SET cursor = (SELECT max(cursor) FROM events)');

      const storage = await openStorage(url);
      try {
        await storage.ingest.insertBatches([encode(newEvents), encode(oldEvents)], Date.now());
        const rows = await storage.eventLog.eventsAfter(0, 1000);
        expect(rows.map((row) => row.body)).toEqual(
          encode([...oldEvents, ...newEvents]).map(({ body }) => body),
        );
      } finally {
        await storage.close();
      }
      const lengths = await admin.query<{ envId: string; data: number; body: number }>(
        `SELECT r."envId", SUM(length(r.data)) AS data, SUM(length(e.body)) AS body
         FROM event_rows r JOIN events e USING (day, id) GROUP BY r."envId"`,
      );
      const of = (envId: string) => lengths.rows.find((row) => row.envId === envId);
      expect(Number(of('env-before')?.data)).toBe(Number(of('env-before')?.body));
      expect(Number(of('env-after')?.data)).toBeLessThan(Number(of('env-after')?.body ?? 0) / 2);
    } finally {
      await admin.end();
    }
  });
});
