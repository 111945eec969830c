import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLogLevel, type LogLevel } from './logger.ts';

/** Everything the extension reads from its environment, parsed once. Nothing else reads `process.env`. */
export interface Config {
  /** `AWS_LAMBDA_RUNTIME_API`, e.g. `127.0.0.1:9001`; undefined when missing. */
  readonly runtimeApi: string | undefined;
  /** Collector base URL without a trailing slash; undefined means pass-through mode. */
  readonly collectorUrl: string | undefined;
  /** `LIFELINE_TOKEN`; takes precedence over {@link Config.tokenSource}. */
  readonly token: string | undefined;
  /** Where the token is read at run time when `LIFELINE_TOKEN` is not set (Secrets Manager or SSM). */
  readonly tokenSource: RuntimeTokenSource | undefined;
  /** Region, credentials and endpoint for {@link Config.tokenSource}; undefined without one. */
  readonly aws: AwsEnvironment | undefined;
  readonly logLevel: LogLevel;
  readonly telemetry: boolean;
  readonly telemetryPort: number;
  readonly telemetryHost: string;
  readonly invokeWaitMs: number;
  /** `LIFELINE_LIVE_INVOKE_END`: wait for the invoke's `platform.runtimeDone` before `/event/next` (see README). */
  readonly liveInvokeEnd: LiveInvokeEnd;
  readonly batchMaxEvents: number;
  readonly bufferMaxEvents: number;
  readonly bufferMaxBytes: number;
  readonly spoolDir: string;
  readonly spoolMaxBytes: number;
  readonly shutdownMarginMs: number;
  readonly requestTimeoutMs: number;
  /** Function metadata visible to extensions. */
  readonly functionName: string | undefined;
  readonly region: string | undefined;
  readonly memorySizeMb: number;
  readonly executionEnv: string | undefined;
  readonly initializationType: string;
}

/** When to deliver an invoke's end before `/event/next`: always, never, or when invokes are rare. */
export type LiveInvokeEnd = 'auto' | 'on' | 'off';

/** A token kept in AWS, read by the extension itself (`LIFELINE_TOKEN_SECRET_ARN`, `LIFELINE_TOKEN_SSM_PARAMETER`). */
export type RuntimeTokenSource =
  /** Secrets Manager `GetSecretValue`: the SecretString, or its JSON `field`. */
  | { readonly kind: 'secret'; readonly secretId: string; readonly field: string | undefined }
  /** SSM `GetParameter` with decryption (a SecureString). */
  | { readonly kind: 'ssm'; readonly name: string };

/** What signing and addressing an AWS request needs; checked when the token is fetched. */
export interface AwsEnvironment {
  readonly region: string | undefined;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  readonly sessionToken: string | undefined;
  /** `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SSM`, else `AWS_ENDPOINT_URL`. */
  readonly endpointUrl: string | undefined;
}

/** The parsed configuration plus one human-readable warning per ignored value. */
export interface ParsedConfig {
  config: Config;
  warnings: string[];
}

