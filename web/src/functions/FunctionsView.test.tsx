// @vitest-environment jsdom
import type { FunctionStats, FunctionStatsItem } from '@lifeline/protocol';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionsReport } from './FunctionsView.tsx';
import { sparkPoints } from './Sparkline.tsx';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function item(functionName: string, patch: Partial<FunctionStatsItem>): FunctionStatsItem {
  return {
    functionName,
    versions: ['3'],
    environments: 2,
    alive: 1,
    coldStarts: { 'on-demand': 2 },
    initDurationP50: 200,
    initDurationP95: 300,
    invokes: 30,
    errors: 0,
    timeouts: 0,
    invokesPerMinute: 2,
    shutdowns: { spindown: 1 },
    lastActivityAt: T0,
    series: { start: T0, step: 60_000, invokes: [10, 20], errors: [0, 1] },
    ...patch,
  };
}

const STATS: FunctionStats = {
  from: T0 - 15 * 60_000,
  to: T0,
  functions: [
    item('orders', { errors: 1 }),
    item('images', { coldStarts: { 'on-demand': 1, 'provisioned-concurrency': 3 }, invokes: 15 }),
  ],
};

afterEach(cleanup);

describe('FunctionsReport', () => {
  it('states every rate over the range it covers', () => {
    render(
      <FunctionsReport
        stats={STATS}
        error={null}
        rangeText="the last 15 min"
        functionName={null}
        onOpen={() => {}}
      />,
    );
    const card = screen.getByRole('region', { name: 'Invokes per minute' });
    // 45 invokes over 15 minutes.
    expect(card.textContent).toContain('3.0');
    expect(card.textContent).toContain('average over the last 15 min');
    expect(screen.getByRole('region', { name: 'Cold starts' }).textContent).toContain(
      'on-demand 3 · provisioned-concurrency 3',
    );
  });

  it('draws a sparkline per function and opens it on the timeline', () => {
    const opened: string[] = [];
    render(
      <FunctionsReport
        stats={STATS}
        error={null}
        rangeText="the last 15 min"
        functionName={null}
        onOpen={(f) => opened.push(f)}
      />,
    );
    expect(screen.getAllByRole('img', { name: /invokes and .* errors, per 1 min/ })).toHaveLength(
      2,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Show images on the timeline' }));
    expect(opened).toEqual(['images']);
  });
});

describe('sparkPoints', () => {
  it('puts the largest value at the top and zero at the bottom', () => {
    expect(sparkPoints([0, 5, 10], 10)).toBe('0.0,27.0 60.0,14.0 120.0,1.0');
  });
});
