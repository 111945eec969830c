import { describe, expect, it } from 'vitest';
import { rangeCovering } from './range-covering.ts';

const MINUTE = 60_000;

describe('rangeCovering', () => {
  it('picks the shortest relative range holding the span, the longest beyond them all', () => {
    expect(rangeCovering(10 * MINUTE)).toBe('15m');
    expect(rangeCovering(15 * MINUTE)).toBe('15m');
    expect(rangeCovering(20 * MINUTE)).toBe('1h');
    expect(rangeCovering(20 * 60 * MINUTE)).toBe('24h');
    expect(rangeCovering(5 * 24 * 60 * MINUTE)).toBe('7d');
    expect(rangeCovering(90 * 24 * 60 * MINUTE)).toBe('30d');
  });
});
