import type { BufferEntry } from './event-buffer.ts';
import type { PlatformRecord } from './telemetry-listener.ts';

/** How many request ids are remembered; older ones are forgotten first (memory stays bounded). */
const MAX_TRACKED = 2_000;

/**
 * Which invokes still owe their `platform.report` (what SHUTDOWN waits for), and the `platform.runtimeDone` records
 * the live invoke end waits for. With INVOKE events (one invoke at a time) only the last invoke's report matters:
 * earlier ones arrive during the next invoke. Without them (Managed Instances: concurrent invokes, known only from
 * `platform.start`) every started invoke's does.
 */
export class InvokeTracker {
  readonly #concurrent: boolean;
  #awaitingReport = new Set<string>();
  #last: string | undefined;
  /** Recorded runtimeDone entries by request id (a record can arrive before its waiter). */
  #runtimeDone = new Map<string, BufferEntry>();
  #runtimeDoneWaiter: { requestId: string; wake: (entry: BufferEntry) => void } | undefined;
  #onReport: (() => void) | undefined;

  constructor(options: { concurrent: boolean }) {
    this.#concurrent = options.concurrent;
  }

  /** An invoke began (INVOKE event, or `platform.start` when there are none). */
  started(requestId: string): void {
    this.#last = requestId;
    remember(this.#awaitingReport, requestId);
  }

  /** A platform record was recorded as `entry`. */
  recorded(record: PlatformRecord, entry: BufferEntry): void {
    if (typeof record.record !== 'object') return;
    const requestId = record.record.requestId;
    if (typeof requestId !== 'string') return;
    if (record.recordType === 'platform.start' && this.#concurrent) this.started(requestId);
    else if (record.recordType === 'platform.runtimeDone') {
      if (this.#runtimeDoneWaiter?.requestId === requestId) this.#runtimeDoneWaiter.wake(entry);
      else remember(this.#runtimeDone, requestId, entry);
    } else if (record.recordType === 'platform.report' && this.#awaitingReport.delete(requestId))
      this.#onReport?.();
  }

  /** Whether SHUTDOWN should still wait for a report. */
  reportPending(): boolean {
    if (this.#concurrent) return this.#awaitingReport.size > 0;
    return this.#last !== undefined && this.#awaitingReport.has(this.#last);
  }

  /** Called whenever an awaited report arrived (SHUTDOWN re-checks {@link InvokeTracker.reportPending}). */
  setReportListener(listener: (() => void) | undefined): void {
    this.#onReport = listener;
  }

  /** Resolves with the recorded `platform.runtimeDone` of `requestId`, or undefined after `ms`. */
  runtimeDone(requestId: string, ms: number): Promise<BufferEntry | undefined> {
    const seen = this.#runtimeDone.get(requestId);
    if (seen !== undefined) {
      this.#runtimeDone.delete(requestId);
      return Promise.resolve(seen);
    }
    if (ms <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (entry: BufferEntry | undefined) => {
        clearTimeout(timer);
        this.#runtimeDoneWaiter = undefined;
        resolve(entry);
      };
      const timer = setTimeout(() => finish(undefined), ms);
      this.#runtimeDoneWaiter = { requestId, wake: finish };
    });
  }

  /** Whether the `platform.runtimeDone` of `requestId` was recorded without anyone waiting for it (any more). */
  hasRuntimeDone(requestId: string): boolean {
    return this.#runtimeDone.has(requestId);
  }

  /** Forgets everything: a restored environment owes nothing of its snapshot's. */
  reset(): void {
    this.#awaitingReport.clear();
    this.#runtimeDone.clear();
    this.#last = undefined;
  }
}

function remember<K>(set: Set<K>, key: K): void;
function remember<K, V>(map: Map<K, V>, key: K, value: V): void;
function remember<K, V>(store: Set<K> | Map<K, V>, key: K, value?: V): void {
  if (store instanceof Set) store.add(key);
  else store.set(key, value as V);
  if (store.size > MAX_TRACKED) {
    const oldest = store.keys().next().value as K;
    store.delete(oldest);
  }
}
