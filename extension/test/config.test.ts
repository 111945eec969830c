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
});
