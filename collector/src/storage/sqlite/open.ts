import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/sqlite/', import.meta.url));

/**
 * Opens (creating if needed) the SQLite file, sets the pragmas and applies pending `migrations/sqlite/*.sql` in
 * order.
 *
 * Durability: WAL with `synchronous = FULL`, so the WAL is fsynced at every commit and an acknowledged batch
 * survives power loss, not only a process crash (NORMAL would survive a SIGKILL but may lose the last commits on
 * power loss). Measured on the target machine an fsync per commit costs less than the HTTP work of a batch, and
 * the ingest contract is "acknowledged means stored".
 */
export function openDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -32000');
    db.pragma('foreign_keys = OFF');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: SqliteDatabase): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, appliedAt INTEGER NOT NULL)',
  );
  const applied = new Set(
    db
      .prepare('SELECT name FROM schema_migrations')
      .pluck()
      .all()
      .map((name) => String(name)),
  );
  const record = db.prepare('INSERT INTO schema_migrations (name, appliedAt) VALUES (?, ?)');
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  for (const name of files) {
    if (applied.has(name)) continue;
    const sql = readFileSync(join(MIGRATIONS_DIR, name), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      record.run(name, Date.now());
    })();
  }
}