/** Defaults for every tunable; documented in the README. */
export const DEFAULTS = {
  logLevel: 'warn',
  // Ephemeral by default: a fixed port clashes with another extension that picked the same one (AWS's sample
  // telemetry extension uses 4243) and with other sandboxes sharing a host under the emulator. The subscription
  // carries the port actually bound.
  telemetryPort: 0,
  telemetryHost: '0.0.0.0',
  invokeWaitMs: 50,
  batchMaxEvents: 500,
  bufferMaxEvents: 10_000,
  bufferMaxBytes: 4 * 1024 * 1024,
  spoolMaxBytes: 4 * 1024 * 1024,
  shutdownMarginMs: 150,
  requestTimeoutMs: 5_000,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the environment into a frozen {@link Config}. Invalid values fall back to their default and add a warning;
 * nothing here throws.
 *
 * @example
 * const { config, warnings } = parseConfig(process.env);
 */
export function parseConfig(env: Env): ParsedConfig {
  const warnings: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      warnings.push(`${name} must be an integer in ${min}..${max}; using ${fallback}`);
      return fallback;
    }
    return value;
  };
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  let collectorUrl = text('LIFELINE_COLLECTOR_URL');
  if (collectorUrl !== undefined) {
    const parsed = parseHttpUrl(collectorUrl);
    if (parsed === undefined) {
      warnings.push(
        'LIFELINE_COLLECTOR_URL must be an http(s) URL without credentials; recording nothing',
      );
      collectorUrl = undefined;
    } else {
      collectorUrl = parsed;
    }
  }

  let logLevel: LogLevel = DEFAULTS.logLevel;
  const rawLevel = text('LIFELINE_LOG_LEVEL')?.toLowerCase();
  if (rawLevel !== undefined) {
    if (isLogLevel(rawLevel)) logLevel = rawLevel;
    else
      warnings.push(
        `LIFELINE_LOG_LEVEL must be debug, info, warn, error or silent; using ${logLevel}`,
      );
  }

  let telemetry = true;
  const rawTelemetry = text('LIFELINE_TELEMETRY')?.toLowerCase();
  if (rawTelemetry !== undefined) {
    if (rawTelemetry === 'off' || rawTelemetry === 'false' || rawTelemetry === '0')
      telemetry = false;
    else if (rawTelemetry !== 'on' && rawTelemetry !== 'true' && rawTelemetry !== '1') {
      warnings.push('LIFELINE_TELEMETRY must be on or off; using on');
    }
  }

  let liveInvokeEnd: LiveInvokeEnd = 'auto';
  const rawLiveEnd = text('LIFELINE_LIVE_INVOKE_END')?.toLowerCase();
  if (rawLiveEnd !== undefined) {
    if (rawLiveEnd === 'auto' || rawLiveEnd === 'on' || rawLiveEnd === 'off')
      liveInvokeEnd = rawLiveEnd;
    else warnings.push('LIFELINE_LIVE_INVOKE_END must be auto, on or off; using auto');
  }

  const token = text('LIFELINE_TOKEN');
  const secretId = text('LIFELINE_TOKEN_SECRET_ARN');
  const parameter = text('LIFELINE_TOKEN_SSM_PARAMETER');
  let tokenSource: RuntimeTokenSource | undefined;
  if (token !== undefined) {
    const ignored = [
      secretId && 'LIFELINE_TOKEN_SECRET_ARN',
      parameter && 'LIFELINE_TOKEN_SSM_PARAMETER',
    ].filter(Boolean);
    if (ignored.length > 0)
      warnings.push(
        `LIFELINE_TOKEN is set and takes precedence; ignoring ${ignored.join(' and ')}`,
      );
  } else if (secretId !== undefined) {
    tokenSource = { kind: 'secret', secretId, field: text('LIFELINE_TOKEN_SECRET_FIELD') };
    if (parameter !== undefined)
      warnings.push(
        'LIFELINE_TOKEN_SECRET_ARN and LIFELINE_TOKEN_SSM_PARAMETER are both set; using the secret',
      );
  } else if (parameter !== undefined) {
    tokenSource = { kind: 'ssm', name: parameter };
  }
  const region = text('AWS_REGION') ?? text('AWS_DEFAULT_REGION');
  const aws: AwsEnvironment | undefined =
    tokenSource === undefined
      ? undefined
      : {
          region,
          accessKeyId: text('AWS_ACCESS_KEY_ID'),
          secretAccessKey: text('AWS_SECRET_ACCESS_KEY'),
          sessionToken: text('AWS_SESSION_TOKEN'),
          endpointUrl:
            text(
              tokenSource.kind === 'secret'
                ? 'AWS_ENDPOINT_URL_SECRETS_MANAGER'
                : 'AWS_ENDPOINT_URL_SSM',
            ) ?? text('AWS_ENDPOINT_URL'),
        };

  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const config: Config = {
    runtimeApi: text('AWS_LAMBDA_RUNTIME_API'),
    collectorUrl,
    token,
    tokenSource,
    aws,
    logLevel,
    telemetry,
    telemetryPort: int('LIFELINE_TELEMETRY_PORT', DEFAULTS.telemetryPort, 0, 65_535),
    telemetryHost: text('LIFELINE_TELEMETRY_HOST') ?? DEFAULTS.telemetryHost,
    invokeWaitMs: int('LIFELINE_INVOKE_WAIT_MS', DEFAULTS.invokeWaitMs, 0, 60_000),
    liveInvokeEnd,
    batchMaxEvents: int('LIFELINE_BATCH_MAX_EVENTS', DEFAULTS.batchMaxEvents, 1, 5_000),
    bufferMaxEvents: int('LIFELINE_BUFFER_MAX_EVENTS', DEFAULTS.bufferMaxEvents, 10, 1_000_000),
    bufferMaxBytes: int(
      'LIFELINE_BUFFER_MAX_BYTES',
      DEFAULTS.bufferMaxBytes,
      4096,
      512 * 1024 * 1024,
    ),
    spoolDir: text('LIFELINE_SPOOL_DIR') ?? join(tmpdir(), 'lifeline'),
    spoolMaxBytes: int('LIFELINE_SPOOL_MAX_BYTES', DEFAULTS.spoolMaxBytes, 0, 512 * 1024 * 1024),
    shutdownMarginMs: int('LIFELINE_SHUTDOWN_MARGIN_MS', DEFAULTS.shutdownMarginMs, 0, 10_000),
    requestTimeoutMs: int('LIFELINE_REQUEST_TIMEOUT_MS', DEFAULTS.requestTimeoutMs, 1, 600_000),
    functionName: text('AWS_LAMBDA_FUNCTION_NAME'),
    region,
    memorySizeMb: Number.isInteger(memory) && memory >= 0 && memory <= 1_000_000 ? memory : 0,
    executionEnv: text('AWS_EXECUTION_ENV'),
    initializationType: text('AWS_LAMBDA_INITIALIZATION_TYPE') ?? 'on-demand',
  };
  return { config: Object.freeze(config), warnings };
}

function parseHttpUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
