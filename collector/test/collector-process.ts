import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';

// tsx's loader in THIS process (not the tsx CLI, which runs the server in a child that a SIGKILL would orphan).
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));

/** A collector running as its own process (through tsx, like `npm run collector`). */
export interface CollectorProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the collector and resolves once it logged `"msg":"listening"`; killed when the test finishes. */
export function spawnCollector(
  args: string[],
  env: Record<string, string> = {},
): Promise<CollectorProcess> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=source', SERVER, ...args],
    {
      env: { ...process.env, LIFELINE_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(out);
      if (match?.[1]) {
        resolve({ child, url: match[1], stdout: () => out, stderr: () => err, exited });
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    exited.then(({ code }) =>
      reject(new Error(`collector exited (${code}) before listening: ${err}${out}`)),
    );
  });
}

/** Runs the collector expecting it to refuse to start; resolves with its exit code and output. */
export async function runCollectorExpectingExit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, '--conditions=source', SERVER, ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr, stdout };
}
