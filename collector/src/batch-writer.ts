import type { EncodedEvent, EventsRepository, InsertResult } from './plugins/events-repository.ts';

/** Queues ingest batches and commits the ones that arrive together in one transaction. */
export interface BatchWriter {
  /** Resolves with the batch's result once the transaction holding it has committed. */
  write(events: readonly EncodedEvent[]): Promise<InsertResult>;
}

/**
 * Group commit. With `synchronous = FULL` every commit costs an fsync, which dominates small batches; batches
 * whose requests were parsed in the same turn of the event loop are written in one transaction (each in its own
 * savepoint, so they stay all-or-nothing one by one) and acknowledged after that single commit. `onCommit` runs
 * right after the commit, once per batch, in cursor order (the live hub's broadcast).
 */
export function createBatchWriter(
  repository: EventsRepository,
  onCommit: (result: InsertResult) => void,
  maxBatchesPerCommit = 64,
): BatchWriter {
  const queue: {
    events: readonly EncodedEvent[];
    resolve: (result: InsertResult) => void;
    reject: (error: Error) => void;
  }[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const group = queue.splice(0, maxBatchesPerCommit);
    if (queue.length > 0) schedule();
    let results: (InsertResult | Error)[];
    try {
      results = repository.insertBatches(
        group.map((entry) => entry.events),
        Date.now(),
      );
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of group) entry.reject(failure);
      return;
    }
    group.forEach((entry, index) => {
      const result = results[index];
      if (result === undefined || result instanceof Error) {
        entry.reject(result ?? new Error('batch result missing'));
        return;
      }
      onCommit(result);
      entry.resolve(result);
    });
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    write(events) {
      return new Promise((resolve, reject) => {
        queue.push({ events, resolve, reject });
        schedule();
      });
    },
  };
}
