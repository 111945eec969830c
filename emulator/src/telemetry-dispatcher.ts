import http from 'node:http';
import net from 'node:net';
import type { TelemetryApiEvent } from '@lifeline/protocol';
import { isoTime } from './clock.ts';
import type { LogInput } from './event-log.ts';

export type { TelemetryApiEvent };

/** Telemetry categories an extension can subscribe to. */
export type TelemetryCategory = 'platform' | 'function' | 'extension';

/** Buffering of one subscription. */
export interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

/** Where batches go: HTTP POST to a loopback URL, or NDJSON over TCP. */
export type Destination = { protocol: 'HTTP'; url: URL } | { protocol: 'TCP'; port: number };

/** A validated subscription. */
export interface Subscription {
  api: 'telemetry' | 'logs';
  extension: string;
  extensionId: string;
  types: TelemetryCategory[];
  buffering: Buffering;
  destination: Destination;
  schemaVersion: string;
}

/** Dispatcher settings. */
export interface DispatcherOptions {
  queueLimit: number;
  maxAttempts: number;
  retryBaseMs: number;
  log(entry: LogInput): void;
}

/** Reason string of `platform.logsDropped` (as in the Logs/Telemetry API documentation). */
export const LOGS_DROPPED_REASON =
  'Consumer seems to have fallen behind as it has not acknowledged receipt of logs.';

interface Queued {
  json: string;
  bytes: number;
  type: string;
}

/** Record count per type in a batch, for the log (e.g. `{ "platform.report": 1, function: 3 }`). */
function countTypes(batch: readonly Queued[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of batch) counts[item.type] = (counts[item.type] ?? 0) + 1;
  return counts;
}

function categoryOf(type: string): TelemetryCategory | undefined {
  if (type.startsWith('platform.')) return 'platform';
  if (type === 'function') return 'function';
  if (type === 'extension') return 'extension';
  return undefined;
}

class Subscriber {
  readonly sub: Subscription;
  queue: Queued[] = [];
  queuedBytes = 0;
  inflight: Queued[] | undefined;
  attempts = 0;
  timer: NodeJS.Timeout | undefined;
  /** Set by a flush (thaw, SHUTDOWN): keep sending until the queue is empty, ignoring timeoutMs. */
  flushing = false;
  /** A delivery attempt is on the wire. */
  active = false;
  droppedRecords = 0;
  droppedBytes = 0;
  request: http.ClientRequest | undefined;
  socket: net.Socket | undefined;
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(sub: Subscription) {
    this.sub = sub;
  }

  clearTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Buffers Telemetry API records per subscriber and delivers them in batches (maxItems / maxBytes / timeoutMs), with
 * bounded retries and backoff, `platform.logsDropped` when a subscriber lags, nothing while the environment is frozen
 * and an immediate flush on thaw and at SHUTDOWN (README "Telemetry"). One dispatcher per Init generation.
 */
export class TelemetryDispatcher {
  readonly #options: DispatcherOptions;
  readonly #subscribers = new Map<string, Subscriber>();
  /** Records of the Init phase, replayed to each new subscriber. */
  readonly #initRecords: TelemetryApiEvent[] = [];
  #initPhase = true;
  #frozen = false;
  #closed = false;
  #failNext = 0;
  #dropNext = 0;
  readonly #idle = new Set<() => void>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  /** Whether anyone subscribed. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Adds (or replaces) a subscription, replays the Init records it missed, then announces it. */
  subscribe(sub: Subscription): void {
    const previous = this.#subscribers.get(sub.extensionId);
    if (previous) this.#dispose(previous);
    const subscriber = new Subscriber(sub);
    this.#subscribers.set(sub.extensionId, subscriber);
    for (const event of this.#initRecords) this.#enqueue(subscriber, event);
    if (sub.api === 'telemetry') {
      this.publish('platform.telemetrySubscription', {
        name: sub.extension,
        state: 'Subscribed',
        types: [...sub.types],
      });
    }
    this.#schedule(subscriber);
  }

  /** Ends the Init phase: no more replay buffering. */
  endInit(): void {
    this.#initPhase = false;
    this.#initRecords.length = 0;
  }

  /** Creates a record now and queues it for every subscriber of its category. */
  publish(type: string, record: Record<string, unknown> | string, epochMs = Date.now()): void {
    if (this.#closed) return;
    const event: TelemetryApiEvent = { time: isoTime(epochMs), type, record };
    if (this.#initPhase) this.#initRecords.push(event);
    for (const subscriber of this.#subscribers.values()) {
      this.#enqueue(subscriber, event);
      this.#schedule(subscriber);
    }
  }

  /** Stops starting deliveries (in-flight ones are suspended with the processes). */
  freeze(): void {
    this.#frozen = true;
    for (const subscriber of this.#subscribers.values()) {
      subscriber.clearTimer();
      subscriber.flushing = false;
    }
  }

  /** Resumes deliveries and flushes what is buffered right away. */
  thaw(): void {
    this.#frozen = false;
    this.flush();
  }

  /** Sends whatever is buffered now, ignoring timeoutMs. */
  flush(): void {
    for (const subscriber of this.#subscribers.values()) this.#schedule(subscriber, true);
  }

  /** Fault injection: the next `count` delivery attempts fail as if the listener refused the connection. */
  failNextDeliveries(count: number): void {
    this.#failNext += Math.max(0, count);
  }

  /** Fault injection: the next `count` batches are lost in transit (never delivered, never retried). */
  dropNextDeliveries(count: number): void {
    this.#dropNext += Math.max(0, count);
  }

  /** Resolves when no subscriber has anything queued or in flight (or after `timeoutMs`). */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.#isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.#idle.delete(check);
        resolve(value);
      };
      const check = () => {
        if (this.#isIdle()) done(true);
      };
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.#idle.add(check);
    });
  }

  /** Stops everything; whatever was not delivered is counted as dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const subscriber of this.#subscribers.values()) {
      const left = subscriber.queue.length + (subscriber.inflight?.length ?? 0);
      if (left > 0) {
        this.#options.log({
          kind: 'telemetry.drop',
          extension: subscriber.sub.extension,
          extensionId: subscriber.sub.extensionId,
          message: 'environment ended with undelivered telemetry',
          data: { records: left },
        });
      }
      this.#dispose(subscriber);
    }
    this.#subscribers.clear();
    for (const check of this.#idle) check();
  }

  #isIdle(): boolean {
    for (const subscriber of this.#subscribers.values()) {
      if (subscriber.queue.length > 0 || subscriber.inflight) return false;
    }
    return true;
  }

  #dispose(subscriber: Subscriber): void {
    subscriber.clearTimer();
    subscriber.request?.destroy();
    subscriber.socket?.destroy();
    subscriber.agent.destroy();
    subscriber.queue = [];
    subscriber.inflight = undefined;
  }

  #enqueue(subscriber: Subscriber, event: TelemetryApiEvent): void {
    const category = categoryOf(event.type);
    if (!category || !subscriber.sub.types.includes(category)) return;
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json);
    subscriber.queue.push({ json, bytes, type: event.type });
    subscriber.queuedBytes += bytes;
    while (subscriber.queue.length > this.#options.queueLimit) {
      const dropped = subscriber.queue.shift()!;
      subscriber.queuedBytes -= dropped.bytes;
      subscriber.droppedRecords += 1;
      subscriber.droppedBytes += dropped.bytes;
    }
  }

  #schedule(subscriber: Subscriber, now = false): void {
    if (this.#closed || this.#frozen) return;
    if (subscriber.inflight) {
      // A retry whose backoff timer was cancelled by a freeze resumes now.
      if (!subscriber.active && !subscriber.timer) this.#attempt(subscriber);
      return;
    }
    if (now) subscriber.flushing = true;
    if (subscriber.queue.length === 0 && subscriber.droppedRecords === 0) {
      subscriber.flushing = false;
      for (const check of this.#idle) check();
      return;
    }
    const { maxItems, maxBytes, timeoutMs } = subscriber.sub.buffering;
    if (
      subscriber.flushing ||
      subscriber.queue.length >= maxItems ||
      subscriber.queuedBytes >= maxBytes
    ) {
      subscriber.clearTimer();
      this.#send(subscriber);
      return;
    }
    subscriber.timer ??= setTimeout(() => {
      subscriber.timer = undefined;
      if (!this.#frozen && !this.#closed) this.#send(subscriber);
    }, timeoutMs);
  }

  #takeBatch(subscriber: Subscriber): Queued[] {
    const { maxItems, maxBytes } = subscriber.sub.buffering;
    const batch: Queued[] = [];
    if (subscriber.droppedRecords > 0 && subscriber.sub.types.includes('platform')) {
      const event: TelemetryApiEvent = {
        time: isoTime(Date.now()),
        type: 'platform.logsDropped',
        record: {
          droppedBytes: subscriber.droppedBytes,
          droppedRecords: subscriber.droppedRecords,
          reason: LOGS_DROPPED_REASON,
        },
      };
      const json = JSON.stringify(event);
      batch.push({ json, bytes: Buffer.byteLength(json), type: event.type });
      this.#options.log({
        kind: 'telemetry.drop',
        extension: subscriber.sub.extension,
        extensionId: subscriber.sub.extensionId,
        message: 'subscriber lagging: records dropped',
        data: { droppedRecords: subscriber.droppedRecords, droppedBytes: subscriber.droppedBytes },
      });
    }
    subscriber.droppedRecords = 0;
    subscriber.droppedBytes = 0;
    let bytes = 0;
    while (subscriber.queue.length > 0 && batch.length < maxItems) {
      const item = subscriber.queue[0]!;
      if (batch.length > 0 && bytes + item.bytes > maxBytes) break;
      subscriber.queue.shift();
      subscriber.queuedBytes -= item.bytes;
      bytes += item.bytes;
      batch.push(item);
    }
    return batch;
  }

  #send(subscriber: Subscriber): void {
    if (this.#closed || this.#frozen || subscriber.inflight) return;
    const batch = this.#takeBatch(subscriber);
    if (batch.length === 0) return;
    subscriber.inflight = batch;
    subscriber.attempts = 0;
    this.#attempt(subscriber);
  }

  #attempt(subscriber: Subscriber): void {
    const batch = subscriber.inflight;
    if (!batch || this.#closed) return;
    subscriber.attempts += 1;
    subscriber.active = true;
    const attempt = subscriber.attempts;
    let finished = false;
    const finish = (ok: boolean, statusCode: number | undefined, error?: string) => {
      if (finished) return;
      finished = true;
      subscriber.active = false;
      subscriber.request = undefined;
      if (this.#closed || subscriber.inflight !== batch) return;
      this.#options.log({
        kind: 'telemetry.deliver',
        extension: subscriber.sub.extension,
        extensionId: subscriber.sub.extensionId,
        statusCode,
        errorMessage: error,
        data: { items: batch.length, attempt, types: countTypes(batch) },
      });
      if (ok) {
        subscriber.inflight = undefined;
        this.#schedule(subscriber);
        return;
      }
      if (attempt >= this.#options.maxAttempts) {
        this.#options.log({
          kind: 'telemetry.drop',
          extension: subscriber.sub.extension,
          extensionId: subscriber.sub.extensionId,
          message: `batch dropped after ${attempt} attempts`,
          data: { records: batch.length },
        });
        subscriber.inflight = undefined;
        this.#schedule(subscriber);
        return;
      }
      const backoff = this.#options.retryBaseMs * 2 ** (attempt - 1);
      subscriber.timer = setTimeout(() => {
        subscriber.timer = undefined;
        if (this.#frozen) return;
        this.#attempt(subscriber);
      }, backoff);
    };
    if (this.#dropNext > 0) {
      this.#dropNext -= 1;
      this.#options.log({
        kind: 'fault',
        extension: subscriber.sub.extension,
        message: 'telemetry batch lost in transit',
        data: { items: batch.length },
      });
      queueMicrotask(() => finish(true, undefined, 'dropped by fault injection'));
      return;
    }
    if (this.#failNext > 0) {
      this.#failNext -= 1;
      queueMicrotask(() => finish(false, undefined, 'connection refused (fault injection)'));
      return;
    }
    const body = `[${batch.map((item) => item.json).join(',')}]`;
    const destination = subscriber.sub.destination;
    if (destination.protocol === 'TCP') {
      this.#sendTcp(subscriber, destination.port, batch, finish);
      return;
    }
    const request = http.request(
      destination.url,
      {
        method: 'POST',
        agent: subscriber.agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          finish(code >= 200 && code < 300, code);
        });
        res.on('error', (error) => finish(false, res.statusCode, error.message));
      },
    );
    subscriber.request = request;
    request.on('error', (error) => finish(false, undefined, error.message));
    request.end(body);
  }

  #sendTcp(
    subscriber: Subscriber,
    port: number,
    batch: Queued[],
    finish: (ok: boolean, statusCode: number | undefined, error?: string) => void,
  ): void {
    const write = (socket: net.Socket) => {
      socket.write(`${batch.map((item) => item.json).join('\n')}\n`, (error) => {
        if (error) {
          socket.destroy();
          if (subscriber.socket === socket) subscriber.socket = undefined;
          finish(false, undefined, error.message);
        } else {
          finish(true, undefined);
        }
      });
    };
    if (subscriber.socket && !subscriber.socket.destroyed) {
      write(subscriber.socket);
      return;
    }
    const socket = net.connect({ host: '127.0.0.1', port });
    subscriber.socket = socket;
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      write(socket);
    });
    socket.on('error', (error) => {
      if (subscriber.socket === socket) subscriber.socket = undefined;
      if (!connected) finish(false, undefined, error.message);
    });
    socket.on('close', () => {
      if (subscriber.socket === socket) subscriber.socket = undefined;
    });
  }
}
