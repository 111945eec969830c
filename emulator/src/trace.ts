import { randomBytes } from 'node:crypto';

/** A fresh, unsampled X-Amzn-Trace-Id value, like the one Lambda generates when tracing is off. */
export function newTraceHeader(): string {
  const epochHex = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epochHex}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** The span id Lambda puts in platform records' tracing context (the trace header's Parent). */
export function spanIdOf(traceHeader: string): string | undefined {
  return /Parent=([0-9a-fA-F]+)/.exec(traceHeader)?.[1];
}
