import { describeError } from '../errors.ts';
import type { ExtensionsApi } from './extensions-api.ts';

/** How the subscription went; mirrors `TELEMETRY_STATES` of the wire format. */
export type SubscriptionResult =
  | { state: 'subscribed' }
  | { state: 'unsupported' | 'failed'; detail: string };

/** Telemetry API buffering: the platform's minimum batch sizes, and a short timeout so records arrive live. */
export const TELEMETRY_BUFFERING = { maxItems: 1000, maxBytes: 262_144, timeoutMs: 100 } as const;

/**
 * Subscribes to `platform` records only (never `extension`: our own log lines would feed back into the stream).
 * 202 means "not supported" (local emulators); any other failure is tolerated too. Never throws.
 */
export async function subscribeTelemetry(
  api: ExtensionsApi,
  port: number,
): Promise<SubscriptionResult> {
  const id = api.extensionId;
  if (id === undefined) return { state: 'failed', detail: 'not registered' };
  const body = JSON.stringify({
    schemaVersion: '2022-12-13',
    types: ['platform'],
    buffering: TELEMETRY_BUFFERING,
    destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${port}/` },
  });
  try {
    const res = await api.call('PUT', '/2022-07-01/telemetry', {
      headers: { 'lambda-extension-identifier': id, 'content-type': 'application/json' },
      body,
      timeoutMs: 5_000,
    });
    if (res.status === 200) return { state: 'subscribed' };
    const detail = `telemetry subscription answered ${res.status}: ${res.body.slice(0, 200)}`;
    return { state: res.status === 202 ? 'unsupported' : 'failed', detail };
  } catch (error) {
    return { state: 'failed', detail: `telemetry subscription failed: ${describeError(error)}` };
  }
}
