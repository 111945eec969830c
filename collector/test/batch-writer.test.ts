import type { LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { createBatchWriter } from '../src/batch-writer.ts';
import { openDatabase } from '../src/plugins/db.ts';
import {
  createSqliteRepository,
  type EncodedEvent,
  type InsertResult,
} from '../src/plugins/events-repository.ts';
import { lifecycle, testConfig } from './helper.ts';

function encode(events: LifelineEvent[]): EncodedEvent[] {
  return events.map((event) => ({ event, body: JSON.stringify(event) }));
}

function openRepository() {
  const db = openDatabase(testConfig().dbPath);
  return { db, repository: createSqliteRepository(db) };
}

describe('createBatchWriter', () => {
  it('commits batches written in the same turn together and publishes them in cursor order', async () => {
    const { db, repository } = openRepository();
    try {
      const published: InsertResult[] = [];
      const writer = createBatchWriter(repository, (result) => published.push(result));
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
      db.close();
    }
  });

  it('rolls back only the batch that fails inside a group', async () => {
    const { db, repository } = openRepository();
    try {
      const good = encode(lifecycle('env-ok', { invokes: 1 }));
      const bad = encode(lifecycle('env-bad', { invokes: 1 }));
      // A body SQLite cannot bind makes the second batch fail after its first rows were inserted.
      (bad[3] as { body: unknown }).body = { not: 'a string' };
      const writer = createBatchWriter(repository, () => {});
      const [ok, failed] = await Promise.allSettled([writer.write(good), writer.write(bad)]);
      expect(ok.status).toBe('fulfilled');
      expect(failed.status).toBe('rejected');
      expect(repository.counts()).toEqual({ events: good.length, environments: 1 });
      expect(repository.environmentDetail('env-bad', Date.now(), 60_000)).toBeNull();
    } finally {
      db.close();
    }
  });

  it('fails every batch of the group with a retryable storage error when the disk fills mid-group', async () => {
    const { db, repository } = openRepository();
    try {
      repository.insertBatch(encode(lifecycle('env-seed', { invokes: 1 })), Date.now());
      const seeded = repository.counts();
      const head = repository.head();
      // SQLITE_FULL rolls back the whole outer transaction, not only the failing batch's savepoint.
      db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 3}`);
      const published: InsertResult[] = [];
      const writer = createBatchWriter(repository, (result) => published.push(result));
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
      expect(repository.counts()).toEqual(seeded);
      expect(repository.head()).toBe(head);
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
