import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extensionsDir } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function emulate(args: string[]): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, ['--conditions=source', 'emulator/src/cli.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function entries(run: Run): Record<string, unknown>[] {
  return run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('lifeline-emulate CLI', () => {
  it('exits 0 and prints one JSON log entry per line when every extension behaves', async () => {
    const dir = extensionsDir({ good: {} });
    const run = await emulate([
      '--extensions-dir',
      dir,
      '--invokes',
      '2',
      '--interval-ms',
      '10',
      '--freeze',
    ]);
    expect(run.stderr).toContain('OK');
    expect(run.code).toBe(0);
    const log = entries(run);
    expect(log.filter((e) => e.kind === 'invoke.end').map((e) => e.status)).toEqual([
      'success',
      'success',
    ]);
    expect(log.find((e) => e.kind === 'event.shutdown')).toMatchObject({
      extension: 'good',
      shutdownReason: 'spindown',
    });
    expect(log.some((e) => e.kind === 'freeze')).toBe(true);
  });

  it('produces the timeout reason by really timing out the last invoke', async () => {
    const dir = extensionsDir({ good: {} });
    const run = await emulate([
      '--extensions-dir',
      dir,
      '--invokes',
      '2',
      '--timeout-ms',
      '800',
      '--shutdown-reason',
      'timeout',
    ]);
    expect(run.code).toBe(0);
    const log = entries(run);
    expect(log.filter((e) => e.kind === 'invoke.end').map((e) => e.status)).toEqual([
      'success',
      'timeout',
    ]);
    expect(log.find((e) => e.kind === 'event.shutdown')?.shutdownReason).toBe('timeout');
  });

  it('produces the failure reason by crashing the runtime on the last invoke', async () => {
    const dir = extensionsDir({ good: {} });
    const run = await emulate([
      '--extensions-dir',
      dir,
      '--invokes',
      '1',
      '--shutdown-reason',
      'failure',
    ]);
    expect(run.code).toBe(0);
    expect(entries(run).find((e) => e.kind === 'event.shutdown')?.shutdownReason).toBe('failure');
  });

  it('exits 1 and says which extension failed when one ignores SHUTDOWN', async () => {
    const dir = extensionsDir({ good: {}, stubborn: { ignoreShutdown: true } });
    const run = await emulate(['--extensions-dir', dir, '--invokes', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'FAILED: extension stubborn did not exit cleanly by the shutdown deadline (ShutdownFailed, signal SIGKILL)',
    );
  });

  it.each([
    [['--invokes', '2'], '--extensions-dir is required'],
    [['--extensions-dir', '/nonexistent/dir'], 'cannot read --extensions-dir /nonexistent/dir'],
    [
      ['--extensions-dir', '.', '--invokes', 'many'],
      '--invokes must be a whole number, got "many"',
    ],
    [
      ['--extensions-dir', '.', '--shutdown-reason', 'boom'],
      '--shutdown-reason must be spindown, timeout or failure',
    ],
    [['--extensions-dir', '.', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 with a clear message when the flags are %j', async (args, message) => {
    const run = await emulate(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage:');
  });

  it('prints the usage and exits 0 with --help', async () => {
    const run = await emulate(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--shutdown-reason');
  });
});
