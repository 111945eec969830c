import type {
  Agent,
  request as httpRequestFn,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
} from 'node:http';
import { ERROR_CODES, LifelineError } from './errors.ts';

/** A fully read HTTP response. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the request went over a kept-alive socket that had served an earlier request. */
  reusedSocket: boolean;
}

/** One HTTP request: always reads (or discards) the whole body, bounded in size and, optionally, in time. */
export interface HttpRequestOptions {
  request: typeof httpRequestFn;
  agent: Agent;
  url: URL;
  method: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** 0 = no timeout at all (the `/event/next` long poll). */
  timeoutMs: number;
  maxBodyBytes: number;
  /** Called once the request was handed to the socket (for overlapping work with the server's answer). */
  onSent?: () => void;
}

/**
 * Sends one request and reads the whole response. Rejects on network errors, on a timeout
 * (`EXT_ERR_TIMEOUT`) and when the body exceeds `maxBodyBytes` (`EXT_ERR_BODY_TOO_LARGE`); never leaves a body
 * unconsumed.
 */
export function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const req = options.request(options.url, {
      method: options.method,
      agent: options.agent,
      headers,
    });
    const fail = (error: Error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    };
    req.on('error', fail);
    if (options.onSent) req.once('finish', options.onSent);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBodyBytes) {
          const error = new LifelineError(
            ERROR_CODES.bodyTooLarge,
            `response body over ${options.maxBodyBytes} bytes`,
            { status: res.statusCode ?? 0 },
          );
          res.destroy(error);
          req.destroy(error);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (timer) clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          reusedSocket: req.reusedSocket,
        });
      });
    });
    if (options.timeoutMs > 0) {
      timer = setTimeout(() => {
        req.destroy(
          new LifelineError(
            ERROR_CODES.timeout,
            `no complete answer within ${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
    }
    req.end(options.body);
  });
}
