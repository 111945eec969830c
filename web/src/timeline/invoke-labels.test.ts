import { newInvocationFacts } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { invokeLabel, isNearTimeout, laneLabel, shortId } from './invoke-labels.ts';
import type { InvokeBar } from './lane-model.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function bar(overrides: Partial<InvokeBar>): InvokeBar {
  return {
    requestId: '8484521e-1c2d-4e5f-9a0b-123456789abc',
    envId: 'e',
    startAt: T0,
    deadlineMs: T0 + 1000,
    invokedFunctionArn: null,
    traceId: null,
    platformStartAt: T0,
    runtimeDoneAt: T0 + 120,
    durationMs: 120,
    billedDurationMs: 120,
    memorySizeMb: 128,
    maxMemoryUsedMb: 64,
    initDurationMs: null,
    extensionOverheadMs: null,
    status: 'success',
    errorType: null,
    reportPending: false,
    headroomMs: 880,
    responseLatencyMs: null,
    responseDurationMs: null,
    facts: newInvocationFacts('e', '8484521e-1c2d-4e5f-9a0b-123456789abc'),
    ...overrides,
  };
}

describe('invokeLabel', () => {
  it('names the invoke by short request id, duration and status', () => {
    expect(invokeLabel(bar({}))).toBe('Invoke 8484521e… 120 ms success');
  });

  it('says running when the invoke has not finished', () => {
    expect(
      invokeLabel(
        bar({ status: 'running', runtimeDoneAt: null, durationMs: null, headroomMs: null }),
      ),
    ).toBe('Invoke 8484521e… running');
  });

  it('says awaiting report, not running, when the shared rule says the invoke can no longer run', () => {
    const open = bar({
      status: 'running',
      runtimeDoneAt: null,
      durationMs: null,
      headroomMs: null,
    });
    expect(invokeLabel(open, 'awaiting-report')).toBe('Invoke 8484521e… awaiting report');
  });

  it('flags a near timeout when less than 10 % of the budget was left', () => {
    const near = bar({ runtimeDoneAt: T0 + 950, durationMs: 950, headroomMs: 50 });
    expect(isNearTimeout(near)).toBe(true);
    expect(invokeLabel(near)).toBe('Invoke 8484521e… 950 ms success near timeout');
    expect(isNearTimeout(bar({ headroomMs: 100 }))).toBe(false);
    expect(isNearTimeout(bar({ status: 'timeout', headroomMs: 0 }))).toBe(false);
  });
});

describe('laneLabel', () => {
  it('names the environment with function, state, invoke count and shutdown reason', () => {
    const lane = new TimelineBuilder()
      .apply(
        storedLifecycles([
          {
            envId: 'c0ffee0a-4b1d',
            functionName: 'orders',
            startAt: T0,
            invokes: 1,
            shutdownReason: 'spindown',
          },
        ]),
      )
      .lanes.get('c0ffee0a-4b1d')!;
    expect(laneLabel(lane, 'ended')).toBe(
      'Environment c0ffee0a… orders ended, 1 invoke, shutdown spindown',
    );
  });
});

describe('shortId', () => {
  it('keeps short ids whole and shortens long ones to eight characters', () => {
    expect(shortId('abc')).toBe('abc');
    expect(shortId('123456789')).toBe('123456789');
    expect(shortId('1234567890')).toBe('12345678…');
  });
});
