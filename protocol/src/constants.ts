/**
 * Plain values of the wire format, in a module without TypeBox: a bundle that needs only these (the dashboard) does
 * not pull in the schemas (the package is marked `sideEffects: false`).
 */

export const ENVIRONMENT_STATES = [
  /** Registered, Init not finished (no initReport and no invoke yet). */
  'initializing',
  /** An invoke is running. */
  'active',
  /** Between invokes (frozen, in production). */
  'idle',
  /** SHUTDOWN received, no exit record yet. */
  'shutting-down',
  /** Exit record received (or shutdown past its deadline). */
  'ended',
  /** Silent for long with no shutdown: the sandbox vanished or its events were lost. */
  'lost',
] as const;
export type EnvironmentState = (typeof ENVIRONMENT_STATES)[number];

export const INVOCATION_STATUSES = ['running', 'success', 'error', 'timeout', 'failure'] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** WebSocket close codes the collector uses. */
export const LIVE_CLOSE = {
  /** Collector stopping; reconnect with the last cursor. */
  GOING_AWAY: 1001,
  /** Bad query (e.g. a non-numeric cursor). Do not retry unchanged. */
  BAD_REQUEST: 4400,
  /** Read token missing or wrong. */
  UNAUTHORIZED: 4401,
  /** The client's send queue overflowed; reconnect with the last cursor. */
  SLOW_CONSUMER: 4408,
} as const;

/** How often the collector sends a heartbeat when nothing else was sent. */
export const LIVE_HEARTBEAT_MS = 10_000;
