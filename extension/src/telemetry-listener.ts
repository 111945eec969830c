import { createServer, type Server } from 'node:http';
import type { TelemetryApiEvent } from '@lifeline/protocol';
import { boundRecord } from './bounded-record.ts';
import { TELEMETRY_BUFFERING } from './runtime-api/telemetry-api.ts';

/** A received Telemetry API platform record with its `time` converted once to epoch ms. */
export interface PlatformRecord {
  recordType: string;
  recordTime: number;
  record: Record<string, unknown> | string;
}

/** Options of {@link startTelemetryListener}. */
export interface TelemetryListenerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Larger bodies are refused with 413; the platform sends at most about 2 × maxBytes. */
  maxBodyBytes?: number;
  /**
   * Records kept from one request; the rest are dropped (reported once through onProblem). Default: the
   * subscription's `maxItems`, the most the platform puts in one batch.
   */
  maxRecordsPerRequest?: number;
  /**
   * Body bytes all requests together may hold at once (declared, or the body limit for a body without a length);
   * a request that would go over is answered 503 before its body is read. Default: 2 × maxBodyBytes.
   */
  maxInFlightBytes?: number;
  /** Open connections beyond this are closed at once. Default 4 (the platform uses one). */
  maxConnections?: number;
  /** A request whose headers and body have not arrived within this is answered 408 and closed. Default 10 s. */
  requestTimeoutMs?: number;
  onRecords(records: PlatformRecord[]): void;
  /** Called once per refused request, with a reason (the caller decides how loudly to log). */
  onProblem(reason: string): void;
}

/** A running listener. */
export interface TelemetryListener {
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_MAX_CONNECTIONS = 4;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const RECORD_TYPE = /^platform\.[A-Za-z]+$/;

/**
 * Starts the `node:http` Telemetry API listener. It answers 200 as soon as a body is read and parsed, refuses
 * oversized or malformed bodies, and keeps only `platform.*` records. Its memory is the function's, so it is bounded
 * whatever a sender does: per request (body bytes, records kept), in total (body bytes held by all requests at once,
 * connections) and in time (a request must arrive whole within the request timeout). Only code inside the sandbox
 * can reach it, but that includes the function's own dependencies.
 */
export function startTelemetryListener(
  options: TelemetryListenerOptions,
): Promise<TelemetryListener> {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxRecords = options.maxRecordsPerRequest ?? TELEMETRY_BUFFERING.maxItems;
  const maxInFlight = options.maxInFlightBytes ?? 2 * maxBody;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let inFlight = 0;
  const server: Server = createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(2000, requestTimeout / 2)),
    },
    (req, res) => {
      if (req.method !== 'POST' && req.method !== 'PUT') {
        res.writeHead(405).end();
        req.resume();
        return;
      }
      const declared = Number(req.headers['content-length']);
      if (declared > maxBody) {
        options.onProblem(`telemetry body of ${declared} bytes over the ${maxBody} byte limit`);
        res.writeHead(413, { connection: 'close' }).end();
        req.resume();
        return;
      }
      // Reserved before reading: what this request may hold until it ends.
      const reserved = Number.isSafeInteger(declared) && declared >= 0 ? declared : maxBody;
      if (inFlight + reserved > maxInFlight) {
        options.onProblem(`telemetry requests over the ${maxInFlight} byte in-flight limit`);
        res.writeHead(503, { connection: 'close', 'retry-after': '1' }).end();
        req.resume();
        return;
      }
      inFlight += reserved;
      req.once('close', () => {
        inFlight -= reserved;
      });
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (chunk: Buffer) => {
        if (refused) return;
        size += chunk.length;
        if (size > Math.min(maxBody, reserved)) {
          refused = true;
          options.onProblem(`telemetry body over the ${maxBody} byte limit or its declared length`);
          res.writeHead(413, { connection: 'close' }).end();
          chunks.length = 0;
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (refused) return;
        const body = Buffer.concat(chunks).toString('utf8');
        chunks.length = 0;
        const records = parseTelemetryBody(body, Date.now(), maxRecords + 1);
        if (records === undefined) {
          options.onProblem('telemetry body is not a JSON array');
          res.writeHead(400).end();
          return;
        }
        if (records.length > maxRecords) {
          options.onProblem(`telemetry batch over ${maxRecords} records; the rest was dropped`);
          records.length = maxRecords;
        }
        res.writeHead(200).end();
        if (records.length > 0) options.onRecords(records);
      });
      req.on('error', () => {
        refused = true;
      });
    },
  );
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', (error) => options.onProblem(`telemetry listener: ${error.message}`));
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : options.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * Parses a Telemetry API body into platform records (at most `maxRecords`); undefined when it is not a JSON array.
 * Unusable items are skipped; an unparsable `time` falls back to `receivedAt`.
 */
export function parseTelemetryBody(
  body: string,
  receivedAt: number,
  maxRecords = Number.POSITIVE_INFINITY,
): PlatformRecord[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const records: PlatformRecord[] = [];
  for (const item of value as Partial<TelemetryApiEvent>[]) {
    if (records.length >= maxRecords) break;
    if (typeof item !== 'object' || item === null) continue;
    const { type, time, record } = item;
    if (typeof type !== 'string' || type.length > 64 || !RECORD_TYPE.test(type)) continue;
    const parsed = typeof time === 'string' ? Date.parse(time) : Number.NaN;
    let kept: Record<string, unknown> | string;
    if (typeof record === 'string') kept = record.length > 2048 ? record.slice(0, 2048) : record;
    else if (typeof record === 'object' && record !== null && !Array.isArray(record))
      kept = boundRecord(record as Record<string, unknown>);
    else kept = {};
    records.push({
      recordType: type,
      recordTime: Number.isFinite(parsed) && parsed >= 0 ? parsed : receivedAt,
      record: kept,
    });
  }
  return records;
}
