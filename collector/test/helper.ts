import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { inject, onTestFinished } from 'vitest';
import { buildApp } from '../src/app.ts';
import { type CollectorConfig, defaultConfig } from '../src/config.ts';
import { type RunningCollector, startCollector } from '../src/start.ts';
import { createSqliteEventLog } from '../src/storage/sqlite/event-log.ts';
import { createSqliteIngestStore } from '../src/storage/sqlite/ingest-store.ts';
import { openDatabase, type SqliteDatabase } from '../src/storage/sqlite/open.ts';
import { createSqliteQueryStore } from '../src/storage/sqlite/query-store.ts';
import { createSqliteRetentionStore } from '../src/storage/sqlite/retention-store.ts';
import type {
  EncodedEvent,
  EventLog,
  IngestStore,
  InsertResult,
  QueryStore,
  RetentionStore,
} from '../src/storage/types.ts';

/** A temp directory removed when the test finishes. */
export function tempDir(prefix = 'lifeline-collector-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A test configuration: a fresh SQLite file, silent logs, no dashboard. */
export function testConfig(overrides: Partial<CollectorConfig> = {}): CollectorConfig {
  const dir = tempDir();
  return {
    ...defaultConfig(dir),
    port: 0,
    dbPath: join(dir, 'lifeline.db'),
    webDir: join(dir, 'no-web'),
    logLevel: 'silent',
    ...overrides,
  };
}

/**
 * The storage backends every storage and API test runs on: `[name, dbPath]`, where `dbPath()` gives a fresh
 * database setting for one test: a SQLite file in a temp directory, or a new database on the test PostgreSQL
 * server (test/pg-cluster.ts), dropped when the test finishes.
 */
export function backends(): [string, () => Promise<string>][] {
  const list: [string, () => Promise<string>][] = [
    ['sqlite', async () => join(tempDir(), 'lifeline.db')],
  ];
  const server = inject('pgUrl');
  if (server) list.push(['postgres', () => freshPostgresDatabase(server)]);
  return list;
}

let databases = 0;

/** A new empty database on the server of `serverUrl`, dropped (with its connections) when the test finishes. */
export async function freshPostgresDatabase(serverUrl: string): Promise<string> {
  const name = `lifeline_test_${process.pid}_${++databases}_${Date.now() % 100_000}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  onTestFinished(async () => {
    const dropper = new pg.Client({ connectionString: serverUrl });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A ready app (not listening) on a real SQLite file, closed when the test finishes. */
export async function build(overrides: Partial<CollectorConfig> = {}): Promise<FastifyInstance> {
  const app = buildApp(testConfig(overrides));
  onTestFinished(() => app.close());
  await app.ready();
  return app;
}

/** A listening collector on 127.0.0.1:0, closed when the test finishes. */
export async function listen(overrides: Partial<CollectorConfig> = {}): Promise<RunningCollector> {
  const collector = await startCollector(testConfig(overrides));
  onTestFinished(() => collector.close());
  return collector;
}

/** POSTs a batch through inject. */
export function ingest(app: FastifyInstance, events: unknown[], token?: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    payload: JSON.stringify({ events }),
  });
}

/** A lifecycle with a recognisable envId. */
export function lifecycle(
  envId: string,
  options: Partial<Parameters<typeof exampleLifecycle>[0]> = {},
): LifelineEvent[] {
  return exampleLifecycle({ envId, startAt: 1_700_000_000_000, ...options });
}

// Brings the plugins' FastifyInstance augmentations (storage, liveHub) into the test type-check.
export type { LiveHub, Storage } from '../src/index.ts';
export type { DbPluginOptions } from '../src/plugins/db.ts';

/** The SQLite stores over one file, with its connection. */
export interface SqliteStores {
  db: SqliteDatabase;
  ingest: IngestStore;
  eventLog: EventLog;
  query: QueryStore;
  retention: RetentionStore;
  /** Stores one batch in its own transaction. */
  store(events: readonly LifelineEvent[], receivedAt: number): Promise<InsertResult>;
}

/** The SQLite stores over a fresh file, with the connection (for tests that reach under the store). */
export function sqliteStores(path = testConfig().dbPath): SqliteStores {
  const db: SqliteDatabase = openDatabase(path);
  const ingest = createSqliteIngestStore(db);
  const stores: SqliteStores = {
    db,
    ingest,
    eventLog: createSqliteEventLog(db),
    query: createSqliteQueryStore(db),
    retention: createSqliteRetentionStore(db),
    async store(events, receivedAt) {
      const [result] = await ingest.insertBatches([encode(events)], receivedAt);
      if (result === undefined || result instanceof Error) throw result ?? new Error('no result');
      return result;
    },
  };
  return stores;
}

/** Events as the ingest route hands them to storage. */
export function encode(events: readonly LifelineEvent[]): EncodedEvent[] {
  return events.map((event) => ({ event, body: JSON.stringify(event) }));
}
