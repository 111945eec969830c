import type { DropReason, LifelineEvent } from '@lifeline/protocol';
import type { RetryProblem, SendResult } from './collector-client.ts';
import { DropAccounting } from './drop-accounting.ts';
import { describeError } from './errors.ts';
import {
  type BufferEntry,
  type DroppedRun,
  type EventBuffer,
  toEntry,
  toRuns,
} from './event-buffer.ts';
import {
  backoffMs,
  decide,
  type FlushState,
  type FlushTrigger,
  isStale,
  RECORDS_LINGER_MS,
  retryInMs,
  shouldSpool,
} from './flush-policy.ts';
import type { Logger } from './logger.ts';
import type { EventDraft, Recorder } from './recorder.ts';
import type { Spool } from './spool.ts';
import { SpoolSchedule } from './spool-schedule.ts';

export { STALE_AFTER_PAUSE_MS } from './flush-policy.ts';

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
 * batch was acknowledged (retries re-send the same ids), or when it is dropped, which {@link DropAccounting} records
 * as a `dropped` event. Timing comes from the flush policy, spool writes from {@link SpoolSchedule}. Nothing here
 * throws.
 */
export class Delivery {
  readonly #o: DeliveryOptions;
  readonly #now: () => number;
  readonly #drops: DropAccounting;
  readonly #spool: SpoolSchedule;
  #flight: Promise<void> | undefined;
  /** The flight that was in progress when the environment may have been frozen, and when that was. */
  #flightAtFreeze: Promise<void> | undefined;
  #mayFreezeAt = 0;
  /** The `mayFreeze` before the latest one: events recorded before it have survived a pause unacknowledged. */
  #previousPauseAt = 0;
  /** An INVOKE came while a batch was in flight: the next attempt follows at once, whatever the backoff. */
  #urgent = false;
  #failures = 0;
  #lastFailureAt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** A `record` kick lingering for an INVOKE to carry its records (see {@link kick}). */
  #recordKick: NodeJS.Timeout | undefined;
  #deadline: number | undefined;
  #waiters = new Set<() => void>();
  /** Entries whose batch failed at least once: waiting for their acknowledgement is pointless until a retry. */
  #failedOnce = new WeakSet<BufferEntry>();
  #delivered = 0;

