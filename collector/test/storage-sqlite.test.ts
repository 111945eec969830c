import { readdirSync } from 'node:fs';
import { ENVIRONMENT_STATES } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/storage/sqlite/open.ts';
import { lifecycle, sqliteStores, testConfig } from './helper.ts';

const LOST_AFTER = 60_000;
const NOW = 10_000_000;

describe('SQLite storage', () => {
  it('filters by state in SQL exactly as the state rules compute it', async () => {
    const { db, query, store: storeEvents } = sqliteStores();
    try {
      const full = lifecycle('x', { invokes: 2, shutdownReason: 'spindown' });
      const store = (envId: string, count: number, receivedAt: number) =>
        storeEvents(
          lifecycle(envId, { invokes: 2, shutdownReason: 'spindown' }).slice(0, count),
          receivedAt,
        );
      await store('env-initializing', 1, NOW);
      await store('env-idle', 4, NOW);
      await store('env-active', 5, NOW);
      await store('env-shutting-down', full.length - 1, NOW - 1000);
      await store('env-ended-by-budget', full.length - 1, NOW - 5000);
      await store('env-ended', full.length, NOW);
      await store('env-lost', 5, NOW - LOST_AFTER - 1);
      const all = await query.listEnvironments({ limit: 100, now: NOW, lostAfterMs: LOST_AFTER });
      const byState = new Map<string, string[]>();
      for (const environment of all.items) {
        byState.set(environment.state, [
          ...(byState.get(environment.state) ?? []),
          environment.envId,
        ]);
      }
      expect(Object.fromEntries(byState)).toEqual({
        initializing: ['env-initializing'],
        idle: ['env-idle'],
        active: ['env-active'],
        'shutting-down': ['env-shutting-down'],
        ended: ['env-ended', 'env-ended-by-budget'],
        lost: ['env-lost'],
      });
      for (const state of ENVIRONMENT_STATES) {
        const filtered = await query.listEnvironments({
          state,
          limit: 100,
          now: NOW,
          lostAfterMs: LOST_AFTER,
        });
        expect(
          filtered.items.map((environment) => environment.envId),
          state,
        ).toEqual(byState.get(state) ?? []);
      }
      const summary = await query.listFunctions({ limit: 10, now: NOW, lostAfterMs: LOST_AFTER });
      expect(summary.items[0]).toMatchObject({ environments: 7, alive: 4 });
    } finally {
      db.close();
    }
  });

  it('applies migrations once when the same file is opened again', () => {
    const path = testConfig().dbPath;
    openDatabase(path).close();
    const db = openDatabase(path);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      const applied = db.prepare('SELECT name FROM schema_migrations').pluck().all();
      const files = readdirSync(new URL('../migrations/sqlite/', import.meta.url))
        .filter((name) => name.endsWith('.sql'))
        .sort();
      expect(files.slice(0, 3)).toEqual([
        '001-init.sql',
        '002-function-cursor.sql',
        '003-idle-on-one-clock.sql',
      ]);
      expect(applied).toEqual(files);
    } finally {
      db.close();
    }
  });

  it('moves idle time of an existing database to the extension clock when it is opened', async () => {
    const path = testConfig().dbPath;
    const events = lifecycle('env-old', { invokes: 2, gapMs: 700, shutdownReason: 'spindown' });
    const first = sqliteStores(path);
    await first.store(events, 1);
    // As migration 002 left it: the end of the last invoke on the platform clock, 003 not applied yet.
    first.db.prepare("UPDATE environments SET lastInvokeEndAt = 5 WHERE envId = 'env-old'").run();
    first.db
      .prepare("DELETE FROM schema_migrations WHERE name = '003-idle-on-one-clock.sql'")
      .run();
    first.db.close();
    const { db, query } = sqliteStores(path);
    try {
      const shutdown = (
        await query.listShutdowns({
          limit: 10,
          now: 2,
          lostAfterMs: 60_000,
        })
      ).items[0];
      expect(shutdown?.idleMs).toBe(698.5);
    } finally {
      db.close();
    }
  });
});
