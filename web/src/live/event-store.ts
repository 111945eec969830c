import type { EnvironmentSnapshot, StoredEvent } from '@lifeline/protocol';
import {
  type DensityRange,
  TimelineBuilder,
  type TimelineSnapshot,
} from '../timeline/timeline-builder.ts';
import { CollectorClock } from './collector-clock.ts';

/** Schedules one flush; the default is the next animation frame (a timer outside the browser). */
export type FlushScheduler = (flush: () => void) => void;

const defaultScheduler: FlushScheduler = (flush) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
};

/** Options for {@link EventStore}. */
export interface EventStoreOptions {
  schedule?: FlushScheduler;
  /** The collector's clock estimate (a fake in tests). */
  clock?: CollectorClock;
}

/** Until the collector's settings are known (data fed without a collector), no environment is judged lost. */
const LOST_AFTER_UNKNOWN = Number.POSITIVE_INFINITY;

/**
 * The dashboard's model outside React: window pages are loaded at once, live StoredEvents are queued and applied
 * once per animation frame, both into an immutable {@link TimelineSnapshot}; components read it with
 * `useSyncExternalStore(store.subscribe, store.getSnapshot)`.
 */
export class EventStore {
  #builder = new TimelineBuilder(LOST_AFTER_UNKNOWN);
  /** The collector's clock, for the state rule (see {@link CollectorClock}). */
  readonly clock: CollectorClock;
  readonly #listeners = new Set<() => void>();
  readonly #schedule: FlushScheduler;
  #queue: StoredEvent[] = [];
  #scheduled = false;
  #received = 0;
  #notifyEveryMs = 0;
  #lastNotify = Number.NEGATIVE_INFINITY;
  #notifyTimer: ReturnType<typeof setTimeout> | null = null;
  #lostAfterMs = LOST_AFTER_UNKNOWN;

  constructor(options: EventStoreOptions = {}) {
    this.#schedule = options.schedule ?? defaultScheduler;
    this.clock = options.clock ?? new CollectorClock();
  }

  /** Highest cursor received, queued or applied: where a live connection resumes. */
  get lastCursor(): number {
    return Math.max(this.#received, this.#builder.snapshot.lastCursor);
  }

  /** Queues events (in cursor order); duplicates and replays at or below the last cursor are dropped at flush. */
  append(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) {
      this.#queue.push(e);
      if (e.cursor > this.#received) this.#received = e.cursor;
      this.clock.atLeast(e.receivedAt);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => this.flush());
    }
  }

  /** Applies everything queued now and notifies subscribers if the snapshot changed. */
  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    const before = this.#builder.snapshot;
    const after = this.#builder.apply(batch);
    if (after === before) return;
    const wait = this.#lastNotify + this.#notifyEveryMs - performance.now();
    if (wait <= 0) this.#notify();
    else this.#notifyTimer ??= setTimeout(() => this.#notify(), wait);
  }

  /**
   * Takes a page of `/v1/window` (read at event-log `head`; with `density` when read with a step) and publishes it
   * at once.
   */
  load(
    environments: readonly EnvironmentSnapshot[],
    head: number,
    density: DensityRange | null = null,
  ): void {
    const before = this.#builder.snapshot;
    if (this.#builder.load(environments, head, density) !== before) this.#notify();
  }

  /** Forgets what ended before `from` (a following range moved on), so memory stays bounded by the range. */
  forgetBefore(from: number): void {
    this.flush();
    const before = this.#builder.snapshot;
    if (this.#builder.forgetBefore(from, this.clock.now()) !== before) this.#notify();
  }

  /**
   * Forgets everything and publishes the empty model: a new range is loading, or the collector turned out to hold a
   * different history. `lostAfterMs` is the collector's setting once known.
   */
  reset(lostAfterMs: number = this.#lostAfterMs): void {
    this.#lostAfterMs = lostAfterMs;
    this.#builder = new TimelineBuilder(lostAfterMs);
    this.#queue = [];
    this.#received = 0;
    this.#notify();
  }

  /**
   * Publishes snapshots to subscribers at most every `ms` (0 = every frame). While a long history replays, the model
   * still advances every frame but React re-renders a few times a second instead of 60; setting 0 publishes at once.
   */
  setNotifyInterval(ms: number): void {
    this.#notifyEveryMs = Math.max(0, ms);
    if (this.#notifyEveryMs === 0 && this.#notifyTimer !== null) this.#notify();
  }

  #notify(): void {
    if (this.#notifyTimer !== null) clearTimeout(this.#notifyTimer);
    this.#notifyTimer = null;
    this.#lastNotify = performance.now();
    for (const listener of [...this.#listeners]) listener();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  getSnapshot = (): TimelineSnapshot => this.#builder.snapshot;
}
