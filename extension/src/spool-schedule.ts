import type { DropAccounting } from './drop-accounting.ts';
import { type BufferEntry, type EventBuffer, toRuns } from './event-buffer.ts';
import type { Spool } from './spool.ts';

/** Options of {@link SpoolSchedule}. */
export interface SpoolScheduleOptions {
  spool: Spool | undefined;
  buffer: EventBuffer;
  drops: DropAccounting;
}

/**
 * When the buffer goes to disk: background writes (one at a time, a change during one is written after it), and the
 * final synchronous write, after which no background write may overtake it. Whether a background write is worth it
 * is the flush policy's call (`shouldSpool`); this module only carries it out.
 */
export class SpoolSchedule {
  readonly #o: SpoolScheduleOptions;
  #persisting: Promise<void> | undefined;
  #persistAgain: (() => boolean) | undefined;
  /** The final, synchronous write has been requested: no more background writes. */
  #final = false;
  #dirty = false;

  constructor(options: SpoolScheduleOptions) {
    this.#o = options;
  }

  /** Whether the buffer changed since the last write. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** The buffer changed. */
  markDirty(): void {
    this.#dirty = true;
  }

  /**
   * Writes the buffer in the background when it changed and `worthIt()` says so (asked again for a write that had to
   * wait for the one in progress).
   */
  persist(worthIt: () => boolean): Promise<void> {
    const spool = this.#o.spool;
    if (!this.#dirty || spool === undefined || this.#final) return Promise.resolve();
    if (this.#persisting) {
      this.#persistAgain = worthIt;
      return this.#persisting;
    }
    if (!worthIt()) return Promise.resolve();
    this.#dirty = false;
    const persisting = spool.writeInBackground([...this.#o.buffer.entries]).finally(() => {
      this.#persisting = undefined;
      const again = this.#persistAgain;
      this.#persistAgain = undefined;
      if (again) void this.persist(again);
    });
    this.#persisting = persisting;
    return persisting;
  }

  /**
   * Last write before exiting: what does not fit in the spool is lost, so it is replaced by a `dropped` record
   * (reason `spool-full`) that does.
   */
  persistFinal(): void {
    this.#final = true;
    const { buffer, drops, spool } = this.#o;
    drops.materialise(true);
    if (spool === undefined) return;
    // Bounded: each round only adds `dropped` records, for which the first write reserved room.
    for (let round = 0; round < 3; round++) {
      const entries = [...buffer.entries];
      const skipped = spool.write(entries, reserveFor(entries));
      if (skipped.length === 0 || skipped.length === entries.length) return;
      buffer.remove(skipped);
      const explainable = skipped.filter((entry) => entry.event.type !== 'dropped');
      drops.account(toRuns(explainable.map((entry) => entry.event)), 'spool-full', true);
    }
  }

  /**
   * Waits (at most `maxMs`) for a background write to finish, so the final synchronous write cannot be overtaken by
   * it. Stops further background writes.
   */
  async settle(maxMs: number): Promise<void> {
    this.#final = true;
    if (this.#persisting === undefined || maxMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#persisting,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, maxMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * Room the final spool write keeps free for the `spool-full` records that explain what did not fit: one per envId
 * (its id and envId, plus the rest of a `dropped` record with 16-digit numbers).
 */
function reserveFor(entries: readonly BufferEntry[]): number {
  const envIds = new Set(entries.map((entry) => entry.event.envId));
  let bytes = 0;
  for (const envId of envIds) bytes += 2 * Buffer.byteLength(envId) + DROPPED_RECORD_BYTES;
  return bytes;
}

const DROPPED_RECORD_BYTES = 256;
