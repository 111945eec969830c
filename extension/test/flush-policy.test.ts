import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  decide,
  type FlushState,
  invokeEndWaitMs,
  isStale,
  LIVE_END_AUTO_MIN_INTERVAL_MS,
  LIVE_END_DEADLINE_GUARD_MS,
  LIVE_END_MAX_WAIT_MS,
  retryInMs,
  STALE_AFTER_PAUSE_MS,
  shouldSpool,
  waitForInvokeEnd,
} from '../src/flush-policy.ts';

const idle: FlushState = { sendable: 3, inFlight: false, failures: 0, lastFailureAt: 0 };

describe('decide', () => {
  it('sends now when events wait and nothing is in flight', () => {
    expect(decide(idle, 'record', 1000)).toBe('now');
  });

  it('waits when a batch is in flight or nothing is pending', () => {
    expect(decide({ ...idle, inFlight: true }, 'invoke', 1000)).toBe('later');
    expect(decide({ ...idle, sendable: 0 }, 'invoke', 1000)).toBe('later');
  });

  it('backs off after failures when the trigger is a record or a retry', () => {
    const failing = { ...idle, failures: 3, lastFailureAt: 1000 };
    expect(decide(failing, 'record', 1100)).toBe('later');
    expect(decide(failing, 'retry', 1000 + backoffMs(3, 'retry'))).toBe('now');
  });

  it('tries at once on INVOKE even while backing off', () => {
    expect(decide({ ...idle, failures: 10, lastFailureAt: 1000 }, 'invoke', 1001)).toBe('now');
  });
});

describe('backoffMs', () => {
  it('doubles from 100 ms and caps at 5 s, 50 ms at shutdown', () => {
    expect([0, 1, 2, 3].map((n) => backoffMs(n, 'record'))).toEqual([0, 100, 200, 400]);
    expect(backoffMs(40, 'record')).toBe(5000);
    expect(backoffMs(5, 'shutdown')).toBe(50);
  });
});

describe('retryInMs', () => {
  it('is what is left of the backoff, at least 1 ms', () => {
    const failing = { ...idle, failures: 2, lastFailureAt: 1000 };
    expect(retryInMs(failing, 'retry', 1050)).toBe(150);
    expect(retryInMs(failing, 'retry', 5000)).toBe(1);
  });
});

describe('isStale', () => {
  it('abandons only a flight from before a pause of a second or more', () => {
    expect(isStale(true, 1000, 1000 + STALE_AFTER_PAUSE_MS)).toBe(true);
    expect(isStale(true, 1000, 1000 + STALE_AFTER_PAUSE_MS - 1)).toBe(false);
    expect(isStale(false, 1000, 1_000_000)).toBe(false);
  });
});

describe('shouldSpool', () => {
  const healthy = { pending: 3, oldestTime: 2000, failures: 0, previousPauseAt: 1000 };
  it('skips young events while the collector is healthy', () => {
    expect(shouldSpool(healthy)).toBe(false);
  });
  it('writes when the buffer emptied, when failing, or when an event survived a pause', () => {
    expect(shouldSpool({ ...healthy, pending: 0, oldestTime: undefined })).toBe(true);
    expect(shouldSpool({ ...healthy, failures: 1 })).toBe(true);
    expect(shouldSpool({ ...healthy, oldestTime: 1000 })).toBe(true);
  });
});

describe('waitForInvokeEnd', () => {
  it('always or never when on or off', () => {
    expect(waitForInvokeEnd('on', 1, false)).toBe(true);
    expect(waitForInvokeEnd('off', undefined, false)).toBe(false);
  });
  it('auto: for the first invoke and when the previous one came a second or more earlier', () => {
    expect(waitForInvokeEnd('auto', undefined, false)).toBe(true);
    expect(waitForInvokeEnd('auto', LIVE_END_AUTO_MIN_INTERVAL_MS, false)).toBe(true);
    expect(waitForInvokeEnd('auto', LIVE_END_AUTO_MIN_INTERVAL_MS - 1, false)).toBe(false);
  });
  it('never while delivery is failing', () => {
    expect(waitForInvokeEnd('on', undefined, true)).toBe(false);
    expect(waitForInvokeEnd('auto', undefined, true)).toBe(false);
  });
});

describe('invokeEndWaitMs', () => {
  it('is capped after the INVOKE and never reaches into the guard before the deadline', () => {
    expect(invokeEndWaitMs(1000, 1_000_000, 1000)).toBe(LIVE_END_MAX_WAIT_MS);
    expect(invokeEndWaitMs(1000, 2000, 1500)).toBe(2000 - LIVE_END_DEADLINE_GUARD_MS - 1500);
    expect(invokeEndWaitMs(1000, 1050, 1000)).toBe(0);
  });
});
