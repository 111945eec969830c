import * as protocol from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_STATES, LIVE_CLOSE, LIVE_HEARTBEAT_MS } from './protocol-constants.ts';

describe('protocol constants', () => {
  it('equal the values in @lifeline/protocol', () => {
    expect(LIVE_CLOSE).toEqual(protocol.LIVE_CLOSE);
    expect(LIVE_HEARTBEAT_MS).toBe(protocol.LIVE_HEARTBEAT_MS);
    expect(ENVIRONMENT_STATES).toEqual(protocol.ENVIRONMENT_STATES);
  });
});
