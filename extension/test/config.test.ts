import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseConfig } from '../src/config.ts';

describe('parseConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const { config, warnings } = parseConfig({});
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      collectorUrl: undefined,
      logLevel: 'warn',
      telemetry: true,
      telemetryPort: DEFAULTS.telemetryPort,
      telemetryHost: '0.0.0.0',
      invokeWaitMs: 50,
      shutdownMarginMs: 150,
      spoolDir: join(tmpdir(), 'lifeline'),
      initializationType: 'on-demand',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable when all are valid', () => {
    const { config, warnings } = parseConfig({
      LIFELINE_COLLECTOR_URL: 'https://collector.example.com/base/',
      LIFELINE_TOKEN: 't',
      LIFELINE_LOG_LEVEL: 'DEBUG',
      LIFELINE_TELEMETRY: 'off',
      LIFELINE_TELEMETRY_PORT: '0',
      LIFELINE_TELEMETRY_HOST: '127.0.0.1',
      LIFELINE_INVOKE_WAIT_MS: '20',
      LIFELINE_BATCH_MAX_EVENTS: '10',
      LIFELINE_BUFFER_MAX_EVENTS: '100',
      LIFELINE_BUFFER_MAX_BYTES: '100000',
      LIFELINE_SPOOL_DIR: '/tmp/x',
      LIFELINE_SPOOL_MAX_BYTES: '5000',
      LIFELINE_SHUTDOWN_MARGIN_MS: '300',
      LIFELINE_REQUEST_TIMEOUT_MS: '900',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      collectorUrl: 'https://collector.example.com/base',
      token: 't',
      logLevel: 'debug',
      telemetry: false,
      telemetryPort: 0,
      telemetryHost: '127.0.0.1',
      invokeWaitMs: 20,
      batchMaxEvents: 10,
      bufferMaxEvents: 100,
      bufferMaxBytes: 100000,
      spoolDir: '/tmp/x',
      spoolMaxBytes: 5000,
      shutdownMarginMs: 300,
      requestTimeoutMs: 900,
      memorySizeMb: 512,
      executionEnv: 'AWS_Lambda_nodejs22.x',
    });
  });

  it('falls back to defaults with one warning per bad value when values are invalid', () => {
    const { config, warnings } = parseConfig({
      LIFELINE_INVOKE_WAIT_MS: 'soon',
      LIFELINE_TELEMETRY_PORT: '70000',
      LIFELINE_BATCH_MAX_EVENTS: '1.5',
      LIFELINE_LOG_LEVEL: 'loud',
      LIFELINE_TELEMETRY: 'maybe',
    });
    expect(config.invokeWaitMs).toBe(50);
    expect(config.telemetryPort).toBe(0);
    expect(config.batchMaxEvents).toBe(500);
    expect(config.logLevel).toBe('warn');
    expect(config.telemetry).toBe(true);
    expect(warnings).toHaveLength(5);
    expect(warnings.join('\n')).toContain('LIFELINE_INVOKE_WAIT_MS');
  });

  it('refuses a collector URL that is not http(s) or carries credentials', () => {
    for (const url of ['ftp://x', 'not a url', 'http://user:pw@host', 'http://host/?q=1']) {
      const { config, warnings } = parseConfig({ LIFELINE_COLLECTOR_URL: url });
      expect(config.collectorUrl).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).not.toContain('pw');
    }
  });

  it('reads the token from Secrets Manager with its field and AWS settings when only the ARN is set', () => {
    const { config, warnings } = parseConfig({
      LIFELINE_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:t',
      LIFELINE_TOKEN_SECRET_FIELD: 'token',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:2',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:3',
    });
    expect(warnings).toEqual([]);
    expect(config.token).toBeUndefined();
    expect(config.tokenSource).toEqual({
      kind: 'secret',
      secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:t',
      field: 'token',
    });
    expect(config.aws).toEqual({
      region: 'eu-west-1',
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
      sessionToken: 'session',
      endpointUrl: 'http://127.0.0.1:2',
    });
  });

  it('reads the token from SSM, falling back to AWS_ENDPOINT_URL, when only the parameter is set', () => {
    const { config, warnings } = parseConfig({
      LIFELINE_TOKEN_SSM_PARAMETER: '/lifeline/token',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:2',
    });
    expect(warnings).toEqual([]);
    expect(config.tokenSource).toEqual({ kind: 'ssm', name: '/lifeline/token' });
    expect(config.aws?.endpointUrl).toBe('http://127.0.0.1:1');
  });

  it('prefers LIFELINE_TOKEN and says so once when a runtime source is set too', () => {
    const { config, warnings } = parseConfig({
      LIFELINE_TOKEN: 't',
      LIFELINE_TOKEN_SECRET_ARN: 'arn',
      LIFELINE_TOKEN_SSM_PARAMETER: 'p',
    });
    expect(config.token).toBe('t');
    expect(config.tokenSource).toBeUndefined();
    expect(config.aws).toBeUndefined();
    expect(warnings).toEqual([
      'LIFELINE_TOKEN is set and takes precedence; ignoring LIFELINE_TOKEN_SECRET_ARN and LIFELINE_TOKEN_SSM_PARAMETER',
    ]);
  });

  it('uses the secret and warns when both runtime sources are set', () => {
    const { config, warnings } = parseConfig({
      LIFELINE_TOKEN_SECRET_ARN: 'arn',
      LIFELINE_TOKEN_SSM_PARAMETER: 'p',
    });
    expect(config.tokenSource).toEqual({ kind: 'secret', secretId: 'arn', field: undefined });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('using the secret');
  });
});
