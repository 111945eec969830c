import type { DroppedEvent, DropReason } from '@lifeline/protocol';
import type { RetryProblem, SendResult } from './collector-client.ts';
import { describeError } from './errors.ts';
import {
  type BufferEntry,
  type DroppedRun,
  type EventBuffer,
  toEntry,
  toRuns,
} from './event-buffer.ts';
import { backoffMs, decide, type FlushTrigger } from './flush-policy.ts';
import type { Logger } from './logger.ts';
import type { EventDraft, Recorder } from './recorder.ts';
import type { Spool } from './spool.ts';

/** The part of the collector client delivery needs (a fake in unit tests). */
export interface BatchSender {
  send(body: string, timeoutMs: number): Promise<SendResult>;
  /** Abandons the send in flight, which then resolves as an aborted retry. */
  abort(): void;
}

/** Options of {@link Delivery}. */
export interface DeliveryOptions {
  recorder: Recorder;
  buffer: EventBuffer;
  sender: BatchSender;
  spool: Spool | undefined;
  logger: Logger;
  batchMaxEvents: number;
  requestTimeoutMs: number;
  now?: () => number;
}

/** Per-environment delivery counts, for the `exit` record. */
export interface DeliveryStats {
  /** Events of this envId acknowledged by the collector. */
  delivered: number;
  /** Events of this envId dropped (buffer full, spool full, rejected). */
  dropped: number;
  /** Events (any envId) not yet acknowledged. */
  pending: number;
}

const BATCH_MAX_BYTES = 512 * 1024;
/** A pause between events this long makes a delivery still in flight from before it suspect. */
export const STALE_AFTER_PAUSE_MS = 1_000;
/** One log line per kind of retryable problem (logger keys), and what is said when it ends. */
const PROBLEMS = {
  collector: {
    key: 'collector',
    failing: 'collector unavailable; keeping events for later',
    resolved: 'collector reachable again',
  },
  auth: {
    key: 'collector-auth',
    failing: 'collector rejected the token; keeping events for later',
    resolved: 'collector accepts the token again',
  },
  token: {
    key: 'token',
    failing: 'could not read the ingest token; keeping events for later',
    resolved: 'ingest token read',
  },
} as const satisfies Record<RetryProblem | 'collector', unknown>;

/**
 * Record → bounded buffer → collector, one batch at a time and in order. An event leaves the buffer only when its
 * batch was acknowledged (retries re-send the same ids), or when it is dropped, which is itself recorded as a
 * `dropped` event. Nothing here throws.
 */
export class Delivery {
  readonly #o: DeliveryOptions;
  readonly #now: () => number;
  #flight: Promise<void> | undefined;
  /** The flight that was in progress when the environment may have been frozen, and when that was. */
  #flightAtFreeze: Promise<void> | undefined;
  #mayFreezeAt = 0;
  /** The `mayFreeze` before the latest one: events recorded before it have survived a pause unacknowledged. */
  #previousPauseAt = 0;
  #persisting: Promise<void> | undefined;
  #persistAgain = false;
  /** The final, synchronous spool write has been requested: no more background writes. */
  #final = false;
  /** An INVOKE came while a batch was in flight: the next attempt follows at once, whatever the backoff. */
  #urgent = false;
  #failures = 0;
  #lastFailureAt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #deadline: number | undefined;
  #dirty = false;
  #waiters = new Set<() => void>();
  /** Entries whose batch failed at least once: waiting for their acknowledgement is pointless until a retry. */
  #failedOnce = new WeakSet<BufferEntry>();
  #openDrop: { entry: BufferEntry; reason: DropReason } | undefined;
  readonly stats = { delivered: 0, dropped: 0 };

