import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extensionsDir, tempDir, writeScript } from './helpers.ts';

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

  it('exits 1 naming the extension and its exit code when one crashes between invokes', async () => {
    const dir = extensionsDir({});
    // Exits while parked in /next after the second INVOKE, i.e. while the environment is idle.
    writeScript(
      dir,
      'dier',
      `#!/usr/bin/env node
import http from 'node:http';
const base = process.env.AWS_LAMBDA_RUNTIME_API;
const call = (method, path, headers, body) => new Promise((res, rej) => {
  const r = http.request('http://' + base + path, { method, headers }, (s) => {
    let b = ''; s.on('data', (c) => (b += c)); s.on('end', () => res({ headers: s.headers, body: b }));
  });
  r.on('error', rej); r.end(body);
});
const reg = await call('POST', '/2020-01-01/extension/register', { 'lambda-extension-name': 'dier' }, '{"events":["INVOKE","SHUTDOWN"]}');
const id = reg.headers['lambda-extension-identifier'];
for (let n = 1; n < 100; n++) {
  const next = call('GET', '/2020-01-01/extension/event/next', { 'lambda-extension-identifier': id });
  if (n === 3) setTimeout(() => process.exit(3), 100);
  if (JSON.parse((await next).body).eventType === 'SHUTDOWN') process.exit(0);
}
`,
    );
    const run = await emulate(['--extensions-dir', dir, '--invokes', '4', '--interval-ms', '500']);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('OK');
    expect(run.stderr).toContain('FAILED: extension dier exited outside shutdown (exit code 3)');
    const log = entries(run);
    expect(log.find((e) => e.kind === 'reset')).toMatchObject({ errorType: 'Extension.Crash' });
  });

  it('exits 2 with a clear message when the extensions directory holds no executable', async () => {
    const empty = tempDir();
    const emptyRun = await emulate(['--extensions-dir', empty]);
    expect(emptyRun.code).toBe(2);
    expect(emptyRun.stderr).toContain(`no extension executables in ${empty}`);
    expect(emptyRun.stderr).not.toContain('OK');
    const plain = tempDir();
    writeFileSync(join(plain, 'notes.txt'), 'not an extension');
    chmodSync(join(plain, 'notes.txt'), 0o644);
    const plainRun = await emulate(['--extensions-dir', plain]);
    expect(plainRun.code).toBe(2);
    expect(plainRun.stderr).toContain(`no extension executables in ${plain}`);
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

  it('gives the function the variables of --env-file and --env, --env winning', async () => {
    const dir = extensionsDir({ envy: { reportEnv: true } });
    const files = tempDir();
    const sam = join(files, 'env.json');
    writeFileSync(
      sam,
      JSON.stringify({
        Parameters: { FROM_SAM: 'shared', OVERRIDDEN: 'by-sam' },
        orders: { FOR_ORDERS: 'yes' },
      }),
    );
    const lines = join(files, '.env');
    writeFileSync(lines, '# plain lines\nFROM_LINES="quoted value"\nOVERRIDDEN=by-lines\n');
    const run = await emulate([
      '--extensions-dir',
      dir,
      '--invokes',
      '1',
      '--function-name',
      'orders',
      '--env-file',
      sam,
      '--env-vars',
      lines,
      '--env',
      'OVERRIDDEN=by-flag',
      '--env',
      'LIFELINE_TOKEN=a=b',
    ]);
    expect(run.code).toBe(0);
    const registered = entries(run)
      .filter((e) => e.kind === 'process.output' && String(e.line).startsWith('LL '))
      .map((e) => JSON.parse(String(e.line).slice(3)) as { env?: Record<string, string> })
      .find((report) => report.env);
    expect(registered?.env).toMatchObject({
      FROM_SAM: 'shared',
      FOR_ORDERS: 'yes',
      FROM_LINES: 'quoted value',
      OVERRIDDEN: 'by-flag',
      LIFELINE_TOKEN: 'a=b',
      AWS_LAMBDA_FUNCTION_NAME: 'orders',
    });
  });

  it.each([
    [['--env', 'NOVALUE'], '--env: expected KEY=VALUE, got "NOVALUE"'],
    [['--env-vars', '/nonexistent/env.json'], 'cannot read env file /nonexistent/env.json'],
    [['--env', 'AWS_REGION=us-east-1'], '--env: AWS_REGION is set by Lambda itself'],
  ])('exits 2 before anything starts when the environment flags are %j', async (args, message) => {
    const dir = extensionsDir({ good: {} });
    const run = await emulate(['--extensions-dir', dir, ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('runs the invokes in waves of --concurrency in one environment with --mode lmi', async () => {
    const dir = extensionsDir({
      lmi: { events: ['SHUTDOWN'], telemetry: { schemaVersion: '2025-01-29' } },
    });
    const run = await emulate([
      '--extensions-dir',
      dir,
      '--mode',
      'lmi',
      '--concurrency',
      '3',
      '--invokes',
      '3',
      '--duration-ms',
      '200',
      '--shutdown-reason',
      'failure',
    ]);
    expect(run.stderr).toContain('OK');
    expect(run.code).toBe(0);
    const log = entries(run);
    const kinds = log.map((e) => e.kind);
    // The two plain invokes overlap; the crashing third runs alone after them.
    expect(kinds.indexOf('invoke.end')).toBeGreaterThan(
      kinds.indexOf('invoke.start', kinds.indexOf('invoke.start') + 1),
    );
    expect(log.filter((e) => e.kind === 'invoke.end').map((e) => e.status)).toEqual([
      'success',
      'success',
      'failure',
    ]);
    expect(log.find((e) => e.kind === 'event.shutdown')).toMatchObject({
      shutdownReason: 'failure',
    });
    expect(kinds).not.toContain('event.invoke');
  });

  it('records the tenant and the streaming spans with --tenant-id and --response-streaming', async () => {
    const dir = extensionsDir({
      lifeline: {
        telemetry: { types: ['platform'], buffering: { timeoutMs: 25 } },
        shutdownWorkMs: 200,
      },
    });
    const run = await emulate([
      '--extensions-dir',
      dir,
      '--invokes',
      '1',
      '--tenant-id',
      'acme',
      '--response-streaming',
      '--stream-ms',
      '200',
      '--init-type',
      'provisioned-concurrency',
    ]);
    expect(run.code).toBe(0);
    const records = entries(run)
      .filter((e) => e.kind === 'process.output' && String(e.line).startsWith('LL '))
      .map(
        (e) =>
          JSON.parse(String(e.line).slice(3)) as {
            telemetry?: { type: string; record: Record<string, unknown> }[];
          },
      )
      .flatMap((report) => report.telemetry ?? []);
    expect(records.find((e) => e.type === 'platform.initStart')?.record.initializationType).toBe(
      'provisioned-concurrency',
    );
    expect(records.find((e) => e.type === 'platform.start')?.record.tenantId).toBe('acme');
    const done = records.find((e) => e.type === 'platform.runtimeDone')!;
    expect(done.record.tenantId).toBe('acme');
    const streaming = (done.record.spans as { name: string; durationMs: number }[])[1]!;
    expect(streaming.name).toBe('responseDuration');
    expect(streaming.durationMs).toBeGreaterThanOrEqual(190);
  });

  it('publishes a snapshot and restores it at the first invoke with --snapstart', async () => {
    const dir = extensionsDir({ good: {} });
    const run = await emulate(['--extensions-dir', dir, '--snapstart', '--invokes', '2']);
    expect(run.stderr).toContain('OK');
    expect(run.code).toBe(0);
    const kinds = entries(run).map((e) => e.kind);
    expect(kinds.indexOf('snapshot')).toBeGreaterThan(kinds.indexOf('init.end'));
    expect(kinds.indexOf('restore.end')).toBeGreaterThan(kinds.indexOf('restore.start'));
    expect(kinds.indexOf('invoke.start')).toBeGreaterThan(kinds.indexOf('restore.end'));
    expect(entries(run).find((e) => e.kind === 'restore.end')?.status).toBe('success');
  });

  it.each([
    [['--mode', 'managed'], '--mode must be standard or lmi, got "managed"'],
    [['--concurrency', '2'], '--concurrency needs mode lmi'],
    [['--mode', 'lmi', '--concurrency', '0'], '--concurrency must be an integer from 1 to 1600'],
    [['--mode', 'lmi', '--freeze'], 'freeze contradicts mode lmi'],
    [['--mode', 'lmi', '--init-type', 'provisioned-concurrency'], 'contradicts mode lmi'],
    [['--init-type', 'snap-start'], '--init-type must be on-demand or provisioned-concurrency'],
    [['--mode', 'lmi', '--shutdown-reason', 'timeout'], 'cannot happen with --mode lmi'],
    [['--tenant-id', 'a b'], '--tenant-id must be 1 to 256 visible ASCII characters'],
    [['--snapstart', '--mode', 'lmi'], '--snapstart contradicts mode lmi'],
    [['--stream-ms', '5'], '--stream-ms needs --response-streaming'],
  ])('exits 2 before anything starts when the mode flags are %j', async (args, message) => {
    const dir = extensionsDir({ good: {} });
    const run = await emulate(['--extensions-dir', dir, ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('prints the usage and exits 0 with --help', async () => {
    const run = await emulate(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--shutdown-reason');
  });
});
