import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_REQUIREMENTS, missingAppRequirements } from '../../lib/app-dir.ts';
import { fixtureAppDir, removeTempDirs, tempDir, writeTree } from '../helpers/temp.ts';

afterAll(removeTempDirs);

const paths = (dir: string) => missingAppRequirements(dir).map((m) => m.path);

describe('missingAppRequirements', () => {
  it('finds nothing missing when the repository is built', () => {
    expect(paths(fixtureAppDir())).toEqual([]);
  });

  it('lists everything the server needs when the directory is empty', () => {
    expect(paths(tempDir())).toEqual(APP_REQUIREMENTS.map((r) => r.path));
    expect(paths(tempDir())).toEqual([
      'package-lock.json',
      'protocol/dist/index.js',
      'collector/dist/server.js',
      'collector/migrations/sqlite',
      'collector/migrations/postgres',
      'web/dist/index.html',
    ]);
  });

  it.each([
    ['protocol/dist', 'protocol/dist/index.js', 'collector'],
    ['web/dist', 'web/dist/index.html', 'web'],
    ['collector/dist', 'collector/dist/server.js', 'collector'],
  ])('names %s and how to build it when it is missing', (folder, path, build) => {
    const dir = fixtureAppDir();
    rmSync(join(dir, folder), { recursive: true });
    const missing = missingAppRequirements(dir);
    expect(missing.map((m) => m.path)).toEqual([path]);
    expect(missing[0]?.build).toBe(build);
  });

  it('counts a migrations folder without .sql files as missing, and cannot build it', () => {
    const dir = fixtureAppDir();
    rmSync(join(dir, 'collector', 'migrations', 'sqlite', '001-init.sql'));
    writeTree(dir, { 'collector/migrations/sqlite/README.md': 'notes\n' });
    const missing = missingAppRequirements(dir);
    expect(missing.map((m) => m.path)).toEqual(['collector/migrations/sqlite']);
    expect(missing[0]?.build).toBeUndefined();
  });

  it('counts a file where the migrations folder should be as missing', () => {
    const dir = fixtureAppDir();
    rmSync(join(dir, 'collector', 'migrations', 'postgres'), { recursive: true });
    writeTree(dir, { 'collector/migrations/postgres': 'not a folder\n' });
    expect(paths(dir)).toEqual(['collector/migrations/postgres']);
  });
});
