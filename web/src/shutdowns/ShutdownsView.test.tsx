// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { TimelineBuilder } from '../timeline/timeline-builder.ts';
import { ShutdownsView } from './ShutdownsView.tsx';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function lanes() {
  return new TimelineBuilder().apply(
    storedLifecycles([
      { envId: 'env-few', functionName: 'f', startAt: T0, invokes: 1, shutdownReason: 'spindown' },
      {
        envId: 'env-many',
        functionName: 'f',
        startAt: T0 + 1,
        invokes: 5,
        shutdownReason: 'timeout',
      },
      { envId: 'env-alive', functionName: 'f', startAt: T0, invokes: 2 },
    ]),
  ).lanes;
}

afterEach(cleanup);

describe('ShutdownsView', () => {
  it('shows one row per shutdown and per-reason counts when environments ended', () => {
    render(<ShutdownsView lanes={lanes()} filter={{}} onSelect={() => {}} />);
    const table = screen.getByRole('table', { name: 'Shutdowns' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(screen.getByText('2 shutdowns')).toBeTruthy();
    expect(
      document.querySelector('[data-reason="timeout"] [data-figure="count"]')?.textContent,
    ).toBe('1');
  });

  it('sorts by invokes and flips the direction when the header is clicked twice', () => {
    render(<ShutdownsView lanes={lanes()} filter={{}} onSelect={() => {}} />);
    const header = screen.getByRole('button', { name: /^Invokes/ });
    fireEvent.click(header);
    const order = () =>
      screen
        .getAllByRole('button', { name: /^Open environment/ })
        .map((b) => b.getAttribute('aria-label'));
    expect(order()).toEqual(['Open environment env-many', 'Open environment env-few']);
    fireEvent.click(header);
    expect(order()).toEqual(['Open environment env-few', 'Open environment env-many']);
    expect(screen.getByRole('columnheader', { name: /Invokes/ }).getAttribute('aria-sort')).toBe(
      'ascending',
    );
  });

  it('opens the environment when its id is clicked', () => {
    const opened: string[] = [];
    render(
      <ShutdownsView
        lanes={lanes()}
        filter={{ reason: 'timeout' }}
        onSelect={(id) => opened.push(id)}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Open environment env-many' }));
    expect(opened).toEqual(['env-many']);
    expect(screen.queryByRole('button', { name: 'Open environment env-few' })).toBeNull();
  });
});
