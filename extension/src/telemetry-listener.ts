import { createServer, type Server } from 'node:http';
import type { TelemetryApiEvent } from '@lifeline/protocol';
import { boundRecord } from './bounded-record.ts';

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
const RECORD_TYPE = /^platform\.[A-Za-z]+$/;

/**
 * Starts the `node:http` Telemetry API listener. It answers 200 as soon as a body is read and parsed, refuses
 * oversized or malformed bodies, and keeps only `platform.*` records.
 */
export function startTelemetryListener(
  options: TelemetryListenerOptions,
): Promise<TelemetryListener> {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const server: Server = createServer((req, res) => {
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
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBody) {
        refused = true;
        options.onProblem(`telemetry body over the ${maxBody} byte limit`);
        res.writeHead(413, { connection: 'close' }).end();
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const records = parseTelemetryBody(Buffer.concat(chunks).toString('utf8'), Date.now());
      if (records === undefined) {
        options.onProblem('telemetry body is not a JSON array');
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200).end();
      if (records.length > 0) options.onRecords(records);
    });
    req.on('error', () => {
      refused = true;
    });
  });
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
 * Parses a Telemetry API body into platform records; undefined when it is not a JSON array. Unusable items are
 * skipped; an unparsable `time` falls back to `receivedAt`.
 */
export function parseTelemetryBody(body: string, receivedAt: number): PlatformRecord[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const records: PlatformRecord[] = [];
  for (const item of value as Partial<TelemetryApiEvent>[]) {
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
