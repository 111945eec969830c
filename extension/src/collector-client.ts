import { Agent, request } from 'node:http';
import { describeError } from './errors.ts';
import { httpRequest } from './http-request.ts';
import type { TokenProvider } from './token-provider.ts';

/** The outcome of sending one batch. */
export type SendResult =
  /** 2xx: committed by the collector. */
  | { kind: 'ack'; accepted: number; duplicates: number }
  /** 4xx other than 401/403/408/429: never retry this batch. `badIndexes` when a 400 named the bad events. */
  | { kind: 'rejected'; status: number; badIndexes: number[] | undefined; detail: string }
  /**
   * 5xx, 408, 429, 401/403 (`problem: 'auth'`), network errors, timeouts, no token yet (`problem: 'token'`): try
   * again later.
   */
  | {
      kind: 'retry';
      status: number | undefined;
      detail: string;
      aborted?: boolean;
      problem?: RetryProblem;
    };

/** Why a retryable send failed, when it is not the collector being unavailable. */
export type RetryProblem = 'auth' | 'token';

/** Options of {@link CollectorClient}. */
export interface CollectorClientOptions {
  /** Base URL (http or https), without trailing slash. */
  url: string;
  /** A fixed token, or a provider asked before every send (a runtime token, fetched and cached by it). */
  token: string | TokenProvider | undefined;
}

type RequestFn = typeof request;

const RETRYABLE_SOCKET_ERRORS = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_DESTROYED',
]);
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends batches to `POST ${url}/v1/events` over one kept-alive connection. A socket that went stale during a freeze
 * (ECONNRESET, "socket hang up") is retried once on a fresh connection within the same time budget. Never throws.
 */
export class CollectorClient {
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #tokens: TokenProvider | undefined;
  /** Ends the wait for a token when the send is aborted. */
  #abortWait: (() => void) | undefined;
  #agent: Agent | undefined;
  #request: RequestFn | undefined;
  #aborted = false;

  constructor(options: CollectorClientOptions) {
    this.#url = new URL(`${options.url}/v1/events`);
    this.#headers = { 'content-type': 'application/json' };
    if (typeof options.token === 'string') this.#headers.authorization = `Bearer ${options.token}`;
    else this.#tokens = options.token;
  }

  /**
   * Sends one serialised `{"events":[…]}` body within `timeoutMs` (waiting for a runtime token included). A 401/403
   * makes a runtime token be re-read before the next send.
   */
  async send(body: string, timeoutMs: number): Promise<SendResult> {
    const started = Date.now();
    this.#aborted = false;
    let headers = this.#headers;
    if (this.#tokens !== undefined) {
      const token = await this.#awaitToken(this.#tokens, timeoutMs);
      if (typeof token !== 'string') return token;
      headers = { ...headers, authorization: `Bearer ${token}` };
    }
    const result = await this.#sendWith(body, headers, timeoutMs - (Date.now() - started));
    if (result.kind === 'retry' && result.problem === 'auth') this.#tokens?.invalidate();
    return result;
  }

  /**
   * Gives up the request in flight (its answer is no longer awaited) and its connection; the caller re-sends the
   * batch on a fresh one.
   */
  abort(): void {
    this.#aborted = true;
    this.#abortWait?.();
    this.#resetConnection();
  }

  /** Drops the connection. */
  close(): void {
    this.#resetConnection();
  }

  async #sendWith(
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<SendResult> {
    if (timeoutMs <= 0) return { kind: 'retry', status: undefined, detail: 'no time left to send' };
    const started = Date.now();
    try {
      return await this.#attempt(body, headers, timeoutMs);
    } catch (error) {
      if (this.#aborted) {
        return { kind: 'retry', status: undefined, detail: 'aborted', aborted: true };
      }
      const remaining = timeoutMs - (Date.now() - started);
      if (isStaleSocket(error) && remaining > 0) {
        this.#resetConnection();
        try {
          return await this.#attempt(body, headers, remaining);
        } catch (retryError) {
          return { kind: 'retry', status: undefined, detail: describeError(retryError) };
        }
      }
      this.#resetConnection();
      return { kind: 'retry', status: undefined, detail: describeError(error) };
    }
  }

  /** The token, or the retry to report when it is not available within `timeoutMs` (or the send was aborted). */
  async #awaitToken(tokens: TokenProvider, timeoutMs: number): Promise<string | SendResult> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<SendResult>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            kind: 'retry',
            status: undefined,
            detail: `no token within ${timeoutMs} ms`,
            problem: 'token',
          }),
        Math.max(0, timeoutMs),
      );
      this.#abortWait = () =>
        resolve({ kind: 'retry', status: undefined, detail: 'aborted', aborted: true });
    });
    const fetched = tokens.get().then(
      (token): string | SendResult => token,
      (error: unknown): SendResult => ({
        kind: 'retry',
        status: undefined,
        detail: describeError(error),
        problem: 'token',
      }),
    );
    try {
      return await Promise.race([fetched, gaveUp]);
    } finally {
      clearTimeout(timer);
      this.#abortWait = undefined;
    }
  }

  async #attempt(
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<SendResult> {
    const { agent, requestFn } = await this.#connection();
    const res = await httpRequest({
      request: requestFn,
      agent,
      url: this.#url,
      method: 'POST',
      headers,
      body,
      timeoutMs: Math.max(1, timeoutMs),
      maxBodyBytes: MAX_RESPONSE_BYTES,
    });
    return interpret(res.status, res.body);
  }

  async #connection(): Promise<{ agent: Agent; requestFn: RequestFn }> {
    if (this.#agent === undefined || this.#request === undefined) {
      if (this.#url.protocol === 'https:') {
        const https = await import('node:https');
        this.#agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
        this.#request = https.request as unknown as RequestFn;
      } else {
        this.#agent = new Agent({ keepAlive: true, maxSockets: 1 });
        this.#request = request;
      }
    }
    return { agent: this.#agent, requestFn: this.#request };
  }

  #resetConnection(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}

/** Maps a collector answer to a {@link SendResult}. */
export function interpret(status: number, body: string): SendResult {
  if (status >= 200 && status < 300) {
    const ack = parse(body);
    return {
      kind: 'ack',
      accepted: typeof ack?.accepted === 'number' ? ack.accepted : 0,
      duplicates: typeof ack?.duplicates === 'number' ? ack.duplicates : 0,
    };
  }
  const detail = `collector answered ${status}`;
  // A wrong or rotating token is not a bad payload: keep the events until the collector takes them.
  if (status === 401 || status === 403) return { kind: 'retry', status, detail, problem: 'auth' };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return {
      kind: 'rejected',
      status,
      badIndexes: status === 400 ? badIndexes(body) : undefined,
      detail,
    };
  }
  return { kind: 'retry', status, detail };
}

function badIndexes(body: string): number[] | undefined {
  const details = parse(body)?.details;
  if (!Array.isArray(details) || details.length === 0) return undefined;
  const indexes = new Set<number>();
  for (const detail of details) {
    const index = (detail as { index?: unknown } | null)?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return undefined;
    indexes.add(index);
  }
  return [...indexes].sort((a, b) => a - b);
}

function parse(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isStaleSocket(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && RETRYABLE_SOCKET_ERRORS.has(code)) ||
    error.message === 'socket hang up'
  );
}
