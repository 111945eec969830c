import { describe, expect, it } from 'vitest';
import { deriveEvents } from '../../src/derive/derive-events.ts';
import { environmentState } from '../../src/derive/environment-state.ts';
import type { EnvironmentFacts } from '../../src/derive/facts.ts';
import { lifecycle } from './lifecycle.ts';

const LOST_AFTER = 60_000;
const RECEIVED = 5_000_000;

function envAfter(count: number, options: Parameters<typeof lifecycle>[1] = {}): EnvironmentFacts {
  const events = lifecycle('env-state', { invokes: 2, shutdownReason: 'spindown', ...options });
  const [model] = deriveEvents([events.slice(0, count)], RECEIVED).values();
  if (!model) throw new Error('no model');
  return model.env;
}

describe('environmentState', () => {
  it('is initializing when only the register event arrived', () => {
    expect(environmentState(envAfter(1), RECEIVED, LOST_AFTER)).toBe('initializing');
  });

  it('is idle when init finished and no invoke runs', () => {
    expect(environmentState(envAfter(4), RECEIVED, LOST_AFTER)).toBe('idle');
  });

  it('is active when the last invoke has no runtimeDone yet', () => {
    expect(environmentState(envAfter(5), RECEIVED, LOST_AFTER)).toBe('active');
  });

  it('is shutting-down when SHUTDOWN arrived without an exit record, within its budget', () => {
    const events = lifecycle('env-state', { invokes: 2, shutdownReason: 'spindown' });
    const env = envAfter(events.length - 1);
    expect(environmentState(env, RECEIVED + 1999, LOST_AFTER)).toBe('shutting-down');
    expect(environmentState(env, RECEIVED + 2001, LOST_AFTER)).toBe('ended');
  });

  it('is ended when the exit record arrived', () => {
    const events = lifecycle('env-state', { invokes: 2, shutdownReason: 'spindown' });
    expect(environmentState(envAfter(events.length), RECEIVED, LOST_AFTER)).toBe('ended');
  });

  it('is lost when silent for longer than lost-after on the collector clock and never shut down', () => {
    const env = envAfter(6);
    expect(environmentState(env, RECEIVED + LOST_AFTER, LOST_AFTER)).not.toBe('lost');
    expect(environmentState(env, RECEIVED + LOST_AFTER + 1, LOST_AFTER)).toBe('lost');
  });

  it('stops calling an environment active once its last invoke is past its own timeout without an end', () => {
    // The example invokes have a 3 s timeout; their start was committed at RECEIVED (collector clock).
    const env = envAfter(5);
    expect(environmentState(env, RECEIVED + 3000, LOST_AFTER)).toBe('active');
    expect(environmentState(env, RECEIVED + 3001, LOST_AFTER)).toBe('idle');
  });
});
