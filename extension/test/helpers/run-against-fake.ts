import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { runExtension } from '../../src/main.ts';
import type { FakeRuntimeApi } from './fake-runtime-api.ts';
import { startReceiver } from './receiver.ts';

/**
 * Starts `api` and a receiving collector, then runs the extension in this process against them with its own spool
 * directory (`env` adds to or overrides the base environment; an undefined value removes the variable). Everything is
 * torn down when the test finishes.
 */
export async function runAgainstFake(
  api: FakeRuntimeApi,
  env: Record<string, string | undefined> = {},
) {
  await api.start();
  onTestFinished(() => api.stop());
  const receiver = await startReceiver(onTestFinished);
  const spoolDir = mkdtempSync(join(tmpdir(), 'lifeline-fake-api-'));
  onTestFinished(() => rmSync(spoolDir, { recursive: true, force: true }));
  const lines: string[] = [];
  const merged: Record<string, string | undefined> = {
    AWS_LAMBDA_RUNTIME_API: api.address,
    LIFELINE_COLLECTOR_URL: receiver.url,
    LIFELINE_TELEMETRY_PORT: '0',
    LIFELINE_TELEMETRY_HOST: '127.0.0.1',
    LIFELINE_SPOOL_DIR: spoolDir,
    ...env,
  };
  const exitCode = runExtension({
    env: Object.fromEntries(
      Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    write: (line) => lines.push(line),
  });
  return { api, receiver, exitCode, lines, spoolDir };
}
