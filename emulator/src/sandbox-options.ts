import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { InvokeOptions, SandboxOptions } from './types.ts';

/** SandboxOptions with defaults applied. */
export type ResolvedOptions = Required<
  Omit<
    SandboxOptions,
    | 'extensionsDir'
    | 'onLog'
    | 'bootstrap'
    | 'tmpDir'
    | 'functionInitMs'
    | 'concurrency'
    | 'tenantId'
    | 'snapStart'
  >
> & {
  /** SnapStart on; with the identifiers of the snapshot this environment is restored from, when given. */
  snapStart: { extensionIdentifiers: Record<string, string> | undefined } | undefined;
  tenantId: string | undefined;
  /** Invokes at once: 1 in standard mode. */
  concurrency: number;
  extensionsDir: string | undefined;
  bootstrap: readonly string[] | undefined;
  functionInitMs: number;
};

/** Applies the defaults of {@link SandboxOptions} and rejects bad values with a TypeError naming the option. */
export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  const profile = options.profile ?? 'production';
  const mode = options.mode ?? 'standard';
  checkMode(options);
  const initializationType =
    mode === 'lmi'
      ? 'lambda-managed-instances'
      : options.snapStart
        ? 'snap-start'
        : (options.initializationType ?? 'on-demand');
  // Provisioned and Managed Instances environments are initialised ahead of need, with a longer Init limit.
  const longInit =
    initializationType === 'provisioned-concurrency' ||
    initializationType === 'lambda-managed-instances';
  const resolved: ResolvedOptions = {
    extensionsDir: options.extensionsDir ? resolve(options.extensionsDir) : undefined,
    functionName: options.functionName ?? 'fn',
    functionVersion: options.functionVersion ?? '$LATEST',
    memoryMb: options.memoryMb ?? 128,
    timeoutMs: options.timeoutMs ?? 3000,
    region: options.region ?? 'eu-west-1',
    accountId: options.accountId ?? '123456789012',
    handler: options.handler ?? 'index.handler',
    runtime: options.runtime ?? 'nodejs22.x',
    env: { ...(options.env ?? {}) },
    freeze: options.freeze ?? false,
    initializationType,
    tenantId: options.tenantId,
    snapStart: options.snapStart
      ? {
          extensionIdentifiers:
            options.snapStart === true ? undefined : { ...options.snapStart.extensionIdentifiers },
        }
      : undefined,
    responseStreaming: options.responseStreaming ?? false,
    mode,
    concurrency: mode === 'lmi' ? (options.concurrency ?? 4) : 1,
    initTimeoutMs:
      options.initTimeoutMs ?? (longInit ? Math.max(130_000, options.timeoutMs ?? 3000) : 10_000),
    shutdownBudgetMs: options.shutdownBudgetMs ?? 2000,
    runtimeShutdownMs: options.runtimeShutdownMs ?? 300,
    telemetry: (options.telemetry ?? true) && profile !== 'rie',
    profile,
    tracing: options.tracing ?? profile !== 'rie',
    sandboxId: options.sandboxId ?? `sbx-${randomBytes(4).toString('hex')}`,
    logLimit: options.logLimit ?? 100_000,
    outputLimitBytes: options.outputLimitBytes ?? 1024 * 1024,
    telemetryQueueLimit: options.telemetryQueueLimit ?? 20_000,
    telemetryMaxAttempts: options.telemetryMaxAttempts ?? 5,
    telemetryRetryBaseMs: options.telemetryRetryBaseMs ?? 100,
    logOutput: options.logOutput ?? true,
    bootstrap: options.bootstrap,
    functionInitMs: options.functionInitMs ?? 0,
  };
  validateOptions(resolved);
  return resolved;
}

