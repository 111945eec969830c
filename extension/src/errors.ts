/** Stable error codes of the extension (undici/Fastify style). */
export const ERROR_CODES = {
  runtimeApi: 'EXT_ERR_RUNTIME_API',
  register: 'EXT_ERR_REGISTER',
  next: 'EXT_ERR_NEXT',
  bodyTooLarge: 'EXT_ERR_BODY_TOO_LARGE',
  timeout: 'EXT_ERR_TIMEOUT',
  token: 'EXT_ERR_TOKEN',
} as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Every error the extension throws on purpose: a stable `code`, the HTTP `status` when one was received. */
export class LifelineError extends Error {
  override readonly name = 'LifelineError';
  readonly code: ErrorCode;
  readonly status: number | undefined;
  /** The API's `errorType` when its error body carried one (e.g. `Extension.InvalidEventType`). */
  readonly errorType: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; errorType?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.errorType = options.errorType;
  }
}

/** A short, secret-free description of anything thrown, for one log line. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
