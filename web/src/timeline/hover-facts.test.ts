import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { invokeHoverFacts, laneHoverFacts, startKind } from './hover-facts.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const lanes = new TimelineBuilder().apply(
  storedLifecycles([
    { envId: 'env-hover', functionName: 'orders', startAt: T0, invokes: 2, timeoutMs: 3000 },
  ]),
).lanes;
const lane = lanes.get('env-hover')!;

describe('invokeHoverFacts', () => {
  it('gives status, duration, headroom against the deadline and the cold start of the first invoke', () => {
    const facts = invokeHoverFacts(lane, lane.invokes[0]!, T0 + 60_000);
    const line = (label: string) => facts.lines.find(([l]) => l === label)?.[1];
    expect(facts.title).toBe('Invoke env-hove…');
    expect(line('Status')).toBe('success');
    expect(line('Duration')).toBe('122 ms');
    expect(line('Headroom')).toBe('2.88 s of 3.00 s (96 % left)');
    expect(line('Cold start')).toMatch(/^on-demand init, /);
  });
});

describe('laneHoverFacts', () => {
  it('says since when an idle environment is silent and how it started', () => {
    const facts = laneHoverFacts(lane, 'idle', T0 + 60_000);
    const line = (label: string) => facts.lines.find(([l]) => l === label)?.[1];
    expect(line('State')).toMatch(/^idle, silent since \d\d:\d\d:\d\d\.\d{3} UTC$/);
    expect(line('Started by')).toMatch(/^on-demand init/);
    expect(line('Invokes')).toBe('2 · 0 errors · 0 timeouts');
  });
});

describe('startKind', () => {
  it('names a SnapStart restore as a restore, not an init', () => {
    expect(startKind({ ...lane, initKind: 'snap-start-restore' })).toBe('SnapStart restore');
  });
});
