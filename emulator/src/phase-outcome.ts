import type { Generation } from './generation.ts';

/** How an Init or Restore phase ended, and the error Lambda reports for it. */
export interface PhaseOutcome {
  status: 'success' | 'error' | 'timeout';
  errorType: string | undefined;
  errorMessage: string | undefined;
}

/**
 * The outcome of an Init or Restore phase: a failure of the generation is an error (its own type), running past the
 * phase's limit or a sandbox closed meanwhile is a timeout (`Sandbox.Timeout`), anything else a success.
 */
export function phaseOutcome(
  generation: Generation,
  inTime: boolean,
  closed: boolean,
  phase: 'Init' | 'Restore',
): PhaseOutcome {
  if (generation.failure) {
    return {
      status: 'error',
      errorType: generation.failure.errorType,
      errorMessage: generation.failure.errorMessage,
    };
  }
  if (inTime && !closed)
    return { status: 'success', errorType: undefined, errorMessage: undefined };
  return {
    status: 'timeout',
    errorType: 'Sandbox.Timeout',
    errorMessage: `${phase} did not finish within its limit`,
  };
}
