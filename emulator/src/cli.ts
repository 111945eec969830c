#!/usr/bin/env node
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EnvironmentInputError, parseAssignment, parseEnvFile } from './cli-environment.ts';
import { delay } from './clock.ts';
import { Sandbox } from './sandbox.ts';
import { resolveOptions } from './sandbox-options.ts';
import type {
  EmulatorLogEntry,
  InvokeOutcome,
  InvokeResult,
  SandboxOptions,
  ShutdownReason,
  ShutdownResult,
} from './types.ts';

const USAGE = `Usage: npm run emulate -- --extensions-dir DIR [options]

Runs one emulated Lambda execution environment with every file in DIR as an external extension, prints one JSON
object per line for each API call and lifecycle transition, and exits 0 only when every extension registered,
answered each event and exited by the shutdown deadline.

Options:
  --extensions-dir DIR     directory of extension executables (like /opt/extensions)   (required)
  --invokes N              number of invokes (default 3)
  --interval-ms MS         idle time between invokes (default 100)
  --duration-ms MS         simulated function work per invoke (default 50)
  --timeout-ms MS          function timeout (default 3000)
  --shutdown-reason R      spindown | timeout | failure (default spindown); timeout makes the last invoke time out,
                           failure makes it crash the runtime, so the reason comes from the real mechanism
  --function-name NAME     (default fn)
  --memory-mb MB           (default 128)
  --freeze                 SIGSTOP the environment between invokes
  --env KEY=VALUE          a variable of the function's environment (runtime and extensions); repeatable
  --env-file FILE          variables from FILE: SAM's JSON ({"Parameters": {...}} and/or {"<function name>": {...}})
                           or KEY=VALUE lines (# comments); repeatable; --env wins over files, later files over earlier
  --env-vars FILE          the same as --env-file (SAM's name for it); on Node 20, node itself also reads --env-file
                           anywhere on its command line and exits 9 when FILE is missing, --env-vars avoids that
  --mode standard|lmi      standard (default) or lmi: Lambda Managed Instances (SHUTDOWN-only extensions, Telemetry
                           schema 2025-01-29 only, never frozen, concurrent invokes; see the README)
  --concurrency N          with --mode lmi: invokes one environment runs at once, 1-1600 (default 4); the invokes
                           run in waves of N
  --init-type TYPE         on-demand (default) or provisioned-concurrency (AWS_LAMBDA_INITIALIZATION_TYPE)
  --snapstart              SnapStart: Init ends in a snapshot (init type snap-start); the first invoke restores it
  --tenant-id ID           tenant isolation: the tenant the environment serves (tenantId in the invoke records)
  --response-streaming     the function streams its answers (responseLatency/responseDuration spans)
  --stream-ms MS           with --response-streaming: streaming time after the first byte (default 100)
  --help                   show this help
`;

/** Thrown for bad command-line input (exit code 2). */
class UsageError extends Error {}

interface CliConfig {
  extensionsDir: string;
  invokes: number;
  intervalMs: number;
  durationMs: number;
  timeoutMs: number;
  shutdownReason: ShutdownReason;
  functionName: string;
  memoryMb: number;
  freeze: boolean;
  env: Record<string, string>;
  /** Lifecycle options of the modes (mode, concurrency, initializationType, …), checked by the Sandbox's rules. */
  lifecycle: Pick<
    SandboxOptions,
    'mode' | 'concurrency' | 'initializationType' | 'tenantId' | 'responseStreaming' | 'snapStart'
  >;
  /** With --response-streaming: how long each answer streams. */
  streamMs: number | undefined;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min) throw new UsageError(`--${name} must be at least ${min}, got ${value}`);
  return value;
}

