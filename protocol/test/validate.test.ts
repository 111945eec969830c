import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  EVENT_TYPES,
  exampleLifecycle,
  type LifelineEvent,
  percentile,
  type TelemetryApiEvent,
  validateBatch,
  validateEvent,
} from '../src/index.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;

const invoke = {
  id: 'env-1:1',
  envId: 'env-1',
  seq: 1,
  time: 1_700_000_000_000,
  type: 'invoke',
  requestId: 'req-1',
  deadlineMs: 1_700_000_003_000,
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
};

describe('validateEvent', () => {
  it('accepts every event of a generated lifecycle', () => {
    const events = exampleLifecycle({
      envId: 'env-a',
      startAt: 1_700_000_000_000,
      invokes: 4,
      shutdownReason: 'spindown',
    });
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['register', 'invoke', 'platform', 'shutdown', 'exit']),
    );
    for (const event of events) expect(validateEvent(event)).toMatchObject({ ok: true });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  });

  it('names the field that is wrong', () => {
    const result = validateEvent({ ...invoke, deadlineMs: 'soon' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.path).toBe('/deadlineMs');
  });

  it('rejects unknown types and unknown fields', () => {
    const unknownType = validateEvent({ ...invoke, type: 'teleport' });
    expect(unknownType).toEqual({
      ok: false,
      issues: [{ path: '/type', message: `must be one of ${EVENT_TYPES.join(', ')}` }],
    });
    const extra = validateEvent({ ...invoke, surprise: 1 });
    expect(extra.ok).toBe(false);
    expect(extra).toEqual({
      ok: false,
      issues: [{ path: '/surprise', message: 'is not a known field' }],
    });
  });

  it('rejects a negative seq and an empty id', () => {
    for (const bad of [
      { ...invoke, seq: -1 },
      { ...invoke, id: '' },
      { ...invoke, seq: 1.5 },
    ]) {
      expect(validateEvent(bad).ok).toBe(false);
    }
  });

  it('accepts shutdown reasons as received, whatever their casing', () => {
    for (const shutdownReason of [
      'spindown',
      'timeout',
      'failure',
      'SandboxTerminated',
      'ReleaseFail',
    ]) {
      const event = {
        id: 'e:2',
        envId: 'e',
        seq: 2,
        time: 1,
        type: 'shutdown',
        shutdownReason,
        deadlineMs: 2001,
      };
      expect(validateEvent(event).ok).toBe(true);
    }
  });

  it('carries real Telemetry API records unchanged as platform events', () => {
    const records = [
      ...fixture<TelemetryApiEvent[]>('telemetry-cold-start.json'),
      ...fixture<TelemetryApiEvent[]>('telemetry-invoke.json'),
    ];
    records.forEach((r, seq) => {
      const event = {
        id: `e:${seq}`,
        envId: 'e',
        seq,
        time: 1,
        type: 'platform',
        recordType: r.type,
        recordTime: Date.parse(r.time),
        record: r.record,
      };
      expect(validateEvent(event)).toEqual({ ok: true, value: event });
    });
  });
});

describe('validateBatch', () => {
  it('reports which event and which field', () => {
    const result = validateBatch({ events: [invoke, { ...invoke, requestId: 42 }] });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({ index: 1, path: '/events/1/requestId' });
  });

  it('rejects bodies that are not batches', () => {
    for (const body of [
      null,
      [],
      'x',
      {},
      { events: [] },
      { events: {} },
      { events: [invoke], extra: true },
    ]) {
      expect(validateBatch(body).ok).toBe(false);
    }
  });

  it('types the accepted batch as events', () => {
    const result = validateBatch({ events: [invoke] });
    expect(result.ok).toBe(true);
    if (result.ok) expectTypeOf(result.value).toEqualTypeOf<LifelineEvent[]>();
  });
});

describe('percentile', () => {
  it('takes the nearest rank of unsorted values', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([5, 1, 3, 2, 4], 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
  });

  it('returns null for no values', () => {
    expect(percentile([], 50)).toBeNull();
  });
});

describe('register fields of newer lifecycles', () => {
  const register = exampleLifecycle({
    envId: 'env-r',
    startAt: 1_700_000_000_000,
    invokes: 0,
    shutdownReason: 'spindown',
  })[0]!;

  it('accepts a Managed Instances registration (SHUTDOWN only) and a SnapStart restore link', () => {
    expect(register.type).toBe('register');
    expect(validateEvent({ ...register, registeredEvents: ['SHUTDOWN'] })).toMatchObject({
      ok: true,
    });
    expect(validateEvent({ ...register, restoredFrom: 'snapshot-env' })).toMatchObject({
      ok: true,
    });
    expect(validateEvent(register)).toMatchObject({ ok: true });
  });

  it('rejects unknown or repeated registered events', () => {
    expect(validateEvent({ ...register, registeredEvents: ['FREEZE'] }).ok).toBe(false);
    expect(validateEvent({ ...register, registeredEvents: ['INVOKE', 'INVOKE'] }).ok).toBe(false);
  });
});
