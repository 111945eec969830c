import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the fake received. */
/** A scripted answer: status and JSON body (an `errorType`/`errorMessage` object for refusals). */
export interface FakeAnswer {
  status: number;
  body: unknown;
}

export interface FakeCall {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A tiny fake Extensions + Telemetry API on 127.0.0.1:0 for unit tests. `/event/next` parks until the test calls
 * {@link FakeRuntimeApi.send}; telemetry subscriptions answer `telemetryStatus`.
 */
export class FakeRuntimeApi {
  readonly calls: FakeCall[] = [];
  readonly extensionId = randomUUID();
  telemetryStatus = 200;
  /** Status for the next `/event/next` answers (200 delivers events). */
  nextStatus = 200;
  registerStatus = 200;
  /** Answers for the next register calls, in order (then the default behaviour). */
  registerAnswers: FakeAnswer[] = [];
  /** Events a registration may not ask for: 403 `Extension.InvalidEventType`, like Managed Instances for INVOKE. */
  refusedEvents: string[] = [];
  /** Answers for the next telemetry subscriptions, in order (then `telemetryStatus`). */
  telemetryAnswers: FakeAnswer[] = [];
  /** Answers for the next `/event/next` calls, in order (then the default behaviour). */
  nextAnswers: FakeAnswer[] = [];
  #server: Server | undefined;
  #parked: ServerResponse | undefined;
  #queue: unknown[] = [];
  #waiters = new Set<() => void>();

  get address(): string {
    return `127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  /** Calls to one path suffix (e.g. `event/next`). */
  callsTo(suffix: string): FakeCall[] {
    return this.calls.filter((call) => call.path.endsWith(suffix));
  }

  /** The telemetry subscription body, parsed. */
  get subscription(): {
    destination: { URI: string };
    types: string[];
    buffering: Record<string, number>;
  } {
    const call = this.callsTo('/2022-07-01/telemetry')[0];
    if (!call) throw new Error('no telemetry subscription');
    return JSON.parse(call.body);
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const call: FakeCall = {
          at: Date.now(),
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.calls.push(call);
        this.#route(call, res);
        for (const waiter of [...this.#waiters]) waiter();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', () => resolve()));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Delivers an event to the parked (or the next) `/event/next`. */
  send(event: unknown): void {
    if (this.#parked) {
      const res = this.#parked;
      this.#parked = undefined;
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-extension-event-identifier': randomUUID(),
      });
      res.end(JSON.stringify(event));
    } else {
      this.#queue.push(event);
    }
  }

  /** Resolves once `count` calls to `suffix` arrived. */
  waitForCalls(suffix: string, count: number, timeoutMs = 10_000): Promise<FakeCall[]> {
    const done = () => this.callsTo(suffix).length >= count;
    if (done()) return Promise.resolve(this.callsTo(suffix));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`fake runtime API: timed out waiting for ${count} × ${suffix}`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(this.callsTo(suffix));
      };
      this.#waiters.add(check);
    });
  }

  #route(call: FakeCall, res: ServerResponse): void {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(body));
    };
    const scripted = (answers: FakeAnswer[]): boolean => {
      const answer = answers.shift();
      if (answer === undefined) return false;
      json(answer.status, answer.body);
      return true;
    };
    if (call.path === '/2020-01-01/extension/register') {
      if (scripted(this.registerAnswers)) return;
      const asked = (JSON.parse(call.body || '{}') as { events?: string[] }).events ?? [];
      const refused = asked.find((event) => this.refusedEvents.includes(event));
      if (refused !== undefined) {
        json(403, {
          errorMessage: `${refused}: ErrorInvalidEventType`,
          errorType: 'Extension.InvalidEventType',
        });
        return;
      }
      if (this.registerStatus !== 200) {
        json(this.registerStatus, { errorType: 'Extension.Fake', errorMessage: 'refused' });
        return;
      }
      const withAccount = String(call.headers['lambda-extension-accept-feature'] ?? '').includes(
        'accountId',
      );
      json(
        200,
        {
          functionName: 'fake-fn',
          functionVersion: '$LATEST',
          handler: 'index.handler',
          ...(withAccount ? { accountId: '123456789012' } : {}),
        },
        { 'lambda-extension-identifier': this.extensionId },
      );
      return;
    }
    if (call.path === '/2020-01-01/extension/event/next') {
      if (scripted(this.nextAnswers)) return;
      if (this.nextStatus !== 200) {
        json(this.nextStatus, { errorType: 'Extension.Fake', errorMessage: 'next refused' });
        return;
      }
      const queued = this.#queue.shift();
      if (queued !== undefined) {
        json(200, queued);
        return;
      }
      this.#parked = res;
      return;
    }
    if (call.path === '/2022-07-01/telemetry') {
      if (scripted(this.telemetryAnswers)) return;
      json(
        this.telemetryStatus,
        this.telemetryStatus === 200 ? 'OK' : { errorType: 'Telemetry.NotSupported' },
      );
      return;
    }
    if (call.path.endsWith('/init/error') || call.path.endsWith('/exit/error')) {
      json(202, { status: 'OK' });
      return;
    }
    json(404, { errorType: 'NotFound' });
  }
}
