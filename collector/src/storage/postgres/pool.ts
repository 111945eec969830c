import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/postgres/', import.meta.url));

/**
 * Advisory lock keys (one namespace for the collector): migrations, the ingest ordering point, retention (one
 * bigint key each), and `ingestEnvironment`, the first half of the two-integer keys of the per-environment ingest
 * locks (PostgreSQL keeps one-bigint and two-integer keys apart).
 */
export const LOCKS = {
  migrate: 74_600_001,
  ingestOrder: 74_600_002,
  retention: 74_600_003,
  ingestEnvironment: 74_600,
} as const;

/** The channel collectors NOTIFY after each ingest commit (payload: the new head). */
export const EVENTS_CHANNEL = 'lifeline_events';

/** bigint and numeric columns as JavaScript numbers (cursors and counts stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** host:port/database of a URL, for messages (never the user or password). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || new URLSearchParams(parsed.search).get('host') || 'localhost';
    return `${host}:${parsed.port || 5432}${parsed.pathname || '/'}`;
  } catch {
    return 'the configured PostgreSQL URL';
  }
}

/** Client options for a URL: our type parsers, a bound on connecting (within Fastify's 10 s plugin start). */
export function clientConfig(url: string): pg.ClientConfig {
  return { connectionString: url, types, connectionTimeoutMillis: 5_000 };
}

/**
 * Opens a pool, checks that the server answers (a bad URL or an unreachable server is an Error naming
 * host:port/database, at start-up) and applies pending `migrations/postgres/*.sql`, one collector at a time.
 */
export async function openPool(url: string, max = 10): Promise<pg.Pool> {
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({ ...clientConfig(url), max, idleTimeoutMillis: 30_000 });
  } catch (error) {
    throw new Error(`invalid PostgreSQL URL: ${(error as Error).message}`);
  }
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(
      `cannot connect to PostgreSQL at ${describeUrl(url)}: ${(error as Error).message || String(error)}`,
    );
  }
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return pool;
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCKS.migrate]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "appliedAt" bigint NOT NULL)',
    );
    const applied = new Set(
      (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map(
        (row) => row.name,
      ),
    );
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((name) => name.endsWith('.sql'))
      .sort();
    for (const name of files) {
      if (applied.has(name)) continue;
      const sql = readFileSync(join(MIGRATIONS_DIR, name), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name, "appliedAt") VALUES ($1, $2)', [
          name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`PostgreSQL migration ${name} failed: ${(error as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCKS.migrate]).catch(() => {});
    client.release();
  }
}
