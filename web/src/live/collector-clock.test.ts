import { describe, expect, it } from 'vitest';
import { CollectorClock } from './collector-clock.ts';

describe('CollectorClock', () => {
  it("follows the collector's clock, not the browser's, from heartbeats, Date headers and commit times", () => {
    let browser = 1_000_000;
    const clock = new CollectorClock(() => browser);
    expect(clock.now()).toBe(1_000_000);
    // The browser is 2 minutes fast.
    clock.observe(880_000);
    browser += 500;
    expect(clock.now()).toBe(880_500);
    // A Date header within the current second changes nothing; one outside it moves to its middle.
    clock.observeSecond(880_000);
    expect(clock.now()).toBe(880_500);
    clock.observeSecond(890_000);
    expect(clock.now()).toBe(890_500);
    // A commit time ahead of the estimate raises it; an older one does not lower it.
    clock.atLeast(891_000);
    expect(clock.now()).toBe(891_000);
    clock.atLeast(100);
    expect(clock.now()).toBe(891_000);
  });
});
