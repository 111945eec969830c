import type { EnvironmentState } from '@lifeline/protocol';

/**
 * Values the dashboard needs from `@lifeline/protocol`, mirrored here so the bundle does not pull in TypeBox (the
 * protocol's runtime schemas are module-level calls a bundler must keep). `protocol-constants.test.ts` pins them to
 * the protocol's own values.
 */
export const LIVE_CLOSE = {
  GOING_AWAY: 1001,
  BAD_REQUEST: 4400,
  UNAUTHORIZED: 4401,
  SLOW_CONSUMER: 4408,
} as const;

/** How often the collector sends a heartbeat when idle. */
export const LIVE_HEARTBEAT_MS = 10_000;

/** Lane states, in lifecycle order. */
export const ENVIRONMENT_STATES: readonly EnvironmentState[] = [
  'initializing',
  'active',
  'idle',
  'shutting-down',
  'ended',
  'lost',
];
