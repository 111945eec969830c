import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One thing `node collector/dist/server.js` needs on the instance, and the command that produces it. */
export interface AppRequirement {
  /** Path relative to the app directory (the repository root). */
  readonly path: string;
  /** What it is, for messages. */
  readonly what: string;
  /** How to produce it, from the repository root; undefined when it is source and cannot be built. */
  readonly build?: 'collector' | 'web';
}

/** What the collector's app asset must hold for `node collector/dist/server.js` to serve ingest and the dashboard. */
export const APP_REQUIREMENTS: readonly AppRequirement[] = [
  { path: 'package-lock.json', what: 'the lockfile `npm ci` installs from' },
  { path: 'protocol/dist/index.js', what: 'the built wire format', build: 'collector' },
  { path: 'collector/dist/server.js', what: 'the built collector', build: 'collector' },
  { path: 'collector/migrations/sqlite', what: 'the SQLite migrations' },
  { path: 'collector/migrations/postgres', what: 'the PostgreSQL migrations' },
  { path: 'web/dist/index.html', what: 'the built dashboard', build: 'web' },
];

/** The requirements missing from `appDir` (a migrations folder without a `.sql` file counts as missing). */
const isMigrations = (path: string) => path.startsWith('collector/migrations/');

export function missingAppRequirements(appDir: string): AppRequirement[] {
  return APP_REQUIREMENTS.filter((requirement) => {
    const target = join(appDir, requirement.path);
    if (!isMigrations(requirement.path)) return !existsSync(target);
    try {
      return !readdirSync(target).some((name) => name.endsWith('.sql'));
    } catch {
      return true;
    }
  });
}
