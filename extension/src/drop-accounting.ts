import type { DroppedEvent, DropReason, LifelineEvent } from '@lifeline/protocol';
import { type BufferEntry, type DroppedRun, type EventBuffer, toEntry } from './event-buffer.ts';
import type { Logger } from './logger.ts';
import type { EventDraft, Recorder } from './recorder.ts';

/** Options of {@link DropAccounting}. */
export interface DropAccountingOptions {
  recorder: Recorder;
  buffer: EventBuffer;
  logger: Logger;
  now: () => number;
}

/**
 * Explains every lost seq with a `dropped` record, in the lost event's own envId numbering. At most one `dropped`
 * record per (envId, reason) waits in the buffer; it is updated in place (count and seq range) until it goes out.
 * While it is in flight new drops wait here, in memory, as one run per key; they go into the same record if its batch
 * fails, or into a new one once it was sent. So however long the collector is down, `dropped` records stay few.
 */
export class DropAccounting {
  readonly #o: DropAccountingOptions;
  /** Per (envId, reason): the latest `dropped` record and drops not yet written into any record. */
  #drops = new Map<string, DropState>();
  /** The next free seq of each earlier environment whose events are still handled here. */
  #foreignNext = new Map<string, number>();
  /** Events of the current envId dropped so far (for the `exit` record). */
  dropped = 0;

  constructor(options: DropAccountingOptions) {
    this.#o = options;
  }

  /** Events of `envId` up to seq `last` are known: drops among them can be explained in its numbering. */
  know(envId: string, last: number): void {
    if (envId === this.#o.recorder.envId) return;
    this.#foreignNext.set(envId, Math.max(this.#foreignNext.get(envId) ?? 0, last + 1));
  }

  /** Explains `runs` (see the class comment); `force` writes a new record even while the open one is in flight. */
  account(runs: readonly DroppedRun[], reason: DropReason, force = false): void {
    for (const run of runs) {
      const own = run.envId === this.#o.recorder.envId;
      if (own) this.dropped += run.count;
      else if (!this.#foreignNext.has(run.envId)) {
        this.#o.logger.once(`drop-foreign-${reason}`, 'dropped events of an unknown environment', {
          reason,
        });
        continue;
      }
      const key = `${run.envId}\n${reason}`;
      let state = this.#drops.get(key);
      if (state === undefined) {
        state = { envId: run.envId, reason, entry: undefined, waiting: undefined };
        this.#drops.set(key, state);
      }
      state.waiting = state.waiting === undefined ? { ...run } : mergeRun(state.waiting, run);
    }
    this.materialise(force);
  }

  /** Writes waiting drops into their record; `force` even if it is in flight. */
  materialise(force: boolean): void {
    const buffer = this.#o.buffer;
    for (const state of this.#drops.values()) {
      const run = state.waiting;
      if (run === undefined) continue;
      const open = state.entry;
      const buffered = open !== undefined && buffer.has(open);
      if (buffered && !open.inFlight) {
        const event = open.event as DroppedEvent;
        const merged = mergeRun(
          { envId: state.envId, fromSeq: event.fromSeq, toSeq: event.toSeq, count: event.count },
          run,
        );
        event.fromSeq = merged.fromSeq;
        event.toSeq = merged.toSeq;
        event.count = merged.count;
        state.waiting = undefined;
        buffer.update(open);
        continue;
      }
      if (buffered && !force) continue;
      state.waiting = undefined;
      if (state.reason === 'buffer-full')
        this.#o.logger.once('buffer-full', 'buffer full; dropping the oldest events');
      const entry = toEntry(this.#droppedEvent(state.envId, droppedDraft(run, state.reason)));
      state.entry = entry;
      this.account(buffer.push(entry), 'buffer-full', force);
    }
  }

  /** A `dropped` record in `envId`'s own numbering: this environment's recorder, or after an earlier one's last seq. */
  #droppedEvent(envId: string, draft: EventDraft): LifelineEvent {
    if (envId === this.#o.recorder.envId) return this.#o.recorder.record(draft);
    const seq = this.#foreignNext.get(envId) ?? 0;
    this.#foreignNext.set(envId, seq + 1);
    return { id: `${envId}:${seq}`, envId, seq, time: this.#o.now(), ...draft } as LifelineEvent;
  }
}

/** Drops of one (envId, reason) not yet written into a record, and the latest record. */
interface DropState {
  envId: string;
  reason: DropReason;
  entry: BufferEntry | undefined;
  waiting: DroppedRun | undefined;
}

/** One run covering both; with a gap between them, `count` stays below the range's length. */
function mergeRun(a: DroppedRun, b: DroppedRun): DroppedRun {
  return {
    envId: a.envId,
    fromSeq: Math.min(a.fromSeq, b.fromSeq),
    toSeq: Math.max(a.toSeq, b.toSeq),
    count: a.count + b.count,
  };
}

function droppedDraft(run: DroppedRun, reason: DropReason): EventDraft {
  return { type: 'dropped', count: run.count, reason, fromSeq: run.fromSeq, toSeq: run.toSeq };
}
