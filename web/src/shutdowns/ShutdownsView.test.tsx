// @vitest-environment jsdom
import type { FigureStats, Shutdown, ShutdownStats } from '@lifeline/protocol';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ShutdownsReport } from './ShutdownsView.tsx';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function shutdown(envId: string, patch: Partial<Shutdown>): Shutdown {
  return {
    envId,
    functionName: 'orders',
    functionVersion: '3',
    memorySizeMb: 128,
    reason: 'spindown',
    receivedAt: T0,
    deadlineMs: T0 + 2000,
    budgetMs: 2000,
    exitedAt: T0 + 40,
    shutdownDurationMs: 40,
    budgetUsedPct: 2,
    idleMs: 5000,
    lifetimeMs: 60_000,
    invokes: 3,
    ...patch,
  };
}

const figure = (p50: number): FigureStats => ({
  count: 2,
  min: p50,
  max: p50 * 2,
  p50,
  p95: p50 * 2,
  p99: p50 * 2,
  histogram: { edges: [p50, p50 * 1.5, p50 * 2], counts: [1, 1] },
});

const STATS: ShutdownStats = {
  total: 2,
  byReason: { spindown: 1, timeout: 1 },
  figures: {
    budgetUsedPct: figure(1.5),
    idleMs: figure(5000),
    lifetimeMs: figure(60_000),
    shutdownDurationMs: figure(30),
    invokes: figure(3),
  },
};

const ROWS = [
  shutdown('env-few', { invokes: 1 }),
  shutdown('env-many', { invokes: 9, reason: 'timeout', idleMs: -8 }),
];

afterEach(cleanup);

function report(overrides: Partial<Parameters<typeof ShutdownsReport>[0]> = {}) {
  return render(
    <ShutdownsReport
      stats={STATS}
      error={null}
      rows={ROWS}
      hasMore={false}
      onLoadMore={() => {}}
      onOpen={() => {}}
      onShow={() => {}}
      {...overrides}
    />,
  );
}

describe('ShutdownsReport', () => {
  it('states the collector total and a card per reason', () => {
    report();
    expect(screen.getByText('2 shutdowns in this range')).toBeTruthy();
    expect(
      document.querySelector('[data-reason="timeout"] [data-figure="count"]')?.textContent,
    ).toBe('1');
    expect(document.querySelector('[data-figure="budget-p50"]')?.textContent).toBe('1.5 %');
  });

  it('shows idle before only for spindowns', () => {
    report();
    const idle = (envId: string) =>
      document.querySelector(`tr[data-env="${envId}"]`)?.querySelectorAll('td')[6]?.textContent;
    expect(idle('env-few')).toBe('5.00 s');
    expect(idle('env-many')).toBe('—');
  });

  it('sorts by invokes and flips the direction when the header is clicked twice', () => {
    report();
    const header = screen.getByRole('button', { name: /^Invokes/ });
    fireEvent.click(header);
    const order = () =>
      screen
        .getAllByRole('button', { name: /^Open environment/ })
        .map((b) => b.getAttribute('aria-label'));
    expect(order()).toEqual(['Open environment env-many', 'Open environment env-few']);
    fireEvent.click(header);
    expect(order()).toEqual(['Open environment env-few', 'Open environment env-many']);
  });

  it('shows an environment on the timeline over its whole life', () => {
    const shown: [string, number, number][] = [];
    report({ onShow: (env, from, to) => shown.push([env, from, to]) });
    fireEvent.click(
      screen.getByRole('button', { name: 'Show environment env-few on the timeline' }),
    );
    const [env, from, to] = shown[0]!;
    expect(env).toBe('env-few');
    expect(from).toBeLessThan(T0 - 60_000);
    expect(to).toBeGreaterThan(T0 + 40);
  });

  it('says it is loading until the figures arrive', () => {
    report({ stats: null, rows: [] });
    expect(screen.getByText('Loading figures…')).toBeTruthy();
  });
});
