import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL for the tests ('' when none is installed outside CI). */
    pgUrl: string;
  }
}

/** The bin directory of the newest installed PostgreSQL (Debian layout), or undefined. */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A private PostgreSQL cluster on a free loopback port, for tests and benches. */
export interface ThrowawayCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, loopback only). */
  url: string;
  stop(): void;
}

/**
 * Starts a throwaway cluster from the installed binaries (initdb as the `postgres` user when running as root,
 * since initdb refuses root) in a temp directory; `stop()` stops it and removes the directory. Undefined when
 * PostgreSQL is not installed.
 */
export async function startThrowawayCluster(): Promise<ThrowawayCluster | undefined> {
  const bin = postgresBin();
  if (bin === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  // Throwaway: no fsync (tests kill processes, not the machine), room for many pools, socket in our dir.
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=400`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * vitest globalSetup: the collector's tests run on SQLite and on PostgreSQL. With LIFELINE_TEST_PG_URL set, that
 * server is used; otherwise a throwaway cluster is started ({@link startThrowawayCluster}) and removed at teardown.
 * Without PostgreSQL installed the PostgreSQL runs are left out locally, and fail in CI (CI=true).
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.LIFELINE_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    return () => {};
  }
  const cluster = await startThrowawayCluster();
  if (cluster === undefined) {
    if (process.env.CI === 'true') {
      throw new Error(
        'PostgreSQL is not installed (apt-get install postgresql) and LIFELINE_TEST_PG_URL is unset',
      );
    }
    project.provide('pgUrl', '');
    return () => {};
  }
  project.provide('pgUrl', cluster.url);
  return () => cluster.stop();
}