  constructor(options: DeliveryOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Events not yet acknowledged (any envId). */
  get pending(): number {
    return this.#o.buffer.size;
  }

  /** Whether the last attempt failed (its problem was already logged). */
  get failing(): boolean {
    return this.#failures > 0;
  }

  /** Counts for the `exit` record. */
  snapshot(): DeliveryStats {
    return { ...this.stats, pending: this.#o.buffer.size };
  }

  /** Records an event and queues it; returns its entry (to wait for its acknowledgement). */
  record(draft: EventDraft, time?: number): BufferEntry {
    const entry = toEntry(this.#o.recorder.record(draft, time));
    this.#accountDrops(this.#o.buffer.push(entry), 'buffer-full');
    this.#dirty = true;
    return entry;
  }

  /** Puts leftovers of earlier environments in front of everything. */
  adoptLeftovers(entries: BufferEntry[]): void {
    if (entries.length === 0) return;
    this.#accountDrops(this.#o.buffer.unshift(entries), 'buffer-full');
    this.#dirty = true;
  }

  /** From now on every request must finish by `deadline` (epoch ms): the SHUTDOWN phase. */
  setDeadline(deadline: number): void {
    this.#deadline = deadline;
  }

  /** Called when `/event/next` went out: the environment may be frozen from here until the next event. */
  mayFreeze(): void {
    this.#flightAtFreeze = this.#flight;
    this.#previousPauseAt = this.#mayFreezeAt;
    this.#mayFreezeAt = this.#now();
  }

  /**
   * Called on the next event (a thaw). A delivery still in flight from before a long pause most likely sits on a
   * connection that died meanwhile (spec §4.5): abandon it, so its batch goes out again at once on a fresh
   * connection. After a short pause it is more likely a slow collector, and it is left alone.
   */
  thawed(): void {
    const stale =
      this.#flight !== undefined &&
      this.#flight === this.#flightAtFreeze &&
      this.#now() - this.#mayFreezeAt >= STALE_AFTER_PAUSE_MS;
    if (stale) this.#o.sender.abort();
    this.#flightAtFreeze = undefined;
  }

  /** Starts sending if the policy says so. */
  kick(trigger: FlushTrigger): void {
    if (this.#flight) {
      if (trigger === 'invoke') this.#urgent = true;
      return;
    }
    // Past the shutdown deadline nothing may be sent (and an empty attempt must not re-trigger itself).
    if (this.#deadline !== undefined && this.#now() >= this.#deadline) return;
    const state = {
      sendable: this.#o.buffer.hasSendable ? 1 : 0,
      inFlight: false,
      failures: this.#failures,
      lastFailureAt: this.#lastFailureAt,
    };
    const now = this.#now();
    if (decide(state, trigger, now) === 'later') {
      if (state.sendable > 0 && this.#failures > 0) this.#scheduleRetry(trigger, now);
      return;
    }
    const flight = this.#sendOne().finally(() => {
      this.#flight = undefined;
      for (const wake of this.#waiters) wake();
      const next = this.#urgent ? 'invoke' : this.#deadline === undefined ? 'record' : 'shutdown';
      this.#urgent = false;
      this.kick(next);
    });
    this.#flight = flight;
  }

  /**
   * Resolves when `entry` left the buffer, when an attempt to send it failed (the next one follows the backoff, and
   * must not hold the function), or after `ms`, whichever is first.
   */
  waitFor(entry: BufferEntry, ms: number): Promise<void> {
    return this.#waitUntil(() => !this.#o.buffer.has(entry) || this.#failedOnce.has(entry), ms);
  }

  /** Sends until nothing is pending or `deadline` (epoch ms) is reached. */
  async drain(deadline: number): Promise<void> {
    for (let round = 0; round < 100_000; round++) {
      const left = deadline - this.#now();
      if (this.#o.buffer.size === 0 || left <= 0) return;
      this.kick('shutdown');
      await this.#waitUntil(() => this.#flight === undefined, left);
      if (this.#flight === undefined && this.#failures > 0 && this.#o.buffer.size > 0) {
        const pause = Math.min(backoffMs(this.#failures, 'shutdown'), deadline - this.#now());
        if (pause > 0) await sleep(pause);
      }
    }
  }

  /**
   * Writes the spool in the background when anything changed, once `/event/next` went out (a freeze, or the end of
   * the environment, may follow). Skipped while everything pending is younger than the last pause and the
   * collector is healthy: those events are normally acknowledged within milliseconds, and the disk may be busy.
   */
  persist(): Promise<void> {
    const spool = this.#o.spool;
    if (!this.#dirty || spool === undefined || this.#final) return Promise.resolve();
    if (this.#persisting) {
      this.#persistAgain = true;
      return this.#persisting;
    }
    const entries = this.#o.buffer.entries;
    const oldest = entries[0]?.event.time;
    const worthIt =
      entries.length === 0 ||
      this.#failures > 0 ||
      (oldest !== undefined && oldest <= this.#previousPauseAt);
    if (!worthIt) return Promise.resolve();
    this.#dirty = false;
    const persisting = spool.writeInBackground([...entries]).finally(() => {
      this.#persisting = undefined;
      if (this.#persistAgain) {
        this.#persistAgain = false;
        void this.persist();
      }
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
    const spool = this.#o.spool;
    if (spool === undefined) return;
    const entries = [...this.#o.buffer.entries];
    const skipped = spool.write(entries);
    if (skipped.length === 0 || skipped.length === entries.length) return;
    const own = skipped.filter((entry) => entry.event.envId === this.#o.recorder.envId);
    const lost = new Set(skipped);
    const kept = entries.filter((entry) => !lost.has(entry));
    for (const run of toRuns(own.map((entry) => entry.event))) {
      this.stats.dropped += run.count;
      kept.push(toEntry(this.#o.recorder.record(droppedDraft(run, 'spool-full'))));
    }
    spool.write(kept);
  }

  /**
   * Waits (at most `maxMs`) for a background spool write to finish, so the final synchronous write cannot be
   * overtaken by it. Stops further background writes.
   */
  async settleSpool(maxMs: number): Promise<void> {
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

  /** Stops retry timers. */
  stop(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  async #sendOne(): Promise<void> {
    const batch = this.#o.buffer.take(this.#o.batchMaxEvents, BATCH_MAX_BYTES);
    if (batch.length === 0) return;
    const body = `{"events":[${batch.map((entry) => entry.json).join(',')}]}`;
    const timeout =
      this.#deadline === undefined
        ? this.#o.requestTimeoutMs
        : Math.min(this.#o.requestTimeoutMs, this.#deadline - this.#now());
    if (timeout <= 0) {
      this.#o.buffer.release(batch);
      return;
    }
    let result: SendResult;
    try {
      result = await this.#o.sender.send(body, timeout);
    } catch (error) {
      result = { kind: 'retry', status: undefined, detail: describeError(error) };
    }
    this.#dirty = true;
    if (result.kind === 'ack') {
      this.#o.buffer.remove(batch);
      this.stats.delivered += this.#countOwn(batch);
      if (this.#failures > 0)
        for (const problem of Object.values(PROBLEMS))
          this.#o.logger.resolve(problem.key, problem.resolved);
      this.#failures = 0;
      return;
    }
    if (result.kind === 'retry') {
      this.#o.buffer.release(batch);
      if (result.aborted) return;
      for (const entry of batch) this.#failedOnce.add(entry);
      this.#failures++;
      this.#lastFailureAt = this.#now();
      const problem = PROBLEMS[result.problem ?? 'collector'];
      this.#o.logger.once(problem.key, problem.failing, { detail: result.detail });
      return;
    }
    this.#failures = 0;
    const bad = result.badIndexes?.filter((index) => index < batch.length);
    const rejected = bad && bad.length > 0 ? bad.map((index) => batch[index]!) : batch;
    this.#o.buffer.remove(rejected);
    this.#o.buffer.release(batch);
    this.#o.logger.once(`rejected-${result.status}`, 'collector rejected events; dropping them', {
      detail: result.detail,
      events: rejected.length,
    });
    const explainable = rejected.filter((entry) => entry.event.type !== 'dropped');
    this.#accountDrops(toRuns(explainable.map((entry) => entry.event)), 'rejected');
  }

  #accountDrops(runs: DroppedRun[], reason: DropReason): void {
    for (const run of runs) {
      if (run.envId !== this.#o.recorder.envId) {
        this.#o.logger.once(
          `drop-foreign-${reason}`,
          'dropped leftover events of an earlier environment',
          {
            reason,
          },
        );
        continue;
      }
      this.stats.dropped += run.count;
      const open = this.#openDrop;
      if (
        open &&
        open.reason === reason &&
        !open.entry.inFlight &&
        this.#o.buffer.has(open.entry)
      ) {
        const event = open.entry.event as DroppedEvent;
        if (event.toSeq + 1 === run.fromSeq) {
          event.toSeq = run.toSeq;
          event.count += run.count;
          this.#o.buffer.update(open.entry);
          continue;
        }
      }
      if (reason === 'buffer-full') {
        this.#o.logger.once('buffer-full', 'buffer full; dropping the oldest events');
      }
      const entry = toEntry(this.#o.recorder.record(droppedDraft(run, reason)));
      this.#openDrop = { entry, reason };
      this.#accountDrops(this.#o.buffer.push(entry), 'buffer-full');
    }
  }

  #countOwn(batch: readonly BufferEntry[]): number {
    let own = 0;
    for (const entry of batch) if (entry.event.envId === this.#o.recorder.envId) own++;
    return own;
  }

  #scheduleRetry(trigger: FlushTrigger, now: number): void {
    if (this.#retryTimer) return;
    const wait = Math.max(1, this.#lastFailureAt + backoffMs(this.#failures, trigger) - now);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.kick('retry');
    }, wait);
    this.#retryTimer.unref();
  }

  #waitUntil(done: () => boolean, ms: number): Promise<void> {
    if (done() || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, ms);
      this.#waiters.add(check);
    });
  }
}

function droppedDraft(run: DroppedRun, reason: DropReason): EventDraft {
  return { type: 'dropped', count: run.count, reason, fromSeq: run.fromSeq, toSeq: run.toSeq };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
