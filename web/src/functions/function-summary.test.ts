import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { TimelineBuilder } from '../timeline/timeline-builder.ts';
import { functionOverviews } from './function-summary.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('functionOverviews', () => {
  it('counts alive environments, cold starts, invokes per minute and outcomes per function', () => {
    const lanes = new TimelineBuilder().apply(
      storedLifecycles([
        {
          envId: 'a1',
          functionName: 'a',
          startAt: T0,
          invokes: 10,
          gapMs: 1000,
          shutdownReason: 'spindown',
        },
        {
          envId: 'a2',
          functionName: 'a',
          functionVersion: '2',
          startAt: T0,
          invokes: 5,
          gapMs: 1000,
          statusOf: (i) => (i === 0 ? 'timeout' : i === 1 ? 'error' : 'success'),
        },
        { envId: 'b1', functionName: 'b', startAt: T0, invokes: 0 },
      ]),
    ).lanes;
    const [a, b] = functionOverviews(lanes.values(), T0 + 60_000);
    expect(a).toMatchObject({
      functionName: 'a',
      versions: ['$LATEST', '2'],
      environments: 2,
      alive: 1,
      coldStarts: 2,
      initDurationP50: 180,
      initDurationP95: 180,
      invokes: 15,
      errors: 1,
      timeouts: 1,
      shutdowns: { spindown: 1, timeout: 0, failure: 0, other: 0 },
    });
    // All 15 invokes fall within the last 5 minutes of activity: 3 per minute.
    expect(a!.invokesPerMinute).toBe(3);
    expect(b).toMatchObject({ functionName: 'b', alive: 1, invokes: 0, invokesPerMinute: 0 });
  });

  it('takes the init duration from the first report when there is no platform.initReport, as the collector does', () => {
    const events = storedLifecycles([
      { envId: 'n1', functionName: 'n', startAt: T0, invokes: 2, lateReports: false },
    ]).filter(
      (e) => !(e.event.type === 'platform' && e.event.recordType === 'platform.initReport'),
    );
    const [n] = functionOverviews(new TimelineBuilder().apply(events).lanes.values(), T0 + 60_000);
    // exampleLifecycle puts initDurationMs 180 in the first invoke's report.
    expect(n).toMatchObject({ initDurationP50: 180, initDurationP95: 180 });
  });

  it('returns nothing when there are no lanes', () => {
    expect(functionOverviews([], T0)).toEqual([]);
  });
});
