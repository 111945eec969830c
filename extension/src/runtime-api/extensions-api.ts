import { Agent, request } from 'node:http';
import { ERROR_CODES, LifelineError } from '../errors.ts';
import { type HttpResponse, httpRequest } from '../http-request.ts';

/** What `register` answers (function metadata) plus the identifier for every later call. */
export interface Registration {
  extensionId: string;
  functionName: string | undefined;
  functionVersion: string | undefined;
  handler: string | undefined;
  accountId: string | undefined;
}

/** The events an extension can register for. */
export type EventName = 'INVOKE' | 'SHUTDOWN';

/** An INVOKE as received from `/event/next`, parsed defensively. */
export interface InvokeNextEvent {
  eventType: 'INVOKE';
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
  traceId: string | undefined;
}

/** A SHUTDOWN as received; `shutdownReason` exactly as sent (casing varies between platforms). */
export interface ShutdownNextEvent {
  eventType: 'SHUTDOWN';
  deadlineMs: number;
  shutdownReason: string;
}

/** Anything else: ignored, the loop goes on. */
export interface UnknownNextEvent {
  eventType: 'UNKNOWN';
  raw: string;
}

/** `/event/next` answers, a union on `eventType`. */
export type NextEvent = InvokeNextEvent | ShutdownNextEvent | UnknownNextEvent;

const VERSION = '2020-01-01';
const MAX_BODY = 1024 * 1024;

/**
 * Client of the Extensions API (2020-01-01), pinned to `AWS_LAMBDA_RUNTIME_API`. Uses `node:http` with no timeout on
 * any call: `/event/next` may legitimately block for hours, and a timed-out `/next` must never be retried (README).
 */
export class ExtensionsApi {
  readonly #base: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 2 });
  #extensionId: string | undefined;

  constructor(runtimeApi: string) {
    this.#base = `http://${runtimeApi}`;
  }

  /** The identifier from `register`, once registered. */
  get extensionId(): string | undefined {
    return this.#extensionId;
  }

  /**
   * Registers for `events` under `name`, which must be the launcher file's basename.
   * `onSent` runs once the request is on its way, to overlap other start-up work with Lambda's answer.
   * @throws LifelineError `EXT_ERR_REGISTER` on any non-200 answer or a missing identifier (with the answer's
   * `status` and `errorType`).
   */
  async register(
    name: string,
    events: readonly EventName[] = ['INVOKE', 'SHUTDOWN'],
    onSent?: () => void,
  ): Promise<Registration> {
    const res = await this.#call('POST', `/${VERSION}/extension/register`, {
      onSent,
      headers: {
        'lambda-extension-name': name,
        'lambda-extension-accept-feature': 'accountId',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ events }),
    });
    const id = res.headers['lambda-extension-identifier'];
    if (res.status !== 200 || typeof id !== 'string' || id === '') {
      throw new LifelineError(
        ERROR_CODES.register,
        `register answered ${res.status}: ${snippet(res.body)}`,
        { status: res.status, errorType: stringField(parseObject(res.body), 'errorType') },
      );
    }
    this.#extensionId = id;
    const body = parseObject(res.body);
    return {
      extensionId: id,
      functionName: stringField(body, 'functionName'),
      functionVersion: stringField(body, 'functionVersion'),
      handler: stringField(body, 'handler'),
      accountId: stringField(body, 'accountId'),
    };
  }

  /**
   * Long-polls for the next event. Never times out and must never be retried after a failure.
   * @throws LifelineError `EXT_ERR_NEXT` with `status` on a non-200 answer.
   */
  async next(): Promise<NextEvent> {
    const res = await this.#call('GET', `/${VERSION}/extension/event/next`, {
      headers: { 'lambda-extension-identifier': this.#requireId() },
    });
    if (res.status !== 200) {
      throw new LifelineError(
        ERROR_CODES.next,
        `event/next answered ${res.status}: ${snippet(res.body)}`,
        { status: res.status, errorType: stringField(parseObject(res.body), 'errorType') },
      );
    }
    return parseNextEvent(res.body);
  }

  /** Low-level call on the same connection pool, for the Telemetry API. */
  call(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; timeoutMs?: number },
  ): Promise<HttpResponse> {
    return this.#call(method, path, options);
  }

  /** Releases kept-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  #requireId(): string {
    if (this.#extensionId === undefined) {
      throw new LifelineError(ERROR_CODES.runtimeApi, 'not registered');
    }
    return this.#extensionId;
  }

  #call(
    method: string,
    path: string,
    options: {
      headers?: Record<string, string>;
      body?: string;
      timeoutMs?: number;
      onSent?: () => void;
    },
  ): Promise<HttpResponse> {
    return httpRequest({
      onSent: options.onSent,
      request,
      agent: this.#agent,
      url: new URL(path, this.#base),
      method,
      headers: options.headers,
      body: options.body,
      timeoutMs: options.timeoutMs ?? 0,
      maxBodyBytes: MAX_BODY,
    });
  }
}

/** Parses an `/event/next` body (JSON whatever the content-type: some platforms send SHUTDOWN as text). Never throws. */
export function parseNextEvent(body: string): NextEvent {
  const event = parseObject(body);
  const type = typeof event?.eventType === 'string' ? event.eventType.toUpperCase() : '';
  const deadlineMs = finiteNumber(event?.deadlineMs);
  if (type === 'INVOKE') {
    const tracing = event?.tracing;
    const traceValue =
      typeof tracing === 'object' && tracing !== null
        ? (tracing as Record<string, unknown>).value
        : undefined;
    return {
      eventType: 'INVOKE',
      deadlineMs,
      requestId: stringField(event, 'requestId') ?? 'unknown',
      invokedFunctionArn: stringField(event, 'invokedFunctionArn') ?? '',
      traceId: typeof traceValue === 'string' && traceValue !== '' ? traceValue : undefined,
    };
  }
  if (type === 'SHUTDOWN') {
    return {
      eventType: 'SHUTDOWN',
      deadlineMs,
      shutdownReason: stringField(event, 'shutdownReason') ?? 'unknown',
    };
  }
  return { eventType: 'UNKNOWN', raw: snippet(body) };
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

function finiteNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function snippet(body: string): string {
  return body.length > 200 ? `${body.slice(0, 200)}…` : body;
}
