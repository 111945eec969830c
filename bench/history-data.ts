import { closeSync, fsyncSync, openSync, statSync } from 'node:fs';
import { openSqliteStorage } from '@lifeline/collector';
import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';

/**
 * A fleet's history for the history-scale benchmark, written straight into a collector's SQLite file through its
 * ingest store (the same group commit and derivation as `POST /v1/events`, without HTTP): ingesting 10 million
 * events over HTTP would take longer than the benchmark itself.
 *
 * Shape (the week of a 24-function fleet, about 1,000,000 events): 24 functions, each running `slots`
 * environments side by side; every slot chains environments back to back, each living about 40 minutes with 40
 * invokes a minute apart, then spun down (1 in 9 shut down by a timeout). The last environment of every slot is
 * alive now, with its last invoke's report pending. 10 million events = 10 slots per function; below a million
 * events the history is shorter instead (fewer days).
 */

export const FUNCTIONS = 24;
const INVOKES_PER_ENVIRONMENT = 40;
const GAP_MS = 60_000;
const EVENTS_PER_ENVIRONMENT = 4 + INVOKES_PER_ENVIRONMENT * 4 + 2;
const ENVIRONMENT_SPAN_MS = INVOKES_PER_ENVIRONMENT * (GAP_MS + 200) + 200;
const WEEK_MS = 7 * 86_400_000;

/** The plan for a history of about `events` events ending at `now`. */
export interface HistoryPlan {
  readonly now: number;
  readonly days: number;
  readonly slotsPerFunction: number;
  readonly environments: number;
  readonly events: number;
}

export function planHistory(events: number, now: number): HistoryPlan {
  const perSlotWeek = (WEEK_MS / ENVIRONMENT_SPAN_MS) * EVENTS_PER_ENVIRONMENT;
  const slotsPerFunction = Math.max(1, Math.round(events / (FUNCTIONS * perSlotWeek)));
  const spanMs = Math.min(
    WEEK_MS,
    (events / (FUNCTIONS * slotsPerFunction * perSlotWeek)) * WEEK_MS,
  );
  const perSlot = Math.max(1, Math.round(spanMs / ENVIRONMENT_SPAN_MS));
  const environments = FUNCTIONS * slotsPerFunction * perSlot;
  return {
    now,
    days: (perSlot * ENVIRONMENT_SPAN_MS) / 86_400_000,
    slotsPerFunction,
    environments,
    events: environments * EVENTS_PER_ENVIRONMENT - FUNCTIONS * slotsPerFunction * 2,
  };
}

/** The environment `index` of slot `slot` of function `fn`; `last` is alive now (no SHUTDOWN). */
function environmentEvents(
  now: number,
  fn: number,
  slot: number,
  index: number,
  perSlot: number,
): LifelineEvent[] {
  const last = index === perSlot - 1;
  // Slots are staggered so that environments do not all change at the same minute; the one alive now is between
  // half-way and the end of its invokes.
  const offset = ((fn * 7 + slot * 13) % 20) * GAP_MS;
  const startAt = now - (perSlot - index) * ENVIRONMENT_SPAN_MS + ENVIRONMENT_SPAN_MS / 2 - offset;
  const id = fn * 1_000_000 + slot * 100_000 + index;
  const events = exampleLifecycle({
    envId: `${id.toString(16).padStart(8, '0')}-hist-4e00-8000-${String(id).padStart(12, '0')}`,
    functionName: `fleet-fn-${String(fn).padStart(2, '0')}`,
    functionVersion: String(1 + Math.floor(index / 50)),
    startAt,
    invokes: INVOKES_PER_ENVIRONMENT,
    durationMs: (k) => 40 + ((k * 53 + id * 17) % 900),
    gapMs: GAP_MS,
    timeoutMs: 3000,
    statusOf: (k) => (k % 29 === 7 ? 'error' : k % 97 === 50 ? 'timeout' : 'success'),
    shutdownReason: last ? undefined : id % 9 === 4 ? 'timeout' : 'spindown',
  });
  // The environment alive now has done only what fits before now.
  return last ? events.filter((event) => event.time <= now) : events;
}

/**
 * Writes the planned history into the SQLite file at `dbPath` (created and migrated). Commits run in time order,
 * about 20 environments each, with the commit time of the newest event in them (never later than `now`), so the
 * collector's receive times match the history.
 */
export async function writeHistory(
  dbPath: string,
  plan: HistoryPlan,
): Promise<{ events: number; bytes: number }> {
  const storage = openSqliteStorage(dbPath);
  // A generated history needs no durability while it is written; the file is checkpointed at the end.
  storage.db.pragma('synchronous = OFF');
  const perSlot = Math.round(plan.environments / (FUNCTIONS * plan.slotsPerFunction));
  let written = 0;
  try {
    const slots: [number, number][] = [];
    for (let fn = 0; fn < FUNCTIONS; fn++) {
      for (let slot = 0; slot < plan.slotsPerFunction; slot++) slots.push([fn, slot]);
    }
    for (let index = 0; index < perSlot; index++) {
      // Writing a large history takes minutes: the environments alive now are placed at the real now, last.
      const now = index === perSlot - 1 ? Date.now() : plan.now;
      for (let from = 0; from < slots.length; from += 20) {
        const batches = slots.slice(from, from + 20).map(([fn, slot]) =>
          environmentEvents(now, fn, slot, index, perSlot).map((event) => ({
            event,
            body: JSON.stringify(event),
          })),
        );
        let newest = 0;
        for (const batch of batches)
          for (const { event } of batch) newest = Math.max(newest, event.time);
        const results = await storage.ingest.insertBatches(batches, Math.min(now, newest + 50));
        for (const result of results) {
          if (result instanceof Error) throw result;
          written += result.accepted;
        }
      }
    }
    storage.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await storage.close();
  }
  // Written without fsyncs, the file's last few hundred megabytes are still dirty in the page cache, and the
  // kernel writes them back half a minute later, in the middle of what the bench measures (at 1M events, 139 MB
  // dirty at the end, flushed 15–20 s later; /proc/meminfo). A collector's week of history is on disk already.
  const fd = openSync(dbPath, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { events: written, bytes: fileBytes(dbPath) };
}

/** The database's size on disk: the file plus its WAL. */
export function fileBytes(dbPath: string): number {
  let bytes = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      bytes += statSync(dbPath + suffix).size;
    } catch {
      // Not there.
    }
  }
  return bytes;
}
