import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PORT, isLoopbackHost, loadConfig, usage } from '../src/config.ts';

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is given', () => {
    const config = loadConfig([], {}, '/srv/app');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: DEFAULT_PORT,
      dbPath: '/srv/app/data/lifeline.db',
      token: undefined,
      readToken: undefined,
      bodyLimit: 1024 * 1024,
      lostAfterMs: 15 * 60 * 1000,
      logLevel: 'info',
    });
    expect(config.webDir).toMatch(/web[/\\]dist$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every LIFELINE_* variable', () => {
    const config = loadConfig(
      [],
      {
        LIFELINE_HOST: '::1',
        LIFELINE_PORT: '0',
        LIFELINE_DATA_DIR: 'state',
        LIFELINE_TOKEN: 'ingest-token',
        LIFELINE_READ_TOKEN: 'read-token',
        LIFELINE_WEB_DIR: '/www',
        LIFELINE_BODY_LIMIT: '2048',
        LIFELINE_RETENTION_HOURS: '1.5',
        LIFELINE_RETENTION_MAX_MB: '10',
        LIFELINE_LOST_AFTER_MS: '5000',
        LIFELINE_LOG_LEVEL: 'warn',
      },
      '/srv/app',
    );
    expect(config).toMatchObject({
      host: '::1',
      port: 0,
      dbPath: '/srv/app/state/lifeline.db',
      token: 'ingest-token',
      readToken: 'read-token',
      webDir: '/www',
      bodyLimit: 2048,
      retentionHours: 1.5,
      retentionMaxMb: 10,
      lostAfterMs: 5000,
      logLevel: 'warn',
    });
  });

  it('lets flags win over variables, in both --flag value and --flag=value forms', () => {
    const config = loadConfig(
      ['--port=9000', '--db', 'x.db', '--read-token', 'flag-read-token'],
      { LIFELINE_PORT: '8000', LIFELINE_DB: '/ignored.db', LIFELINE_READ_TOKEN: 'env-token1' },
      '/srv/app',
    );
    expect(config).toMatchObject({
      port: 9000,
      dbPath: '/srv/app/x.db',
      readToken: 'flag-read-token',
    });
  });

  it('throws a ConfigError naming the input when a value is bad', () => {
    const cases: [string[], Record<string, string>, string][] = [
      [['--port', '70000'], {}, '--port must be an integer from 0 to 65535, got "70000"'],
      [[], { LIFELINE_PORT: 'x' }, 'LIFELINE_PORT must be a number, got "x"'],
      [['--body-limit', '1.5'], {}, '--body-limit must be a positive integer, got "1.5"'],
      [['--lost-after-ms', '0'], {}, '--lost-after-ms must be a positive number, got "0"'],
      [['--token', 'short'], {}, '--token must be at least 8 characters long'],
      [['--colour', 'red'], {}, 'unknown option "--colour"'],
      [['--port'], {}, 'option --port needs a value'],
      [[], { LIFELINE_LOG_LEVEL: 'loud' }, 'log level must be one of'],
    ];
    for (const [argv, env, message] of cases) {
      expect(() => loadConfig(argv, env), message).toThrow(ConfigError);
      expect(() => loadConfig(argv, env), message).toThrow(message);
    }
  });
});

describe('isLoopbackHost', () => {
  it('accepts loopback names and addresses and nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('usage', () => {
  it('lists every flag the parser accepts, with its variable, and never a secret value', () => {
    const text = usage('/tmp');
    const flags = [...text.matchAll(/^ {2}(--[a-z-]+)\s+(LIFELINE_[A-Z_]+)/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(flags.length).toBeGreaterThanOrEqual(11);
    for (const [flag, variable] of flags) {
      // Each listed flag really is one the parser knows, and so is its variable.
      const value = flag === '--log-level' ? 'debug' : flag === '--host' ? '127.0.0.1' : '12345678';
      expect(() => loadConfig([flag!, value], {}, '/tmp'), flag).not.toThrow(/unknown option/);
      expect(() => loadConfig([], { [variable!]: value }, '/tmp'), variable).not.toThrow(/unknown/);
    }
    expect(text).toContain(`--port               LIFELINE_PORT                ${DEFAULT_PORT}`);
    expect(text).toMatch(/--token\s+LIFELINE_TOKEN\s+none/);
  });
});
