import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LifelineEvent } from '@lifeline/protocol';

/** How the receiver answers. */
export type ReceiverMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'reset' }
  /** Reads the request and never answers, like a connection that died silently. */
  | { kind: 'hang' };

/** One POST as received. */
export interface ReceivedBatch {
  at: number;
  authorization: string | undefined;
  contentType: string | undefined;
  events: LifelineEvent[];
  status: number;
}

/**
 * A real collector stand-in on 127.0.0.1: records every batch, deduplicates by id, answers
 * `{"accepted":n,"duplicates":m}` after commit, and can be told to fail, slow down, reset or go down.
 */
export class Receiver {
  mode: ReceiverMode = { kind: 'ok' };
  readonly batches: ReceivedBatch[] = [];
  /** Committed events by id (first copy wins). */
  readonly byId = new Map<string, LifelineEvent>();
  /** How many times each id was received in a committed batch. */
  readonly receipts = new Map<string, number>();
  #server: Server | undefined;
  #port = 0;
  #waiters = new Set<() => void>();

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Committed events in commit order. */
  get events(): LifelineEvent[] {
    return [...this.byId.values()];
  }

  /** Starts listening (on the previous port again after {@link Receiver.down}). */
  async up(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops every connection: the collector is gone. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Resolves when `predicate` holds (checked after every batch), rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`receiver: timed out waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  /** Events of one type, in commit order. */
  ofType<T extends LifelineEvent['type']>(type: T): Extract<LifelineEvent, { type: T }>[] {
    return this.events.filter((event) => event.type === type) as Extract<
      LifelineEvent,
      { type: T }
    >[];
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const mode = this.mode;
      if (mode.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode.kind === 'hang') return;
      const answer = () => {
        if (req.method !== 'POST' || req.url !== '/v1/events') {
          res.writeHead(404).end();
          return;
        }
        let events: LifelineEvent[];
        try {
          events = (
            JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: LifelineEvent[] }
          ).events;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"bad json"}');
          return;
        }
        const status = mode.kind === 'status' ? mode.status : 200;
        this.batches.push({
          at: Date.now(),
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          events,
          status,
        });
        if (status < 200 || status >= 300) {
          res
            .writeHead(status, { 'content-type': 'application/json' })
            .end(mode.kind === 'status' ? mode.body : '');
          this.#notify();
          return;
        }
        let accepted = 0;
        let duplicates = 0;
        for (const event of events) {
          this.receipts.set(event.id, (this.receipts.get(event.id) ?? 0) + 1);
          if (this.byId.has(event.id)) duplicates++;
          else {
            accepted++;
            this.byId.set(event.id, event);
          }
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ accepted, duplicates }));
        this.#notify();
      };
      if (mode.kind === 'slow') setTimeout(answer, mode.delayMs);
      else answer();
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** Starts a receiver and stops it when the test ends. */
export async function startReceiver(
  onFinished: (fn: () => Promise<void>) => void,
): Promise<Receiver> {
  const receiver = new Receiver();
  await receiver.up();
  onFinished(() => receiver.down());
  return receiver;
}
