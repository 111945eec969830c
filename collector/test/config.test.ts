import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PORT, isLoopbackHost, loadConfig, usage } from '../src/config.ts';
import { tempDir } from './helper.ts';

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
      lostAfterMs: 2 * 60 * 60 * 1000,
      logLevel: 'info',
      allowedOrigins: [],
      allowedHosts: [],
      requestTimeoutMs: 30_000,
      connectionTimeoutMs: 120_000,
      maxConnections: 1024,
      maxLiveClients: 200,
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
    const dir = tempDir();
    writeFileSync(join(dir, 'read'), 'flag-read-token\n');
    const config = loadConfig(
      ['--port=9000', '--db', 'x.db', '--read-token-file', join(dir, 'read')],
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
      [['--token', 'long-enough-1'], {}, '--token is not accepted: a secret on the command line'],
      [['--read-token=long-enough-1'], {}, 'use --read-token-file FILE or LIFELINE_READ_TOKEN'],
      [[], { LIFELINE_TOKEN: 'short' }, 'LIFELINE_TOKEN must be at least 8 characters long'],
      [['--token-file', '/nonexistent/token'], {}, '--token-file: cannot read /nonexistent/token'],
      [
        [],
        { LIFELINE_TOKEN: 'long-enough-1', LIFELINE_TOKEN_FILE: '/x' },
        'set LIFELINE_TOKEN_FILE or LIFELINE_TOKEN, not both',
      ],
      [['--allowed-origins', 'https://a.example/path'], {}, 'is not an origin like'],
      [['--allowed-hosts', 'a.example:443'], {}, 'is not a host name like'],
      [['--max-live-clients', '0'], {}, '--max-live-clients must be a positive integer'],
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

describe('secrets and access lists', () => {
  it('reads a token file without its final line break and checks it like a token', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ingest'), 'ingest-token-from-file\n');
    writeFileSync(join(dir, 'short'), 'short\n');
    expect(loadConfig(['--token-file', join(dir, 'ingest')], {}, dir).token).toBe(
      'ingest-token-from-file',
    );
    expect(loadConfig([], { LIFELINE_TOKEN_FILE: 'ingest' }, dir).token).toBe(
      'ingest-token-from-file',
    );
    // The flag wins over the variable that holds the secret itself, as flags always do.
    expect(
      loadConfig(['--token-file', join(dir, 'ingest')], { LIFELINE_TOKEN: 'from-env-123' }, dir)
        .token,
    ).toBe('ingest-token-from-file');
    expect(() => loadConfig(['--token-file', join(dir, 'short')], {}, dir)).toThrow(
      `the file of --token-file must be at least 8 characters long`,
    );
  });

  it('parses allowed origins and host names into their canonical form', () => {
    const config = loadConfig(
      ['--allowed-origins', 'https://Dash.Example.com, http://localhost:5173'],
      { LIFELINE_ALLOWED_HOSTS: 'Lifeline.Example.com,collector.internal.' },
    );
    expect(config.allowedOrigins).toEqual(['https://dash.example.com', 'http://localhost:5173']);
    expect(config.allowedHosts).toEqual(['lifeline.example.com', 'collector.internal']);
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
    expect(text).toMatch(new RegExp(`--port\\s+LIFELINE_PORT\\s+${DEFAULT_PORT}\\n`));
    expect(text).toMatch(
      /--token-file\s+LIFELINE_TOKEN_FILE\s+none \(or the token itself in LIFELINE_TOKEN\)/,
    );
    expect(text).not.toMatch(/^ {2}--token /m);
  });
});
