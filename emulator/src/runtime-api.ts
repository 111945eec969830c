import type { IncomingMessage, ServerResponse } from 'node:http';
import { monoNow } from './clock.ts';
import type { LogInput } from './event-log.ts';
import { BodyTooLargeError, readBody, sendAccepted, sendError, sendJson } from './http-json.ts';

/** Path prefix of the Runtime API. */
export const RUNTIME_API_PREFIX = '/2018-06-01/runtime';

/** Largest synchronous response Lambda accepts (6 MB). */
export const MAX_RESPONSE_BYTES = 6_291_556;
/** Largest streamed response Lambda accepts (200 MB). */
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;
/** Request header by which a runtime streams its response. */
const RESPONSE_MODE_HEADER = 'lambda-runtime-function-response-mode';

const ERROR_TYPE_PATTERN = /^(Runtime|Function)\.[A-Z][a-zA-Z]+$/;
const ERROR_BODY_LIMIT = 1024 * 1024;

/** What the Runtime API needs from the sandbox. */
export interface RuntimeApiHost {
  log(entry: LogInput): void;
  /** The runtime called /invocation/next; the host answers `res` when an invoke starts. */
  runtimeNext(res: ServerResponse): void;
  /** Whether `requestId` is the current invocation and still awaits its response or error. */
  acceptsResult(requestId: string): boolean;
  /** The runtime answered; `firstByteMono` is when the first bytes came (a streamed answer ends much later). */
  runtimeResponse(requestId: string, body: Buffer, firstByteMono: number | undefined): void;
  runtimeError(requestId: string, errorType: string, body: Buffer): void;
  runtimeInitError(errorType: string, body: Buffer): void;
  /** SnapStart: the runtime finished its Init and waits to be restored; the host answers `res` at the restore. */
  runtimeRestoreNext(res: ServerResponse): void;
  /** SnapStart: the runtime's after-restore work failed. */
  runtimeRestoreError(errorType: string, body: Buffer): void;
}

function errorTypeOf(req: IncomingMessage): string {
  const raw = req.headers['lambda-runtime-function-error-type'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && ERROR_TYPE_PATTERN.test(value) ? value : 'Runtime.Unknown';
}

/**
 * Serves the Runtime API subset the runtime needs (next, response, error, init and restore). Returns false for other
 * paths.
 */
export async function handleRuntimeApi(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  host: RuntimeApiHost,
): Promise<boolean> {
  if (!pathname.startsWith(`${RUNTIME_API_PREFIX}/`)) return false;
  const route = pathname.slice(RUNTIME_API_PREFIX.length);
  const method = req.method ?? 'GET';
  if (route === '/invocation/next' && method === 'GET') {
    host.log({ kind: 'runtime.next', extension: 'runtime' });
    host.runtimeNext(res);
    return true;
  }
  if (route === '/restore/next' && method === 'GET') {
    host.log({ kind: 'runtime.restore-next', extension: 'runtime' });
    host.runtimeRestoreNext(res);
    return true;
  }
  if (route === '/restore/error' && method === 'POST') {
    const body = await readBody(req, ERROR_BODY_LIMIT).catch(() => Buffer.alloc(0));
    const errorType = errorTypeOf(req);
    sendAccepted(res);
    host.log({ kind: 'runtime.restore-error', extension: 'runtime', statusCode: 202, errorType });
    host.runtimeRestoreError(errorType, body);
    return true;
  }
  if (route === '/init/error' && method === 'POST') {
    const body = await readBody(req, ERROR_BODY_LIMIT).catch(() => Buffer.alloc(0));
    const errorType = errorTypeOf(req);
    sendAccepted(res);
    host.log({ kind: 'runtime.init-error', extension: 'runtime', statusCode: 202, errorType });
    host.runtimeInitError(errorType, body);
    return true;
  }
  const match = /^\/invocation\/([^/]+)\/(response|error)$/.exec(route);
  if (!match || method !== 'POST') return false;
  const requestId = decodeURIComponent(match[1]!);
  const which = match[2] as 'response' | 'error';
  const kind = which === 'response' ? 'runtime.response' : 'runtime.error';
  const streamed = which === 'response' && req.headers[RESPONSE_MODE_HEADER] === 'streaming';
  const limit = streamed
    ? MAX_STREAMED_RESPONSE_BYTES
    : which === 'response'
      ? MAX_RESPONSE_BYTES
      : ERROR_BODY_LIMIT;
  let firstByteMono: number | undefined;
  let body: Buffer;
  try {
    body = await readBody(req, limit, () => {
      firstByteMono = monoNow();
    });
  } catch (error) {
    if (error instanceof BodyTooLargeError && host.acceptsResult(requestId)) {
      sendJson(res, 413, {
        errorMessage: `Exceeded maximum allowed payload size (${limit} bytes).`,
        errorType: 'RequestEntityTooLarge',
      });
      host.log({ kind, requestId, statusCode: 413, errorType: 'Function.ResponseSizeTooLarge' });
      host.runtimeError(requestId, 'Function.ResponseSizeTooLarge', Buffer.alloc(0));
      return true;
    }
    sendError(res, 400, 'InvalidRequestFormat', String(error));
    return true;
  }
  if (!host.acceptsResult(requestId)) {
    sendError(res, 400, 'InvalidRequestID', 'Invalid request ID');
    host.log({ kind, requestId, statusCode: 400, errorType: 'InvalidRequestID' });
    return true;
  }
  sendAccepted(res);
  // A streaming runtime that fails mid-stream says so in trailers after the bytes it already sent.
  const trailerError = streamed ? req.trailers['lambda-runtime-function-error-type'] : undefined;
  if (which === 'response' && !trailerError) {
    host.log({ kind, extension: 'runtime', requestId, statusCode: 202, data: { streamed } });
    host.runtimeResponse(requestId, body, firstByteMono);
  } else if (trailerError) {
    const errorType = ERROR_TYPE_PATTERN.test(trailerError) ? trailerError : 'Runtime.Unknown';
    const errorBody = req.trailers['lambda-runtime-function-error-body'];
    host.log({ kind, extension: 'runtime', requestId, statusCode: 202, errorType });
    host.runtimeError(
      requestId,
      errorType,
      errorBody ? Buffer.from(errorBody, 'base64') : Buffer.alloc(0),
    );
  } else {
    const errorType = errorTypeOf(req);
    host.log({ kind, extension: 'runtime', requestId, statusCode: 202, errorType });
    host.runtimeError(requestId, errorType, body);
  }
  return true;
}
