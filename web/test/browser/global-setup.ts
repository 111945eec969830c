import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (!entry.name.includes('.test.')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(join(WEB, 'dist/index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds web/dist when it is older than the sources, so browser tests always run the current dashboard. */
export default function setup(): void {
  const sources = Math.max(
    newestMtime(join(WEB, 'src')),
    statSync(join(WEB, 'index.html')).mtimeMs,
    statSync(join(WEB, 'vite.config.ts')).mtimeMs,
  );
  if (builtAt() >= sources) return;
  const result = spawnSync(
    process.execPath,
    [join(WEB, '../node_modules/vite/bin/vite.js'), 'build'],
    {
      cwd: WEB,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
      env: { ...process.env, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  if (result.status !== 0) {
    throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  }
}
