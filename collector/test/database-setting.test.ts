import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startCollector } from '../src/start.ts';
import { testConfig } from './helper.ts';

describe('the database setting', () => {
  it('takes postgres:// and postgresql:// URLs as servers, anything else as a SQLite file', () => {
    const url = 'postgres://lifeline:secret@db.internal:5433/lifeline';
    expect(loadConfig(['--db', url], {}, '/srv').dbPath).toBe(url);
    expect(loadConfig([], { LIFELINE_DB: 'postgresql://db/x' }, '/srv').dbPath).toBe(
      'postgresql://db/x',
    );
    expect(loadConfig(['--db', 'data/x.db'], {}, '/srv').dbPath).toBe('/srv/data/x.db');
  });

  it('refuses a PostgreSQL URL it cannot use, without echoing it', () => {
    for (const bad of ['postgres:lifeline', 'postgresql:///nohost', 'postgres://:secret@:5432/x']) {
      const attempt = () => loadConfig(['--db', bad], {}, '/srv');
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/--db .*PostgreSQL/);
      expect(attempt).not.toThrow(/secret/);
    }
  });

  it('fails at start-up with a clear error when the server cannot be reached', async () => {
    await expect(
      startCollector(testConfig({ dbPath: 'postgres://lifeline:secret@127.0.0.1:1/lifeline' })),
    ).rejects.toThrow(/^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/lifeline: /);
  });
});
