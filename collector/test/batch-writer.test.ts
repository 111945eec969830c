import type { LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { createBatchWriter } from '../src/batch-writer.ts';
import { openStorage } from '../src/storage/index.ts';
import type { InsertResult } from '../src/storage/types.ts';
import { backends, encode, lifecycle, sqliteStores } from './helper.ts';

describe.each(backends())('createBatchWriter on %s', (_backend, dbPath) => {
  it('commits batches written in the same turn together and publishes them in cursor order', async () => {
    const storage = await openStorage(await dbPath());
    const { ingest } = storage;
    try {
      const published: InsertResult[] = [];
      const writer = createBatchWriter(ingest, (result) => published.push(result));
      const results = await Promise.all([
        writer.write(encode(lifecycle('env-w1', { invokes: 1 }))),
        writer.write(encode(lifecycle('env-w2', { invokes: 1 }))),
        writer.write(encode(lifecycle('env-w1', { invokes: 1 }))),
      ]);
      const n = lifecycle('env-w1', { invokes: 1 }).length;
      expect(results.map((result) => [result.accepted, result.duplicates])).toEqual([
        [n, 0],
        [n, 0],
        [0, n],
      ]);
      const cursors = published.flatMap((result) => result.stored.map((row) => row.cursor));
      expect(cursors).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
    } finally {
      await storage.close();
    }
  });

  it('rolls back only the batch that fails inside a group', async () => {
    const storage = await openStorage(await dbPath());
    const { ingest, query } = storage;
    try {
      const good = encode(lifecycle('env-ok', { invokes: 1 }));
      const bad = encode(lifecycle('env-bad', { invokes: 1 }));
      // A body that is no text makes the second batch fail after its first rows were handled.
      (bad[3] as { body: unknown }).body = { not: 'a string' };
      const writer = createBatchWriter(ingest, () => {});
      const [ok, failed] = await Promise.allSettled([writer.write(good), writer.write(bad)]);
      expect(ok.status).toBe('fulfilled');
      expect(failed.status).toBe('rejected');
      expect(await query.counts()).toEqual({ events: good.length, environments: 1 });
      expect(await query.environmentDetail('env-bad', Date.now(), 60_000)).toBeNull();
    } finally {
      await storage.close();
    }
  });
});

describe('createBatchWriter on SQLite', () => {
  it('fails every batch of the group with a retryable storage error when the disk fills mid-group', async () => {
    const { db, ingest, query, eventLog, store } = sqliteStores();
    try {
      await store(lifecycle('env-seed', { invokes: 1 }), Date.now());
      const seeded = await query.counts();
      const head = await eventLog.head();
      // SQLITE_FULL rolls back the whole outer transaction, not only the failing batch's savepoint.
      db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 3}`);
      const published: InsertResult[] = [];
      const writer = createBatchWriter(ingest, (result) => published.push(result));
      const small = (envId: string) => encode(lifecycle(envId, { invokes: 1 }).slice(0, 1));
      const big = encode(
        Array.from({ length: 40 }, (_, seq) => {
          const [first] = lifecycle('env-big', { invokes: 1 }) as [LifelineEvent];
          return {
            ...first,
            id: `big-${seq}`,
            seq,
            functionName: 'y'.repeat(250),
          } as LifelineEvent;
        }),
      );
      const outcomes = await Promise.allSettled([
        writer.write(small('env-s1')),
        writer.write(big),
        writer.write(small('env-s2')),
        writer.write(small('env-s3')),
      ]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as {
          code?: string;
          statusCode?: number;
        };
        expect(error.code).toBe('COLLECTOR_ERR_STORAGE_FULL');
        expect(error.statusCode).toBe(507);
      }
      expect(published).toEqual([]);
      expect(db.inTransaction).toBe(false);
      expect(await query.counts()).toEqual(seeded);
      expect(await eventLog.head()).toBe(head);
      // Once there is room again, the retried batches are stored and published.
      db.pragma('max_page_count = 1073741823');
      await Promise.all([writer.write(small('env-s1')), writer.write(small('env-s2'))]);
      expect(published.flatMap((result) => result.stored.map((row) => row.cursor))).toEqual([
        head + 1,
        head + 2,
      ]);
    } finally {
      db.close();
    }
  });
});