function parse(argv: string[]): CliConfig | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      tokens: true,
      options: {
        'extensions-dir': { type: 'string' },
        invokes: { type: 'string' },
        'interval-ms': { type: 'string' },
        'duration-ms': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'shutdown-reason': { type: 'string' },
        'function-name': { type: 'string' },
        'memory-mb': { type: 'string' },
        freeze: { type: 'boolean' },
        env: { type: 'string', multiple: true },
        'env-file': { type: 'string', multiple: true },
        'env-vars': { type: 'string', multiple: true },
        mode: { type: 'string' },
        concurrency: { type: 'string' },
        'init-type': { type: 'string' },
        'tenant-id': { type: 'string' },
        snapstart: { type: 'boolean' },
        'response-streaming': { type: 'boolean' },
        'stream-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return 'help';
  const extensionsDir = values['extensions-dir'] as string | undefined;
  if (!extensionsDir) throw new UsageError('--extensions-dir is required');
  try {
    if (!statSync(extensionsDir).isDirectory())
      throw new UsageError(`${extensionsDir} is not a directory`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `cannot read --extensions-dir ${extensionsDir}: ${(error as Error).message}`,
    );
  }
  const reason = (values['shutdown-reason'] as string | undefined) ?? 'spindown';
  if (reason !== 'spindown' && reason !== 'timeout' && reason !== 'failure') {
    throw new UsageError(`--shutdown-reason must be spindown, timeout or failure, got "${reason}"`);
  }
  const invokes = integer('invokes', values.invokes as string | undefined, 3, 0);
  if (reason !== 'spindown' && invokes === 0) {
    throw new UsageError(
      `--shutdown-reason ${reason} needs at least one invoke (the last one ${reason === 'timeout' ? 'times out' : 'crashes'})`,
    );
  }
  if (!hasExecutable(extensionsDir)) {
    throw new UsageError(
      `no extension executables in ${extensionsDir}: the emulator checks extensions, so it needs at least one executable file there`,
    );
  }
  const functionName = (values['function-name'] as string | undefined) || 'fn';
  const lifecycle = lifecycleOptions(values);
  if (lifecycle.mode === 'lmi' && reason === 'timeout') {
    throw new UsageError(
      '--shutdown-reason timeout cannot happen with --mode lmi: Managed Instances end environments with spindown or failure, and a timed-out invoke does not reset them',
    );
  }
  return {
    extensionsDir,
    invokes,
    intervalMs: integer('interval-ms', values['interval-ms'] as string | undefined, 100, 0),
    durationMs: integer('duration-ms', values['duration-ms'] as string | undefined, 50, 0),
    timeoutMs: integer('timeout-ms', values['timeout-ms'] as string | undefined, 3000, 1),
    shutdownReason: reason,
    functionName,
    memoryMb: integer('memory-mb', values['memory-mb'] as string | undefined, 128, 1),
    freeze: values.freeze === true,
    lifecycle,
    streamMs: lifecycle.responseStreaming
      ? integer('stream-ms', values['stream-ms'] as string | undefined, 100, 0)
      : undefined,
    env: functionEnvironment(
      (parsed.tokens ?? []).flatMap((token) =>
        token.kind === 'option' &&
        (token.name === 'env-file' || token.name === 'env-vars') &&
        token.value !== undefined
          ? [token.value]
          : [],
      ),
      (parsed.values.env as string[] | undefined) ?? [],
      functionName,
    ),
  };
}

/** Flags named differently from the Sandbox option they set. */
const FLAG_OF_OPTION: Record<string, string> = {
  initializationType: 'init-type',
  tenantId: 'tenant-id',
  responseStreaming: 'response-streaming',
  snapStart: 'snapstart',
};

/** The mode flags as Sandbox options; contradictions are refused by the Sandbox's own option rules. */
function lifecycleOptions(
  values: Record<string, string | boolean | undefined>,
): CliConfig['lifecycle'] {
  const mode = values.mode as string | undefined;
  if (mode !== undefined && mode !== 'standard' && mode !== 'lmi') {
    throw new UsageError(`--mode must be standard or lmi, got "${mode}"`);
  }
  const initType = values['init-type'] as string | undefined;
  if (
    initType !== undefined &&
    initType !== 'on-demand' &&
    initType !== 'provisioned-concurrency'
  ) {
    throw new UsageError(
      `--init-type must be on-demand or provisioned-concurrency, got "${initType}" (the other kinds come with --mode lmi and --snapstart)`,
    );
  }
  const lifecycle: CliConfig['lifecycle'] = {
    mode,
    concurrency:
      values.concurrency === undefined
        ? undefined
        : integer('concurrency', values.concurrency as string, 4, 0),
    initializationType: initType,
    tenantId: values['tenant-id'] as string | undefined,
    snapStart: values.snapstart === true ? true : undefined,
    responseStreaming: values['response-streaming'] === true ? true : undefined,
  };
  if (values['stream-ms'] !== undefined && !lifecycle.responseStreaming) {
    throw new UsageError('--stream-ms needs --response-streaming');
  }
  try {
    resolveOptions({ ...lifecycle, freeze: values.freeze === true });
  } catch (error) {
    throw new UsageError(
      (error as Error).message.replace(
        /SandboxOptions\.(\w+)/g,
        (_, option: string) => `--${FLAG_OF_OPTION[option] ?? option}`,
      ),
    );
  }
  return lifecycle;
}