  constructor(options: DeliveryOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#drops = new DropAccounting({
      recorder: options.recorder,
      buffer: options.buffer,
      logger: options.logger,
      now: this.#now,
    });
    this.#spool = new SpoolSchedule({
      spool: options.spool,
      buffer: options.buffer,
      drops: this.#drops,
    });
  }

  /** Per-environment counts so far (see {@link DeliveryStats}, without `pending`). */
  get stats(): { delivered: number; dropped: number } {
    return { delivered: this.#delivered, dropped: this.#drops.dropped };
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
    const recorder = this.#o.recorder;
    // Serialised before it takes a seq: an event that cannot be serialised must not leave an unexplained gap.
    let event = recorder.preview(draft, time);
    let entry = tryEntry(event);
    if (entry === undefined) {
      this.#o.logger.once(
        'unserialisable',
        'an event could not be serialised; recording a placeholder',
        {
          type: draft.type,
        },
      );
      event = recorder.preview(placeholderDraft(draft, event.seq), event.time);
      entry = toEntry(event);
      if (event.type === 'dropped') this.#drops.dropped++;
    }
    recorder.record(draft, event.time);
    this.#account(this.#o.buffer.push(entry), 'buffer-full');
    this.#spool.markDirty();
    return entry;
  }

  /** Puts leftovers of earlier environments in front of everything. */
  adoptLeftovers(entries: BufferEntry[], lost: readonly DroppedRun[] = []): void {
    if (entries.length === 0 && lost.length === 0) return;
    for (const { event } of entries) this.#drops.know(event.envId, event.seq);
    for (const run of lost) this.#drops.know(run.envId, run.toSeq);
    this.#account(this.#o.buffer.unshift(entries), 'buffer-full');
    // Leftovers the spool could not hold: explained in their own environment's numbering.
    this.#account(lost, 'spool-full');
    this.#spool.markDirty();
  }

  /**
   * From now on events belong to the new environment `envId` (a SnapStart restore). Events of the old one still
   * buffered go out as they are; the counts of the `exit` record start again.
   */
  restartAs(envId: string): void {
    const recorder = this.#o.recorder;
    const previous = { envId: recorder.envId, last: recorder.nextSeq - 1 };
    recorder.switchTo(envId);
    // Drops of the old environment's events are explained after its last seq, in its own numbering.
    this.#drops.know(previous.envId, previous.last);
    this.#delivered = 0;
    this.#drops.dropped = 0;
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
   * Called on the next event (a thaw). A delivery still in flight from before a long pause is abandoned (see
   * `isStale`), so its batch goes out again at once on a fresh connection.
   */
  thawed(): void {
    const fromBeforePause = this.#flight !== undefined && this.#flight === this.#flightAtFreeze;
    if (isStale(fromBeforePause, this.#mayFreezeAt, this.#now())) this.#o.sender.abort();
    this.#flightAtFreeze = undefined;
  }

  /**
   * Starts sending if the policy says so. Records are never urgent: a `record` kick lingers `RECORDS_LINGER_MS`, so
   * an INVOKE coming meanwhile carries them in its own batch instead of waiting for theirs to be acknowledged (one
   * batch at a time), and an invoke woken by an acknowledgement calls /event/next before anything else is sent.
   */
  kick(trigger: FlushTrigger): void {
    if (trigger !== 'record') {
      this.#kickNow(trigger);
      return;
    }
    this.#recordKick ??= setTimeout(() => {
      this.#recordKick = undefined;
      this.#kickNow('record');
    }, RECORDS_LINGER_MS);
  }

  #kickNow(trigger: FlushTrigger): void {
    if (this.#flight) {
      if (trigger === 'invoke') this.#urgent = true;
      return;
    }
    // Past the shutdown deadline nothing may be sent (and an empty attempt must not re-trigger itself).
    if (this.#deadline !== undefined && this.#now() >= this.#deadline) return;
    const state: FlushState = {
      sendable: this.#o.buffer.hasSendable ? 1 : 0,
      inFlight: false,
      failures: this.#failures,
      lastFailureAt: this.#lastFailureAt,
    };
    const now = this.#now();
    if (decide(state, trigger, now) === 'later') {
      if (state.sendable > 0 && this.#failures > 0)
        this.#scheduleRetry(retryInMs(state, trigger, now));
      return;
    }
    const flight = this.#sendOne().finally(() => {
      this.#flight = undefined;
      for (const wake of this.#waiters) wake();
      const next = this.#urgent ? 'invoke' : this.#deadline === undefined ? 'record' : 'shutdown';
      this.#urgent = false;
      // Records that came during the flight linger (a `record` kick): the invoke woken above calls /event/next first,
      // and the next INVOKE may carry them.
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
   * the environment, may follow), if the policy finds it worth it (`shouldSpool`).
   */
  persist(): Promise<void> {
    return this.#spool.persist(() => {
      const entries = this.#o.buffer.entries;
      return shouldSpool({
        pending: entries.length,
        oldestTime: entries[0]?.event.time,
        failures: this.#failures,
        previousPauseAt: this.#previousPauseAt,
      });
    });
  }

  /** Last, synchronous spool write before exiting (see {@link SpoolSchedule.persistFinal}). */
  persistFinal(): void {
    this.#spool.persistFinal();
  }

  /** Waits (at most `maxMs`) for a background spool write, and stops further ones. */
  settleSpool(maxMs: number): Promise<void> {
    return this.#spool.settle(maxMs);
  }

  /** Stops retry timers. */
  stop(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#recordKick) clearTimeout(this.#recordKick);
    this.#recordKick = undefined;
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
    this.#spool.markDirty();
    if (result.kind === 'ack') {
      this.#o.buffer.remove(batch);
      this.#delivered += this.#countOwn(batch);
      if (this.#failures > 0)
        for (const problem of Object.values(PROBLEMS))
          this.#o.logger.resolve(problem.key, problem.resolved);
      this.#failures = 0;
      this.#drops.materialise(false);
      return;
    }
    if (result.kind === 'retry') {
      this.#o.buffer.release(batch);
      this.#drops.materialise(false);
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
    this.#account(toRuns(explainable.map((entry) => entry.event)), 'rejected');
  }

  #account(runs: readonly DroppedRun[], reason: DropReason): void {
    this.#drops.account(runs, reason);
  }

  #countOwn(batch: readonly BufferEntry[]): number {
    let own = 0;
    for (const entry of batch) if (entry.event.envId === this.#o.recorder.envId) own++;
    return own;
  }

  #scheduleRetry(wait: number): void {
    if (this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#kickNow('retry');
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

function tryEntry(event: LifelineEvent): BufferEntry | undefined {
  try {
    return toEntry(event);
  } catch {
    return undefined;
  }
}

/**
 * What is recorded instead of an event that cannot be serialised: a platform event keeps its type with a short note
 * as its record; anything else becomes a `dropped` record explaining its own seq.
 */
function placeholderDraft(draft: EventDraft, seq: number): EventDraft {
  if (draft.type === 'platform')
    return {
      type: 'platform',
      recordType: draft.recordType,
      recordTime: draft.recordTime,
      record: 'record omitted: it could not be serialised',
    };
  return { type: 'dropped', count: 1, reason: 'rejected', fromSeq: seq, toSeq: seq };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
