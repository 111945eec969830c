import type { DroppedEvent, DropReason, LifelineEvent } from '@lifeline/protocol';
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
  /** Per (envId, reason): the latest `dropped` record and drops not yet written into any record. */
  #drops = new Map<string, DropState>();
  /** The next free seq of each earlier environment whose leftovers were adopted. */
  #foreignNext = new Map<string, number>();
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
      if (event.type === 'dropped') this.stats.dropped++;
    }
    recorder.record(draft, event.time);
    this.#accountDrops(this.#o.buffer.push(entry), 'buffer-full');
    this.#dirty = true;
    return entry;
  }

  /** Puts leftovers of earlier environments in front of everything. */
  adoptLeftovers(entries: BufferEntry[], lost: readonly DroppedRun[] = []): void {
    if (entries.length === 0 && lost.length === 0) return;
    const seen = [
      ...entries.map(({ event }) => ({ envId: event.envId, last: event.seq })),
      ...lost.map((run) => ({ envId: run.envId, last: run.toSeq })),
    ];
    for (const { envId, last } of seen) {
      if (envId === this.#o.recorder.envId) continue;
      this.#foreignNext.set(envId, Math.max(this.#foreignNext.get(envId) ?? 0, last + 1));
    }
    this.#accountDrops(this.#o.buffer.unshift(entries), 'buffer-full');
    // Leftovers the spool could not hold: explained in their own environment's numbering.
    this.#accountDrops(lost, 'spool-full');
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
    this.#materialiseDrops(true);
    const spool = this.#o.spool;
    if (spool === undefined) return;
    // Bounded: each round only adds `dropped` records, for which the first write reserved room.
    for (let round = 0; round < 3; round++) {
      const entries = [...this.#o.buffer.entries];
      const skipped = spool.write(entries, reserveFor(entries));
      if (skipped.length === 0 || skipped.length === entries.length) return;
      this.#o.buffer.remove(skipped);
      const explainable = skipped.filter((entry) => entry.event.type !== 'dropped');
      this.#accountDrops(toRuns(explainable.map((entry) => entry.event)), 'spool-full', true);
    }
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
      this.#materialiseDrops(false);
      return;
    }
    if (result.kind === 'retry') {
      this.#o.buffer.release(batch);
      this.#materialiseDrops(false);
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

  /**
   * Explains `runs` with `dropped` records: at most one per (envId, reason) waits in the buffer, and it is updated in
   * place (count and seq range) until it goes out. While it is in flight new drops wait here, in memory, as one run
   * per key; they go into the same record if its batch fails, or into a new one once it was sent. So however long
   * the collector is down, `dropped` records stay few.
   */
  #accountDrops(runs: readonly DroppedRun[], reason: DropReason, force = false): void {
    for (const run of runs) {
      const own = run.envId === this.#o.recorder.envId;
      if (own) this.stats.dropped += run.count;
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
    this.#materialiseDrops(force);
  }

  /** Writes waiting drops into their record (see {@link Delivery.#accountDrops}); `force` even if it is in flight. */
  #materialiseDrops(force: boolean): void {
    for (const state of this.#drops.values()) {
      const run = state.waiting;
      if (run === undefined) continue;
      const open = state.entry;
      const buffered = open !== undefined && this.#o.buffer.has(open);
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
        this.#o.buffer.update(open);
        continue;
      }
      if (buffered && !force) continue;
      state.waiting = undefined;
      if (state.reason === 'buffer-full')
        this.#o.logger.once('buffer-full', 'buffer full; dropping the oldest events');
      const entry = toEntry(this.#droppedEvent(state.envId, droppedDraft(run, state.reason)));
      state.entry = entry;
      this.#accountDrops(this.#o.buffer.push(entry), 'buffer-full', force);
    }
  }

  /** A `dropped` record in `envId`'s own numbering: this environment's recorder, or after an earlier one's last seq. */
  #droppedEvent(envId: string, draft: EventDraft): LifelineEvent {
    if (envId === this.#o.recorder.envId) return this.#o.recorder.record(draft);
    const seq = this.#foreignNext.get(envId) ?? 0;
    this.#foreignNext.set(envId, seq + 1);
    return { id: `${envId}:${seq}`, envId, seq, time: this.#now(), ...draft } as LifelineEvent;
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

/** Drops of one (envId, reason) not yet written into a record, and the latest record. */
interface DropState {
  envId: string;
  reason: DropReason;
  entry: BufferEntry | undefined;
  waiting: DroppedRun | undefined;
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

/** One run covering both; with a gap between them, `count` stays below the range's length. */
function mergeRun(a: DroppedRun, b: DroppedRun): DroppedRun {
  return {
    envId: a.envId,
    fromSeq: Math.min(a.fromSeq, b.fromSeq),
    toSeq: Math.max(a.toSeq, b.toSeq),
    count: a.count + b.count,
  };
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

function droppedDraft(run: DroppedRun, reason: DropReason): EventDraft {
  return { type: 'dropped', count: run.count, reason, fromSeq: run.fromSeq, toSeq: run.toSeq };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
