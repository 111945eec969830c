import type { LifelineEvent } from '../../src/events.ts';
import { exampleLifecycle } from '../../src/examples.ts';

/** The example lifecycle of one environment at a fixed start time, for derivation tests. */
export function lifecycle(
  envId: string,
  options: Partial<Parameters<typeof exampleLifecycle>[0]> = {},
): LifelineEvent[] {
  return exampleLifecycle({ envId, startAt: 1_700_000_000_000, ...options });
}
