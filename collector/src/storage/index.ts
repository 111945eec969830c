import { openPostgresStorage } from './postgres/index.ts';
import { openSqliteStorage } from './sqlite/index.ts';
import type { Storage } from './types.ts';

export type * from './types.ts';

/** True for a database setting that names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(setting: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(setting);
}

/**
 * Opens the storage the database setting names: `postgres://…` or `postgresql://…` is a PostgreSQL server,
 * anything else the SQLite file at that path.
 */
export async function openStorage(setting: string): Promise<Storage> {
  if (isPostgresUrl(setting)) return openPostgresStorage(setting);
  return openSqliteStorage(setting);
}
