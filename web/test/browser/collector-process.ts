import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A collector process started for a test. */
export interface CollectorProcess {
  url: string;
  port: number;
  dbPath: string;
  /** SIGKILL, as a crash would (used to test restarts). */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

/** Options for {@link startCollectorProcess}. */
export interface CollectorProcessOptions {
  dbPath?: string;
  port?: number;
  readToken?: string;
  webDir?: string;
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix = 'lifeline-web-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function waitExit(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', () => done());
  });
}

/**
 * Starts the real collector (`collector/src/server.ts` through tsx) serving web/dist, and resolves once it logged
 * `"msg":"listening"` with its URL.
 */
export async function startCollectorProcess(
  options: CollectorProcessOptions,
): Promise<CollectorProcess> {
  const dbPath = options.dbPath ?? join(tempDir().dir, 'lifeline.db');
  const args = [
    '--import',
    'tsx',
    '--conditions=source',
    join(ROOT, 'collector/src/server.ts'),
    '--port',
    String(options.port ?? 0),
    '--db',
    dbPath,
    '--web-dir',
    options.webDir ?? join(ROOT, 'web/dist'),
    '--log-level',
    'info',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Secrets never go on a command line (the collector refuses them there).
    env: {
      ...process.env,
      LIFELINE_TOKEN: '',
      LIFELINE_TOKEN_FILE: '',
      LIFELINE_READ_TOKEN: options.readToken ?? '',
      LIFELINE_READ_TOKEN_FILE: '',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`collector did not start in 60 s: ${stderr}`));
    }, 60_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) {
          clearTimeout(timer);
          resolveUrl(entry.url);
        }
      } catch {
        // Not a JSON log line.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code}: ${stderr}`));
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout?.resume();
  return {
    url: url.replace('0.0.0.0', '127.0.0.1'),
    port: Number(new URL(url).port),
    dbPath,
    kill: async () => {
      child.kill('SIGKILL');
      await waitExit(child);
    },
    stop: async () => {
      child.kill('SIGTERM');
      await waitExit(child);
    },
  };
}
