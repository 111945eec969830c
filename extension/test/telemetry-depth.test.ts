import { describe, expect, it } from 'vitest';
import { parseTelemetryBody } from '../src/telemetry-listener.ts';

describe('parseTelemetryBody', () => {
  it('replaces a pathologically nested record by a small placeholder and keeps the others when nested 150,000 deep', () => {
    const depth = 150_000;
    const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const ok = (id: string) =>
      `{"type":"platform.start","time":"2024-01-01T00:00:00Z","record":{"requestId":"${id}"}}`;
    const body = `[${ok('r1')},{"type":"platform.report","time":"2024-01-01T00:00:00Z","record":${deep}},${ok('r2')}]`;
    const records = parseTelemetryBody(body, 0);
    expect(records).toHaveLength(3);
    expect(records?.[0]?.record).toEqual({ requestId: 'r1' });
    expect(records?.[2]?.record).toEqual({ requestId: 'r2' });
    expect(JSON.stringify(records?.[1]).length).toBeLessThan(500);
  });

  it('keeps the requestId of a record that is too deeply nested', () => {
    let inner = '1';
    for (let i = 0; i < 100; i++) inner = `{"x":${inner}}`;
    const body = `[{"type":"platform.report","time":"2024-01-01T00:00:00Z","record":{"requestId":"r9","metrics":${inner}}}]`;
    const record = parseTelemetryBody(body, 0)?.[0]?.record;
    expect(record).toMatchObject({ requestId: 'r9' });
    expect(JSON.stringify(record).length).toBeLessThan(500);
  });
});
