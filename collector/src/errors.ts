import createError from '@fastify/error';
import type { ApiError, ValidationIssue } from '@lifeline/protocol';

/** 401: ingest or read token missing or wrong. */
export const UnauthorizedError = createError('COLLECTOR_ERR_UNAUTHORIZED', '%s', 401);
/** 400: the batch does not match the wire format; `details` says which event and field. */
export const InvalidBatchError = createError('COLLECTOR_ERR_INVALID_BATCH', '%s', 400);
/** 400: the body is not JSON (or is JSON a secure parser refuses, e.g. `__proto__` keys). */
export const InvalidJsonError = createError('COLLECTOR_ERR_INVALID_JSON', '%s', 400);
/** 400: a query parameter is malformed. */
export const BadQueryError = createError('COLLECTOR_ERR_BAD_QUERY', '%s', 400);
/** 403: a browser page from an origin the collector does not serve, or a `Host` name it does not answer to. */
export const ForbiddenError = createError('COLLECTOR_ERR_FORBIDDEN', '%s', 403);
/** 503: a configured capacity (live clients) is reached; retry later. */
export const OverloadedError = createError('COLLECTOR_ERR_OVERLOADED', '%s', 503);
/** 404: no such resource. */
export const NotFoundError = createError('COLLECTOR_ERR_NOT_FOUND', '%s', 404);
/** 413: the body is larger than the configured limit. */
export const BodyTooLargeError = createError('COLLECTOR_ERR_BODY_TOO_LARGE', '%s', 413);
/** 415: the body is not `application/json`. */
export const UnsupportedMediaTypeError = createError(
  'COLLECTOR_ERR_UNSUPPORTED_MEDIA_TYPE',
  '%s',
  415,
);

/**
 * 499 (as proxies log it): the client went away before its read reached the read worker, so the read was dropped
 * unrun. Nobody receives this answer; it names the request in the log.
 */
export const ReadAbandonedError = createError('COLLECTOR_ERR_READ_ABANDONED', '%s', 499);
/** 507: the database is full (SQLITE_FULL); nothing of the batch was stored, retry later. */
export const StorageFullError = createError('COLLECTOR_ERR_STORAGE_FULL', '%s', 507);
/** 503: the database failed (I/O error, busy, ...); nothing of the batch was stored, retry later. */
export const StorageUnavailableError = createError('COLLECTOR_ERR_STORAGE_UNAVAILABLE', '%s', 503);

/** SQLite result codes that are about the storage rather than the statement: the same request may succeed later. */
const TRANSIENT_SQLITE = /^SQLITE_(?:BUSY|LOCKED|IOERR|CANTOPEN|NOMEM|PROTOCOL|READONLY|INTERRUPT)/;

/**
 * The retryable ApiError-carrying error for a storage failure `cause`, or undefined when the cause is not one
 * (a constraint or type error is a bug: it stays a 500). `context` says what happened to the batch.
 */
export function storageError(cause: unknown, context: string): Error | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_FULL_')) {
    return new StorageFullError(`the collector's database is full: ${context}; retry later`, {
      cause,
    });
  }
  if (TRANSIENT_SQLITE.test(code)) {
    return new StorageUnavailableError(
      `the collector's database failed (${code}): ${context}; retry later`,
      { cause },
    );
  }
  if (code === 'COLLECTOR_ERR_STORAGE_FULL' || code === 'COLLECTOR_ERR_STORAGE_UNAVAILABLE') {
    return cause as Error;
  }
  return undefined;
}

/** An error carrying ingest validation details for the ApiError body. */
export interface ErrorWithDetails extends Error {
  details?: ApiError['details'];
}

/** Builds the 400 for an invalid batch: the message names the first bad event and field, details list them all. */
export function invalidBatch(all: readonly ValidationIssue[]): ErrorWithDetails {
  // TypeBox reports an unknown field twice, once as the opaque "schema is false": keep the readable one.
  const issues = all.filter(
    (issue) =>
      issue.message !== 'schema is false' ||
      !all.some((other) => other !== issue && other.path === issue.path),
  );
  const first = issues[0];
  const where =
    first === undefined
      ? 'the batch'
      : first.index === undefined
        ? `${first.path}`
        : `event ${first.index} field ${first.path}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue(s), see details)` : '';
  const error: ErrorWithDetails = new InvalidBatchError(
    `invalid batch: ${where} ${first?.message ?? 'is invalid'}${more}`,
  );
  error.details = issues.map((issue) => ({
    ...(issue.index === undefined ? {} : { index: issue.index }),
    path: issue.path,
    message: issue.message,
  }));
  return error;
}

interface FastifyLikeError extends Error {
  code?: string;
  statusCode?: number;
  validation?: unknown;
  validationContext?: string;
  details?: ApiError['details'];
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/**
 * Maps any error thrown while handling a request to the protocol's ApiError shape. Fastify's own parser errors get
 * collector codes and clear messages; anything unexpected becomes a 500 whose message is hidden.
 */
export function toApiError(error: FastifyLikeError, bodyLimit: number): ApiError {
  const mapped = mapFastifyError(error, bodyLimit);
  const statusCode = mapped.statusCode;
  return {
    statusCode,
    code: mapped.code,
    error: STATUS_TEXT[statusCode] ?? 'Error',
    message: mapped.message,
    ...(error.details ? { details: error.details } : {}),
  };
}

function mapFastifyError(
  error: FastifyLikeError,
  bodyLimit: number,
): { statusCode: number; code: string; message: string } {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        statusCode: 413,
        code: 'COLLECTOR_ERR_BODY_TOO_LARGE',
        message: `body is larger than the limit of ${bodyLimit} bytes; send smaller batches`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_TYPE':
      return {
        statusCode: 415,
        code: 'COLLECTOR_ERR_UNSUPPORTED_MEDIA_TYPE',
        message: 'body must be application/json',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        statusCode: 400,
        code: 'COLLECTOR_ERR_INVALID_JSON',
        message: 'body is empty; expected {"events":[...]}',
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return {
        statusCode: 400,
        code: 'COLLECTOR_ERR_INVALID_JSON',
        message: `body is not valid JSON: ${error.message}`,
      };
    case 'FST_ERR_VALIDATION':
      return {
        statusCode: 400,
        code: 'COLLECTOR_ERR_BAD_QUERY',
        message: `bad request: ${error.message}`,
      };
  }
  const storage = storageError(error, 'the batch was not stored');
  if (storage !== undefined && storage !== error) return mapFastifyError(storage, bodyLimit);
  const statusCode = error.statusCode ?? 500;
  if (
    error.code?.startsWith('COLLECTOR_ERR_STORAGE_') ||
    error.code === 'COLLECTOR_ERR_OVERLOADED'
  ) {
    return { statusCode, code: error.code, message: error.message };
  }
  if (statusCode >= 500) {
    return { statusCode: 500, code: 'COLLECTOR_ERR_INTERNAL', message: 'internal error' };
  }
  if (error.code?.startsWith('COLLECTOR_ERR_')) {
    return { statusCode, code: error.code, message: error.message };
  }
  if (error instanceof SyntaxError || /prototype|constructor/i.test(error.message)) {
    return {
      statusCode: 400,
      code: 'COLLECTOR_ERR_INVALID_JSON',
      message: `body is not valid JSON: ${error.message}`,
    };
  }
  return {
    statusCode,
    code:
      statusCode === 400 ? 'COLLECTOR_ERR_BAD_REQUEST' : (error.code ?? 'COLLECTOR_ERR_REQUEST'),
    message: error.message,
  };
}
