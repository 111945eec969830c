import type { LifelineEvent, StoredEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { laneHeight, MAX_SUB_LANES, SUB_LANE_H, slotOf, subLanesOf } from './sub-lanes.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A Managed Instances environment with `count` invokes starting 100 ms apart, each `durationMs` long. */
function lmiLane(
  count: number,
  durationMs: number,
  initializationType = 'lambda-managed-instances',
) {
  const envId = `lmi-${count}-${durationMs}`;
  let seq = 0;
  const events: LifelineEvent[] = [
    {
      id: `${envId}:${seq}`,
      envId,
      seq: seq++,
      time: T0,
      type: 'register',
      functionName: 'orders',
      functionVersion: '1',
      handler: 'h',
      memorySizeMb: 512,
      initializationType,
      architecture: 'arm64',
      extensionName: 'lifeline',
      extensionVersion: '0.1.0',
      startToRegisteredMs: 40,
      registeredEvents: ['SHUTDOWN'],
    },
  ];
  for (let i = 0; i < count; i++) {
    const start = T0 + 1000 + i * 100;
    for (const [time, recordType, record] of [
      [start, 'platform.start', { requestId: `r${i}` }],
      [
        start + durationMs,
        'platform.report',
        { requestId: `r${i}`, status: 'success', metrics: { durationMs } },
      ],
    ] as const) {
      events.push({
        id: `${envId}:${seq}`,
        envId,
        seq: seq++,
        time,
        type: 'platform',
        recordType,
        recordTime: time,
        record,
      });
    }
  }
  const stored: StoredEvent[] = events.map((event, i) => ({
    cursor: i + 1,
    receivedAt: event.time,
    event,
  }));
  return new TimelineBuilder().apply(stored).lanes.get(envId)!;
}

describe('subLanesOf', () => {
  it('gives overlapping invokes their own slots and the lane room for its peak', () => {
    const lane = lmiLane(4, 1000);
    const sub = subLanesOf(lane)!;
    expect(sub.peak).toBe(4);
    expect(new Set(lane.invokes.map((_, i) => slotOf(sub, i)))).toEqual(new Set([0, 1, 2, 3]));
    expect(laneHeight(lane)).toBe(12 + 4 * SUB_LANE_H);
  });

  it('reuses one slot when the invokes do not overlap', () => {
    const lane = lmiLane(3, 50);
    expect(subLanesOf(lane)!.peak).toBe(1);
    expect(laneHeight(lane)).toBe(30);
  });

  it('caps the sub-lanes drawn when very many invokes run at once', () => {
    const lane = lmiLane(MAX_SUB_LANES + 5, 10_000);
    const sub = subLanesOf(lane)!;
    expect(sub.peak).toBe(MAX_SUB_LANES + 5);
    expect(Math.max(...lane.invokes.map((_, i) => slotOf(sub, i)))).toBe(MAX_SUB_LANES - 1);
    expect(laneHeight(lane)).toBe(12 + MAX_SUB_LANES * SUB_LANE_H);
  });
});
