import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../src/metrics.ts';
import { openDatabase } from '../src/plugins/db.ts';
import { createSqliteRepository, type EncodedEvent } from '../src/plugins/events-repository.ts';
import { runRetention, startRetention } from '../src/retention.ts';
import { lifecycle, testConfig } from './helper.ts';

const HOUR = 3_600_000;
const silentLogger = { info() {}, error() {} } as unknown as FastifyBaseLogger;

function setup() {
  const db = openDatabase(testConfig().dbPath);
  const repository = createSqliteRepository(db);
  const store = (envId: string, receivedAt: number, invokes = 3) =>
    repository.insertBatch(
      lifecycle(envId, { invokes }).map(
        (event): EncodedEvent => ({ event, body: JSON.stringify(event) }),
      ),
      receivedAt,
    );
  return { db, repository, store };
}

describe('runRetention', () => {
  it('deletes whole environments last heard from before the age limit, in small transactions', async () => {
    const { db, repository, store } = setup();
    try {
      const now = 100 * HOUR;
      store('env-old', now - 30 * HOUR, 40);
      store('env-new', now - 1 * HOUR);
      const report = await runRetention(
        repository,
        { retentionHours: 24, retentionMaxMb: 1024, chunkEvents: 7 },
        now,
      );
      expect(report.environments).toBe(1);
      expect(report.events).toBe(lifecycle('env-old', { invokes: 40 }).length);
      expect(repository.environmentDetail('env-old', now, HOUR)).toBeNull();
      expect(repository.environmentDetail('env-new', now, HOUR)?.events).toHaveLength(
        lifecycle('env-new', { invokes: 3 }).length,
      );
      expect(
        repository.listInvocations({ envId: 'env-old', limit: 10, now, lostAfterMs: HOUR }).items,
      ).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('deletes the least recently heard-from environments while the database is over its size', async () => {
    const { db, repository, store } = setup();
    try {
      for (let i = 0; i < 30; i++) store(`env-${i}`, 1000 + i, 30);
      const used = repository.usedBytes();
      const report = await runRetention(
        repository,
        { retentionHours: 1e6, retentionMaxMb: (used * 0.5) / (1024 * 1024) },
        2000,
      );
      expect(report.environments).toBeGreaterThan(0);
      expect(repository.usedBytes()).toBeLessThanOrEqual(used * 0.5);
      const remaining = repository
        .listEnvironments({ limit: 100, now: 2000, lostAfterMs: HOUR })
        .items.map((environment) => environment.envId);
      // The newest ones stay, the oldest went first.
      expect(remaining).toContain('env-29');
      expect(remaining).not.toContain('env-0');
    } finally {
      db.close();
    }
  });

  it('stops between transactions when aborted', async () => {
    const { db, repository, store } = setup();
    try {
      store('env-a', 0, 40);
      const controller = new AbortController();
      controller.abort();
      const report = await runRetention(
        repository,
        { retentionHours: 1, retentionMaxMb: 1024, signal: controller.signal },
        10 * HOUR,
      );
      expect(report).toEqual({ environments: 0, events: 0 });
    } finally {
      db.close();
    }
  });

  it('runs periodically, counts what it deleted, and stops', async () => {
    const { db, repository, store } = setup();
    try {
      store('env-ancient', 0, 2);
      const metrics = createMetrics();
      const retention = startRetention(
        repository,
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
      db.close();
    }
  });
});