/** Mode options that contradict each other. */
function checkMode(options: SandboxOptions): void {
  const mode = options.mode ?? 'standard';
  if (mode !== 'standard' && mode !== 'lmi') {
    throw new TypeError(`SandboxOptions.mode must be standard or lmi, got ${String(mode)}`);
  }
  if (mode === 'lmi') {
    if (
      options.initializationType !== undefined &&
      options.initializationType !== 'lambda-managed-instances'
    ) {
      throw new TypeError(
        `SandboxOptions.initializationType ${options.initializationType} contradicts mode lmi (lambda-managed-instances)`,
      );
    }
    if (options.freeze) {
      throw new TypeError(
        'SandboxOptions.freeze contradicts mode lmi: Managed Instances are never frozen',
      );
    }
    if (options.profile === 'rie') {
      throw new TypeError(
        'SandboxOptions.profile rie is the classic RIE; mode lmi has its own rules',
      );
    }
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1600) {
      throw new TypeError(
        `SandboxOptions.concurrency must be an integer from 1 to 1600, got ${String(options.concurrency)}`,
      );
    }
  } else if (options.concurrency !== undefined) {
    throw new TypeError(
      'SandboxOptions.concurrency needs mode lmi (a standard environment runs one invoke at a time)',
    );
  }
  if (options.snapStart) {
    if (mode === 'lmi') throw new TypeError('SandboxOptions.snapStart contradicts mode lmi');
    if (options.initializationType !== undefined && options.initializationType !== 'snap-start') {
      throw new TypeError(
        `SandboxOptions.initializationType ${options.initializationType} contradicts snapStart (snap-start)`,
      );
    }
    if (options.snapStart !== true) {
      const ids = (options.snapStart as { extensionIdentifiers?: unknown }).extensionIdentifiers;
      if (
        typeof ids !== 'object' ||
        ids === null ||
        Object.values(ids).some((id) => typeof id !== 'string' || id === '')
      ) {
        throw new TypeError(
          'SandboxOptions.snapStart must be true or a snapshot identity {extensionIdentifiers: {name: id}}',
        );
      }
    }
  } else if (options.initializationType === 'snap-start') {
    throw new TypeError('SandboxOptions.initializationType snap-start needs snapStart');
  }
  if (mode === 'standard' && options.initializationType === 'lambda-managed-instances') {
    throw new TypeError(
      'SandboxOptions.initializationType lambda-managed-instances needs mode lmi',
    );
  }
}

function validateOptions(options: ResolvedOptions): void {
  const positive: (keyof ResolvedOptions)[] = [
    'memoryMb',
    'timeoutMs',
    'initTimeoutMs',
    'logLimit',
    'outputLimitBytes',
    'telemetryQueueLimit',
    'telemetryMaxAttempts',
  ];
  for (const key of positive) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`SandboxOptions.${key} must be a positive number, got ${String(value)}`);
    }
  }
  const nonNegative: (keyof ResolvedOptions)[] = [
    'shutdownBudgetMs',
    'runtimeShutdownMs',
    'telemetryRetryBaseMs',
    'functionInitMs',
  ];
  for (const key of nonNegative) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`SandboxOptions.${key} must be a number ≥ 0, got ${String(value)}`);
    }
  }
  if (!options.functionName) throw new TypeError('SandboxOptions.functionName must not be empty');
  if (
    !['on-demand', 'provisioned-concurrency', 'lambda-managed-instances', 'snap-start'].includes(
      options.initializationType,
    )
  ) {
    throw new TypeError(
      `SandboxOptions.initializationType must be on-demand or provisioned-concurrency, got ${String(options.initializationType)}`,
    );
  }
  if (options.tenantId !== undefined) checkTenantId(options.tenantId, 'SandboxOptions.tenantId');
  if (options.bootstrap && options.bootstrap.length === 0) {
    throw new TypeError('SandboxOptions.bootstrap needs at least a command');
  }
}

/** A tenant id travels in a header: 1 to 256 visible ASCII characters. */
export function checkTenantId(tenantId: unknown, name: string): void {
  if (typeof tenantId !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(tenantId)) {
    throw new TypeError(
      `${name} must be 1 to 256 visible ASCII characters, got ${JSON.stringify(tenantId)}`,
    );
  }
}

const OUTCOMES = new Set(['success', 'error', 'timeout', 'crash']);

/** Checks invoke options before anything starts; returns the serialised payload. */
export function validateInvokeOptions(options: InvokeOptions): string {
  if (options.outcome !== undefined && !OUTCOMES.has(options.outcome)) {
    throw new TypeError(
      `InvokeOptions.outcome must be success, error, timeout or crash, got ${String(options.outcome)}`,
    );
  }
  const duration = options.durationMs;
  if (
    duration !== undefined &&
    (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0)
  ) {
    throw new TypeError(`InvokeOptions.durationMs must be a number ≥ 0, got ${String(duration)}`);
  }
  if (
    options.traceId !== undefined &&
    (typeof options.traceId !== 'string' || /[\r\n]/.test(options.traceId))
  ) {
    throw new TypeError('InvokeOptions.traceId must be a single-line string');
  }
  if (options.tenantId !== undefined) checkTenantId(options.tenantId, 'InvokeOptions.tenantId');
  const stream = options.streamDurationMs;
  if (
    stream !== undefined &&
    (typeof stream !== 'number' || !Number.isFinite(stream) || stream < 0)
  ) {
    throw new TypeError(
      `InvokeOptions.streamDurationMs must be a number ≥ 0, got ${String(stream)}`,
    );
  }
  let payload: string | undefined;
  try {
    payload = JSON.stringify(options.payload ?? {});
  } catch (error) {
    throw new TypeError(
      `InvokeOptions.payload must be JSON-serialisable: ${(error as Error).message}`,
    );
  }
  if (payload === undefined) throw new TypeError('InvokeOptions.payload must be JSON-serialisable');
  return payload;
}
