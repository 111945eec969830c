import type { AwsEnvironment, RuntimeTokenSource } from './config.ts';
import { describeError, ERROR_CODES, LifelineError } from './errors.ts';
import { httpRequest } from './http-request.ts';

/** The ingest token, known up front or read from AWS on first use. */
export interface TokenProvider {
  /**
   * The token. A runtime source is fetched on the first call (concurrent calls share one request) and cached; a
   * failure is remembered for {@link FAILURE_HOLD_MS}, so a retry loop cannot hammer the AWS API. Rejects with a
   * secret-free {@link LifelineError} (`EXT_ERR_TOKEN`).
   */
  get(): Promise<string>;
  /** Forgets a fetched token (the collector refused it, it may have been rotated): the next {@link get} re-reads it. */
  invalidate(): void;
}

/** Options of {@link runtimeTokenProvider}. */
export interface RuntimeTokenOptions {
  source: RuntimeTokenSource;
  aws: AwsEnvironment;
  /** Bound for one fetch, answer included. */
  timeoutMs: number;
  /** Called with every token fetched (to mask it in logs). */
  onToken?: (token: string) => void;
  now?: () => number;
}

/** How long a failed fetch answers every call before the next one is tried. */
export const FAILURE_HOLD_MS = 1_000;
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * A provider reading the token from Secrets Manager or SSM with one SigV4-signed request. The AWS code (request
 * building, SigV4, `node:crypto`) is a separate chunk loaded with the first fetch, never on the cold-start path.
 */
export function runtimeTokenProvider(options: RuntimeTokenOptions): TokenProvider {
  const now = options.now ?? Date.now;
  let token: string | undefined;
  let pending: Promise<string> | undefined;
  let failure: { error: LifelineError; at: number } | undefined;
  const fetchOnce = async (): Promise<string> => {
    try {
      const value = await fetchToken(options);
      options.onToken?.(value);
      token = value;
      failure = undefined;
      return value;
    } catch (error) {
      const wrapped =
        error instanceof LifelineError
          ? error
          : new LifelineError(ERROR_CODES.token, describeError(error));
      failure = { error: wrapped, at: now() };
      throw wrapped;
    } finally {
      pending = undefined;
    }
  };
  return {
    get() {
      if (token !== undefined) return Promise.resolve(token);
      if (failure !== undefined && now() - failure.at < FAILURE_HOLD_MS)
        return Promise.reject(failure.error);
      pending ??= fetchOnce();
      return pending;
    },
    invalidate() {
      token = undefined;
    },
  };
}

async function fetchToken(options: RuntimeTokenOptions): Promise<string> {
  const { tokenRequest, tokenFromAnswer } = await import('./aws/token-source.ts');
  const request = tokenRequest(options.source, options.aws, new Date());
  const http =
    request.url.protocol === 'https:'
      ? ((await import('node:https')) as unknown as typeof import('node:http'))
      : await import('node:http');
  const agent = new http.Agent({ keepAlive: false });
  let answer: { status: number; body: string };
  try {
    answer = await httpRequest({
      request: http.request,
      agent,
      url: request.url,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      timeoutMs: Math.max(1, options.timeoutMs),
      maxBodyBytes: MAX_ANSWER_BYTES,
    });
  } catch (error) {
    throw new LifelineError(ERROR_CODES.token, `${request.action} failed: ${describeError(error)}`);
  } finally {
    agent.destroy();
  }
  return tokenFromAnswer(options.source, request.action, answer.status, answer.body);
}
