import type { LifelineEvent } from '@lifeline/protocol';

/** One buffered event with its serialised form (serialised once, reused for batches and the spool). */
export interface BufferEntry {
  event: LifelineEvent;
  json: string;
  bytes: number;
  inFlight: boolean;
}

/** A run of consecutive seqs of one envId that was dropped. */
export interface DroppedRun {
  envId: string;
  fromSeq: number;
  toSeq: number;
  count: number;
}

/** Bounds of an {@link EventBuffer}. */
export interface EventBufferOptions {
  maxEvents: number;
  maxBytes: number;
}

/** Creates an entry for `event`. */
export function toEntry(event: LifelineEvent, json: string = JSON.stringify(event)): BufferEntry {
  return { event, json, bytes: Buffer.byteLength(json), inFlight: false };
}

/**
 * Unacknowledged events in delivery order, bounded by count and bytes. When full it drops the oldest entries that
 * are neither in flight nor `dropped` records (those explain gaps and are tiny), and reports what it dropped.
 */
export class EventBuffer {
  readonly #options: EventBufferOptions;
  #entries: BufferEntry[] = [];
  #bytes = 0;

  constructor(options: EventBufferOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Every entry, oldest first (read-only view). */
  get entries(): readonly BufferEntry[] {
    return this.#entries;
  }

  /** Whether any entry is not yet in flight. */
  get hasSendable(): boolean {
    return this.#entries.some((entry) => !entry.inFlight);
  }

  /** Appends entries; returns the runs it had to drop to stay within bounds. */
  push(...entries: BufferEntry[]): DroppedRun[] {
    for (const entry of entries) {
      this.#entries.push(entry);
      this.#bytes += entry.bytes;
    }
    return this.#enforce();
  }

  /** Puts entries in front (leftovers of an earlier environment go first). */
  unshift(entries: BufferEntry[]): DroppedRun[] {
    this.#entries = [...entries, ...this.#entries];
    for (const entry of entries) this.#bytes += entry.bytes;
    return this.#enforce();
  }

  /** Re-measures an entry whose event was changed in place. */
  update(entry: BufferEntry): void {
    const json = JSON.stringify(entry.event);
    const bytes = Buffer.byteLength(json);
    this.#bytes += bytes - entry.bytes;
    entry.json = json;
    entry.bytes = bytes;
  }

  /** Marks and returns the oldest sendable entries, up to the given bounds (at least one when any is sendable). */
  take(maxEvents: number, maxBytes: number): BufferEntry[] {
    const batch: BufferEntry[] = [];
    let bytes = 0;
    for (const entry of this.#entries) {
      if (entry.inFlight) continue;
      if (batch.length >= maxEvents || (batch.length > 0 && bytes + entry.bytes > maxBytes)) break;
      entry.inFlight = true;
      batch.push(entry);
      bytes += entry.bytes;
    }
    return batch;
  }

  /** Returns entries to the sendable state (their batch will be retried). */
  release(batch: readonly BufferEntry[]): void {
    for (const entry of batch) entry.inFlight = false;
  }

  /** Removes entries for good (acknowledged or rejected). */
  remove(batch: readonly BufferEntry[]): void {
    if (batch.length === 0) return;
    const gone = new Set(batch);
    this.#entries = this.#entries.filter((entry) => {
      if (!gone.has(entry)) return true;
      this.#bytes -= entry.bytes;
      return false;
    });
  }

  /** Whether the entry is still buffered. */
  has(entry: BufferEntry): boolean {
    return this.#entries.includes(entry);
  }

  #enforce(): DroppedRun[] {
    const { maxEvents, maxBytes } = this.#options;
    if (this.#entries.length <= maxEvents && this.#bytes <= maxBytes) return [];
    const dropped: BufferEntry[] = [];
    const kept: BufferEntry[] = [];
    let count = this.#entries.length;
    for (const entry of this.#entries) {
      const over = count > maxEvents || this.#bytes > maxBytes;
      if (over && !entry.inFlight && entry.event.type !== 'dropped') {
        dropped.push(entry);
        count--;
        this.#bytes -= entry.bytes;
      } else {
        kept.push(entry);
      }
    }
    this.#entries = kept;
    return toRuns(dropped.map((entry) => entry.event));
  }
}

/** Groups events into runs of consecutive seqs per envId. */
export function toRuns(events: readonly LifelineEvent[]): DroppedRun[] {
  const runs: DroppedRun[] = [];
  for (const event of events) {
    const last = runs.at(-1);
    if (last && last.envId === event.envId && last.toSeq + 1 === event.seq) {
      last.toSeq = event.seq;
      last.count++;
    } else {
      runs.push({ envId: event.envId, fromSeq: event.seq, toSeq: event.seq, count: 1 });
    }
  }
  return runs;
}