/** The function's variables: every env file in order, then every --env. */
function functionEnvironment(
  files: string[],
  assignments: string[],
  functionName: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read env file ${file}: ${(error as Error).message}`);
      }
      Object.assign(env, parseEnvFile(text, file, functionName));
    }
    for (const assignment of assignments) {
      const [key, value] = parseAssignment(assignment, '--env');
      env[key] = value;
    }
  } catch (error) {
    if (error instanceof EnvironmentInputError) throw new UsageError(error.message);
    throw error;
  }
  return env;
}

/** Whether `dir` holds at least one file with an execute bit (what the sandbox would launch successfully). */
function hasExecutable(dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new UsageError(`cannot read --extensions-dir ${dir}: ${(error as Error).message}`);
  }
  return names.some((name) => {
    try {
      const stat = statSync(join(dir, name));
      return stat.isFile() && (stat.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

/**
 * Watches the log for extension processes that end outside a Shutdown phase (a crash while idle or mid-invoke):
 * whatever the sandbox does about it, the extension is broken.
 */
function exitWatcher(): {
  onLog: (entry: EmulatorLogEntry) => void;
  problems: () => string[];
} {
  let inShutdown = false;
  const found: string[] = [];
  return {
    onLog(entry) {
      if (entry.kind === 'shutdown.start') inShutdown = true;
      else if (entry.kind === 'shutdown.end') inShutdown = false;
      else if (entry.kind === 'process.exit' && entry.extension !== 'runtime' && !inShutdown) {
        const how = entry.errorMessage
          ? `could not be started: ${entry.errorMessage}`
          : entry.signal
            ? `signal ${entry.signal}`
            : `exit code ${entry.exitCode}`;
        found.push(`extension ${entry.extension} exited outside shutdown (${how})`);
      }
    },
    problems: () => found,
  };
}

/** Checks the log: every INVOKE delivered to an extension was followed by its /next. */
function unansweredEvents(log: EmulatorLogEntry[]): string[] {
  const open = new Map<string, EmulatorLogEntry>();
  for (const entry of log) {
    if (entry.kind === 'event.invoke' && entry.extensionId) open.set(entry.extensionId, entry);
    if (entry.kind === 'extension.next' && entry.extensionId && entry.state === 'Ready')
      open.delete(entry.extensionId);
  }
  return [...open.values()].map(
    (entry) =>
      `extension ${entry.extension} never answered INVOKE ${entry.requestId} (no /next after it)`,
  );
}

/**
 * The invokes of a run in waves that start together: one invoke per wave, or `concurrency` on Managed Instances. The
 * last invoke gets the outcome that produces the shutdown reason, alone in its wave so it spoils no other invoke.
 */
function invokeWaves(config: CliConfig): { number: number; outcome: InvokeOutcome }[][] {
  const width = config.lifecycle.mode === 'lmi' ? (config.lifecycle.concurrency ?? 4) : 1;
  const lastOutcome: InvokeOutcome =
    config.shutdownReason === 'timeout'
      ? 'timeout'
      : config.shutdownReason === 'failure'
        ? 'crash'
        : 'success';
  const waves: { number: number; outcome: InvokeOutcome }[][] = [];
  const plain = lastOutcome === 'success' ? config.invokes : config.invokes - 1;
  for (let first = 1; first <= plain; first += width) {
    const wave: { number: number; outcome: InvokeOutcome }[] = [];
    for (let number = first; number < first + width && number <= plain; number++) {
      wave.push({ number, outcome: 'success' });
    }
    waves.push(wave);
  }
  if (plain < config.invokes) waves.push([{ number: config.invokes, outcome: lastOutcome }]);
  return waves;
}

/** Runs the CLI; returns the exit code. */
export async function main(
  argv: string[],
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  let config: CliConfig | 'help';
  try {
    config = parse(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`lifeline-emulate: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (config === 'help') {
    out.write(USAGE);
    return 0;
  }
  // A closed reader (e.g. `| head`) must not crash the run with EPIPE.
  out.on('error', () => {});
  const exits = exitWatcher();
  const sandbox = new Sandbox({
    extensionsDir: config.extensionsDir,
    functionName: config.functionName,
    memoryMb: config.memoryMb,
    timeoutMs: config.timeoutMs,
    freeze: config.freeze,
    env: config.env,
    ...config.lifecycle,
    onLog: (entry) => {
      exits.onLog(entry);
      out.write(`${JSON.stringify(entry)}\n`);
    },
  });
  const interrupt = () => {
    err.write('lifeline-emulate: interrupted\n');
    void sandbox.close().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  const problems: string[] = [];
  try {
    const init = await sandbox.init();
    if (init.status !== 'success') {
      problems.push(
        `Init ${init.status}: ${init.errorType ?? ''} ${init.errorMessage ?? ''}`.trim(),
      );
    }
    for (const extension of init.extensions) {
      if (extension.external && extension.id === undefined) {
        problems.push(`extension ${extension.name} never registered (state ${extension.state})`);
      }
    }
    let last: InvokeResult | undefined;
    for (const wave of invokeWaves(config)) {
      if (problems.length > 0) break;
      const results = await Promise.all(
        wave.map(({ number, outcome }) =>
          sandbox.invoke({
            payload: { invoke: number },
            durationMs: config.durationMs,
            outcome,
            streamDurationMs: config.streamMs,
          }),
        ),
      );
      wave.forEach(({ number, outcome }, index) => {
        const result = results[index]!;
        last = result;
        const expected =
          outcome === 'success' ? 'success' : outcome === 'timeout' ? 'timeout' : 'failure';
        if (result.status !== expected) {
          problems.push(
            `invoke ${number} (${result.requestId}) ended ${result.status}${result.errorType ? ` (${result.errorType}: ${result.errorMessage ?? ''})` : ''}, expected ${expected}`,
          );
        }
      });
      if (wave.at(-1)!.number < config.invokes && config.intervalMs > 0) {
        await delay(config.intervalMs);
      }
    }
    let shutdown: ShutdownResult | undefined;
    if (config.shutdownReason === 'spindown' || !last?.shutdown) {
      shutdown = await sandbox.shutdown('spindown');
    } else {
      shutdown = last.shutdown;
      await sandbox.shutdown('spindown');
    }
    if (shutdown.reason !== config.shutdownReason && problems.length === 0) {
      problems.push(`shutdown reason was ${shutdown.reason}, expected ${config.shutdownReason}`);
    }
    problems.push(...exits.problems());
    problems.push(...unansweredEvents(sandbox.log));
    for (const extension of shutdown.extensions) {
      if (extension.state !== 'Exited') {
        const how = extension.signal
          ? `signal ${extension.signal}`
          : `exit code ${extension.exitCode}`;
        problems.push(
          `extension ${extension.name} did not exit cleanly by the shutdown deadline (${extension.state}, ${how})`,
        );
      }
    }
  } finally {
    process.off('SIGINT', interrupt);
    await sandbox.close();
  }
  if (problems.length > 0) {
    for (const problem of problems) err.write(`lifeline-emulate: FAILED: ${problem}\n`);
    return 1;
  }
  err.write(
    'lifeline-emulate: OK: every extension registered, answered each event and exited in time\n',
  );
  return 0;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // Resolves npm's bin symlink (lifeline-emulate → dist/cli.js) as well as a direct tsx run of src/cli.ts.
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`lifeline-emulate: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
