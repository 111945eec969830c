import type { EncodedEvent, IngestStore, InsertResult } from './storage/types.ts';

/** Queues ingest batches and commits the ones that arrive together in one transaction. */
export interface BatchWriter {
  /** Resolves with the batch's result once the transaction holding it has committed. */
  write(events: readonly EncodedEvent[]): Promise<InsertResult>;
}

interface Queued {
  events: readonly EncodedEvent[];
  resolve: (result: InsertResult) => void;
  reject: (error: Error) => void;
}

/**
 * Group commit. Every commit costs an fsync, which dominates small batches; batches waiting when a commit starts
 * are written in one transaction (each in its own savepoint, so they stay all-or-nothing one by one) and
 * acknowledged after that single commit. At most `store.parallelCommits` commits run at once; batches arriving
 * meanwhile wait and form the next group. `onCommit` runs right after each commit, once per batch, in the order
 * of the group (the live hub's broadcast).
 */
export function createBatchWriter(
  store: IngestStore,
  onCommit: (result: InsertResult) => void,
  maxBatchesPerCommit = 64,
): BatchWriter {
  const queue: Queued[] = [];
  let scheduled = false;
  let running = 0;

  const commit = async (group: Queued[]) => {
    let results: (InsertResult | Error)[];
    try {
      results = await store.insertBatches(
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

  const flush = () => {
    scheduled = false;
    while (queue.length > 0 && running < store.parallelCommits) {
      const group = queue.splice(0, maxBatchesPerCommit);
      running += 1;
      void commit(group).finally(() => {
        running -= 1;
        if (queue.length > 0) schedule();
      });
    }
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // Batches parsed in the same turn of the event loop join the group.
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
