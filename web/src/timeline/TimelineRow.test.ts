import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { MAX_INVOKE_TARGETS, visibleRange } from './TimelineRow.tsx';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function bars(invokes: number) {
  return new TimelineBuilder()
    .apply(storedLifecycles([{ envId: 'v', startAt: T0, invokes, durationMs: 100, gapMs: 900 }]))
    .lanes.get('v')!.invokes;
}

describe('visibleRange', () => {
  it('includes a bar that started before the window but still overlaps it', () => {
    const list = bars(5);
    const second = list[1]!;
    const [from, to] = visibleRange(
      list,
      { start: second.startAt + 50, end: second.startAt + 60 },
      T0 + 1e6,
    );
    expect([from, to]).toEqual([1, 2]);
  });

  it('is empty when the window falls in a frozen gap', () => {
    const list = bars(5);
    const gapStart = list[1]!.startAt + 300;
    const [from, to] = visibleRange(list, { start: gapStart, end: gapStart + 100 }, T0 + 1e6);
    expect(to - from).toBe(0);
  });

  it('caps the targets per lane when very many invokes are in view', () => {
    const list = bars(MAX_INVOKE_TARGETS + 50);
    const [from, to] = visibleRange(list, { start: T0, end: T0 + 1e9 }, T0 + 1e9);
    expect(from).toBe(0);
    expect(to).toBe(MAX_INVOKE_TARGETS);
  });
});
