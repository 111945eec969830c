import type { InvocationStatus } from '../constants.ts';
import type { EnvironmentFacts, InvocationFacts } from './facts.ts';

/**
 * Status of an invocation from its facts and its environment's: the platform's own status (platform.report, else
 * platform.runtimeDone) when known; otherwise, for the environment's last invoke, what its shutdown says (a `timeout`
 * reset means it timed out, a `failure` reset that it failed); otherwise still running.
 */
export function invocationStatus(
  invocation: InvocationFacts,
  env: EnvironmentFacts,
): InvocationStatus {
  const reported = invocation.reportStatus ?? invocation.runtimeDoneStatus;
  if (reported !== null) return platformStatus(reported);
  if (env.shutdownReason !== null && lastInvokeIdOf(env) === invocation.requestId) {
    const reason = shutdownKind(env.shutdownReason);
    if (reason === 'timeout') return 'timeout';
    if (reason === 'failure') return 'failure';
  }
  return 'running';
}

/**
 * The environment's last invoke: the INVOKE with the highest seq, or, for an environment without INVOKE events
 * (Managed Instances), the platform.start with the highest seq.
 */
export function lastInvokeIdOf(env: EnvironmentFacts): string | null {
  return env.lastInvokeRequestId ?? env.lastStartRequestId;
}

/** Maps a Telemetry API status to an invocation status; unknown values count as errors. */
export function platformStatus(status: string): InvocationStatus {
  switch (status.toLowerCase()) {
    case 'success':
      return 'success';
    case 'timeout':
      return 'timeout';
    case 'failure':
      return 'failure';
    default:
      return 'error';
  }
}

/**
 * Normalises a shutdown reason for comparisons: production sends spindown|timeout|failure, the RIE
 * SandboxTerminated|Timeout|ReleaseFail (docs/lambda-extensions-api.md §2.3.3).
 */
export function shutdownKind(reason: string): 'spindown' | 'timeout' | 'failure' | 'other' {
  const lower = reason.toLowerCase();
  if (lower === 'spindown' || lower === 'sandboxterminated') return 'spindown';
  if (lower === 'timeout') return 'timeout';
  if (lower === 'failure' || lower === 'releasefail') return 'failure';
  return 'other';
}
