// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Histogram } from './Histogram.tsx';

afterEach(cleanup);

const pct = (v: number) => `${v}%`;
const BINS = [
  { from: 1, to: 2, count: 3 },
  { from: 2, to: 3, count: 17 },
  { from: 3, to: 4, count: 0 },
  { from: 4, to: 5, count: 6 },
];

describe('Histogram', () => {
  it('labels the count axis with round ticks up to the tallest bar', () => {
    const { container } = render(<Histogram title="Budget" bins={BINS} format={pct} />);
    const labels = [...container.querySelectorAll('text.axis-label')].map((t) => t.textContent);
    expect(labels.slice(0, 5)).toEqual(['0', '5', '10', '15', '20']);
    // Value ticks sit at the bin edges the collector fitted to the data, not at 0 and 100 %.
    expect(labels).toContain('1%');
    expect(labels).toContain('5%');
    expect(labels).not.toContain('100%');
  });

  it('writes the hovered bar range and count above the plot', () => {
    const { container } = render(<Histogram title="Budget" bins={BINS} format={pct} />);
    expect(container.querySelector('.readout')?.textContent).toBe('26 values');
    fireEvent.mouseEnter(screen.getByLabelText('2% – 3%: 17'));
    expect(container.querySelector('.readout')?.textContent).toBe('2% – 3%: 17');
  });

  it('says why it is empty when no value falls in the range', () => {
    render(<Histogram title="Idle" bins={[]} format={pct} emptyText="Spindowns only." />);
    expect(screen.getByText('Spindowns only.')).toBeTruthy();
  });
});
