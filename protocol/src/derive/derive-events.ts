import type { LifelineEvent } from '../events.ts';
import { applyEvents } from './apply-events.ts';
import type { EnvironmentModel } from './facts.ts';

/**
 * Derives every environment (with all its invocations) from a list of events, as if each batch in `batches` had
 * been committed in turn: the reference the stored, incremental derivation must equal. Duplicate ids are skipped,
 * like the events table's unique id does.
 */
export function deriveEvents(
  batches: readonly (readonly LifelineEvent[])[],
  receivedAt = 0,
): Map<string, EnvironmentModel> {
  const models = new Map<string, EnvironmentModel>();
  const seen = new Set<string>();
  for (const batch of batches) {
    const byEnv = new Map<string, LifelineEvent[]>();
    for (const event of batch) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      const list = byEnv.get(event.envId);
      if (list) list.push(event);
      else byEnv.set(event.envId, [event]);
    }
    for (const [envId, events] of byEnv) {
      const previous = models.get(envId);
      const next = applyEvents(previous, events, receivedAt);
      const merged = new Map(previous?.invocations ?? []);
      for (const [id, invocation] of next.invocations) merged.set(id, invocation);
      models.set(envId, { env: next.env, invocations: merged });
    }
  }
  return models;
}
