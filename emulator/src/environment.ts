import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';

/** What the environment split needs to know about the function. */
export interface EnvironmentInput {
  runtimeApi: string;
  functionName: string;
  functionVersion: string;
  memoryMb: number;
  region: string;
  handler: string;
  runtime: string;
  tmpDir: string;
  env: Record<string, string>;
  initializationType: string;
  /** Managed Instances: how many invokes the runtime serves at once (AWS_LAMBDA_MAX_CONCURRENCY). */
  maxConcurrency?: number;
}

/** Variables production Lambda hides from extensions (README "Things to know"). */
export const RUNTIME_ONLY_VARIABLES = [
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_MAX_CONCURRENCY',
  'AWS_XRAY_CONTEXT_MISSING',
  'AWS_XRAY_DAEMON_ADDRESS',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_PORT',
  '_HANDLER',
] as const;

/**
 * Every variable the emulator sets itself, in either environment: a customer value for one of these would be
 * overridden, so the command line refuses them.
 */
export const RESERVED_VARIABLES: ReadonlySet<string> = new Set([
  ...RUNTIME_ONLY_VARIABLES,
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'PATH',
  'LANG',
  'TZ',
  'TMPDIR',
]);

function logStreamName(functionVersion: string): string {
  const now = new Date();
  const date = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
  return `${date}/[${functionVersion}]${randomBytes(16).toString('hex')}`;
}

/**
 * Builds the two environments Lambda gives its processes: `extension` (common variables) and `runtime` (common + runtime-only).
 * Nothing is inherited from the emulator's own environment; customer variables cannot override reserved ones.
 */
export function buildEnvironments(input: EnvironmentInput): {
  extension: Record<string, string>;
  runtime: Record<string, string>;
} {
  const common: Record<string, string> = {
    ...input.env,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: input.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_LAMBDA_INITIALIZATION_TYPE: input.initializationType,
    // The node running the emulator stands in for /var/lang/bin, so `#!/usr/bin/env node` works.
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/opt/bin`,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    TMPDIR: input.tmpDir,
  };
  for (const key of RUNTIME_ONLY_VARIABLES) delete common[key];
  const runtime: Record<string, string> = {
    ...common,
    AWS_EXECUTION_ENV: `AWS_Lambda_${input.runtime}`,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${input.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(input.functionVersion),
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: input.handler,
    ...(input.maxConcurrency !== undefined
      ? { AWS_LAMBDA_MAX_CONCURRENCY: String(input.maxConcurrency) }
      : {}),
  };
  return { extension: common, runtime };
}
