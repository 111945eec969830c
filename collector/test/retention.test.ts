import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../src/metrics.ts';
import { runRetention, startRetention } from '../src/retention.ts';
import { openStorage } from '../src/storage/index.ts';
import type { InsertResult } from '../src/storage/types.ts';
import { backends, encode, lifecycle, sqliteStores } from './helper.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const silentLogger = { info() {}, error() {} } as unknown as FastifyBaseLogger;

function setup() {
  const stores = sqliteStores();
  const store = (envId: string, receivedAt: number, invokes = 3) =>
    stores.store(lifecycle(envId, { invokes }), receivedAt);
  return { ...stores, storeEvents: stores.store, store };
}

/**
 * Either backend's stores over a fresh database; `store` ingests a lifecycle whose event clock starts at its
 * receive time, so the SQLite rule (collector clock) and the PostgreSQL one (event clock, whole days) agree.
 */
async function storesOn(setting: string) {
  const storage = await openStorage(setting);
  const store = async (envId: string, receivedAt: number, invokes = 3) => {
    const [result] = await storage.ingest.insertBatches(
      [encode(lifecycle(envId, { invokes, startAt: receivedAt }))],
      receivedAt,
    );
    if (result === undefined || result instanceof Error) throw result ?? new Error('no result');
    return result;
  };
  return { storage, store };
}

describe.each(backends())('runRetention on %s', (_backend, dbPath) => {
  it('deletes whole environments last heard from before the age limit, in small transactions', async () => {
    const { storage, store } = await storesOn(await dbPath());
    const { query, retention } = storage;
    try {
      const now = Date.now();
      const old = now - 10 * DAY;
      await store('env-old', old, 40);
      await store('env-new', now - HOUR);
      const report = await runRetention(
        retention,
        { retentionHours: 168, retentionMaxMb: 1024, chunkEvents: 7 },
        now,
      );
      expect(report.environments).toBe(1);
      expect(report.events).toBe(lifecycle('env-old', { invokes: 40 }).length);
      expect(await query.environmentDetail('env-old', now, HOUR)).toBeNull();
      expect((await query.environmentDetail('env-new', now, HOUR))?.events).toHaveLength(
        lifecycle('env-new', { invokes: 3 }).length,
      );
      expect(
        (await query.listInvocations({ envId: 'env-old', limit: 10, now, lostAfterMs: HOUR }))
          .items,
      ).toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it('stops between transactions when aborted', async () => {
    const { storage, store } = await storesOn(await dbPath());
    const { retention } = storage;
    try {
      await store('env-a', 0, 40);
      const controller = new AbortController();
      controller.abort();
      const report = await runRetention(
        retention,
        { retentionHours: 1, retentionMaxMb: 1024, signal: controller.signal },
        10 * HOUR,
      );
      expect(report).toEqual({ environments: 0, events: 0 });
    } finally {
      await storage.close();
    }
  });

  it('runs periodically, counts what it deleted, and stops', async () => {
    const { storage, store } = await storesOn(await dbPath());
    const retentionStore = storage.retention;
    try {
      await store('env-ancient', 0, 2);
      const metrics = createMetrics();
      const retention = startRetention(
        retentionStore,
        { retentionHours: 1, retentionMaxMb: 1024, intervalMs: 10 },
        metrics,
        silentLogger,
      );
      await vi.waitFor(() => expect(metrics.retentionDeletedEnvironments).toBe(1), {
        timeout: 30_000,
        interval: 10,
      });
      await retention.stop();
      expect(metrics.retentionDeletedEvents).toBe(lifecycle('env-ancient', { invokes: 2 }).length);
    } finally {
      await storage.close();
    }
  });
});

describe('runRetention on SQLite', () => {
  it('deletes the least recently heard-from environments while the database is over its size', async () => {
    const { db, query, retention, store } = setup();
    try {
      for (let i = 0; i < 30; i++) await store(`env-${i}`, 1000 + i, 30);
      const used = await query.sizeBytes();
      const report = await runRetention(
        retention,
        { retentionHours: 1e6, retentionMaxMb: (used * 0.5) / (1024 * 1024) },
        2000,
      );
      expect(report.environments).toBeGreaterThan(0);
      expect(await query.sizeBytes()).toBeLessThanOrEqual(used * 0.5);
      const remaining = (
        await query.listEnvironments({ limit: 100, now: 2000, lostAfterMs: HOUR })
      ).items.map((environment) => environment.envId);
      // The newest ones stay, the oldest went first.
      expect(remaining).toContain('env-29');
      expect(remaining).not.toContain('env-0');
    } finally {
      db.close();
    }
  });

  it('keeps an environment and the event acknowledged for it while its deletion was under way', async () => {
    const { db, query, retention, storeEvents } = setup();
    try {
      const now = 1000 * HOUR;
      const events = lifecycle('env-late', { invokes: 3 });
      await storeEvents(events.slice(0, -2), now - 9 * 24 * HOUR);
      let late: InsertResult | undefined;
      // Arrives between two of retention's transactions, as an ingest would.
      setImmediate(() => {
        void storeEvents(events.slice(-2), now).then((result) => {
          late = result;
        });
      });
      await runRetention(
        retention,
        { retentionHours: 168, retentionMaxMb: 1024, chunkEvents: 3 },
        now,
      );
      expect(late?.accepted).toBe(2);
      const detail = await query.environmentDetail('env-late', now, HOUR);
      expect(detail).not.toBeNull();
      const kept = detail?.events.map((stored) => stored.cursor) ?? [];
      for (const row of late?.stored ?? []) expect(kept).toContain(row.cursor);
    } finally {
      db.close();
    }
  });

  it('keeps, in the size pass, an environment that received an event after the run began', async () => {
    const { db, query, retention, store, storeEvents } = setup();
    try {
      const now = 10 * HOUR;
      await store('env-busy', now - 2 * HOUR, 40);
      const used = await query.sizeBytes();
      const late = lifecycle('env-busy', { invokes: 41 })
        .slice(-2)
        .map((event) => ({ ...event, id: `late-${event.id}` }));
      setImmediate(() => void storeEvents(late, now + 1));
      await runRetention(
        retention,
        { retentionHours: 1e6, retentionMaxMb: (used * 0.1) / (1024 * 1024), chunkEvents: 5 },
        now,
      );
      const left = (await query.environmentDetail('env-busy', now, HOUR))?.events ?? [];
      expect(left.map((stored) => stored.event.id)).toEqual(
        expect.arrayContaining(late.map((event) => event.id)),
      );
    } finally {
      db.close();
    }
  });
});
