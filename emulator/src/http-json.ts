import type { IncomingMessage, ServerResponse } from 'node:http';

/** Thrown by {@link readBody} when a body exceeds its limit. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/**
 * Reads a request body, rejecting with {@link BodyTooLargeError} beyond `limitBytes`; `onFirstChunk` runs when the
 * first bytes arrive (a streamed body takes a while after them).
 */
export function readBody(
  req: IncomingMessage,
  limitBytes: number,
  onFirstChunk?: () => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (size === 0 && chunk.length > 0) onFirstChunk?.();
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        reject(new BodyTooLargeError(`body larger than ${limitBytes} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!failed) {
        failed = true;
        reject(error);
      }
    });
  });
}

/**
 * Writes a JSON response the way RAPID's `RenderJSON` does (Go `json.Encoder`): body ends with a newline.
 * Returns false when the connection was already gone.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): boolean {
  return sendRaw(res, status, `${JSON.stringify(body)}\n`, {
    'Content-Type': 'application/json',
    ...headers,
  });
}

/** Writes a response with an exact body; false when the socket was already destroyed. */
export function sendRaw(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string | undefined> = {},
): boolean {
  if (res.writableEnded || res.destroyed || res.socket?.destroyed) return false;
  try {
    const clean: Record<string, string> = {};
    for (const [key, value] of Object.entries(headers)) if (value !== undefined) clean[key] = value;
    clean['Content-Length'] = String(Buffer.byteLength(body));
    res.writeHead(status, clean);
    res.end(body);
    return true;
  } catch {
    return false;
  }
}

/** RAPID's error body `{"errorMessage","errorType"}` with status. */
export function sendError(
  res: ServerResponse,
  status: number,
  errorType: string,
  errorMessage: string,
): boolean {
  return sendJson(res, status, { errorMessage, errorType });
}

/** `202 {"status":"OK"}` (RAPID `RenderAccepted`). */
export function sendAccepted(res: ServerResponse): boolean {
  return sendJson(res, 202, { status: 'OK' });
}

const UUID_HEX = /^[0-9a-fA-F]{32}$/;

/**
 * Parses a UUID like Go's `uuid.Parse`: canonical, `{…}`, `urn:uuid:…` or 32 hex digits. Returns the lower-case
 * canonical form, or undefined when it is not a UUID.
 */
export function parseUuid(value: string): string | undefined {
  let s = value;
  if (s.length === 45 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') s = s.slice(9);
  else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  let hex: string;
  if (s.length === 36) {
    if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
    hex = s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24);
  } else if (s.length === 32) {
    hex = s;
  } else {
    return undefined;
  }
  if (!UUID_HEX.test(hex)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
