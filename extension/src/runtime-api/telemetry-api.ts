import { describeError } from '../errors.ts';
import type { ExtensionsApi } from './extensions-api.ts';

/** How the subscription went; mirrors `TELEMETRY_STATES` of the wire format. */
export type SubscriptionResult =
  | { state: 'subscribed'; schemaVersion: SchemaVersion }
  | { state: 'unsupported' | 'failed'; detail: string };

/** Telemetry API buffering: the platform's minimum batch sizes, and a short timeout so records arrive live. */
export const TELEMETRY_BUFFERING = { maxItems: 1000, maxBytes: 262_144, timeoutMs: 100 } as const;
/**
 * The shortest buffering timeout the platform allows: used when the extension waits for `platform.runtimeDone`
 * before `/event/next` (the live invoke end), where every ms of telemetry latency is billed.
 */
export const LIVE_END_BUFFERING_TIMEOUT_MS = 25;

/**
 * Schema versions, in the order they are tried. `2022-12-13` everywhere but Managed Instances, which accept only
 * `2025-01-29`; that one is documented as backward compatible, so it is the fallback elsewhere too.
 */
export const SCHEMA_VERSIONS = ['2022-12-13', '2025-01-29'] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

/** Options of {@link subscribeTelemetry}. */
export interface SubscribeOptions {
  /** Port of the listener. */
  port: number;
  /** Try this schema version first (`2025-01-29` on Managed Instances). */
  preferredSchema?: SchemaVersion;
  /** Buffering timeout (25–30,000 ms); default {@link TELEMETRY_BUFFERING}'s. */
  timeoutMs?: number;
}

/**
 * Subscribes to `platform` records only (never `extension`: our own log lines would feed back into the stream).
 * A `400` (validation) is answered by the next schema version; 202 means "not supported" (local emulators); any other
 * failure is tolerated too: the extension goes on without telemetry. Never throws.
 */
export async function subscribeTelemetry(
  api: ExtensionsApi,
  options: SubscribeOptions,
): Promise<SubscriptionResult> {
  const id = api.extensionId;
  if (id === undefined) return { state: 'failed', detail: 'not registered' };
  const preferred = options.preferredSchema ?? SCHEMA_VERSIONS[0];
  const schemas = [preferred, ...SCHEMA_VERSIONS.filter((schema) => schema !== preferred)];
  let detail = '';
  for (const schemaVersion of schemas) {
    const body = JSON.stringify({
      schemaVersion,
      types: ['platform'],
      buffering: {
        ...TELEMETRY_BUFFERING,
        timeoutMs: options.timeoutMs ?? TELEMETRY_BUFFERING.timeoutMs,
      },
      destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${options.port}/` },
    });
    try {
      const res = await api.call('PUT', '/2022-07-01/telemetry', {
        headers: { 'lambda-extension-identifier': id, 'content-type': 'application/json' },
        body,
        timeoutMs: 5_000,
      });
      if (res.status === 200) return { state: 'subscribed', schemaVersion };
      detail = `telemetry subscription (${schemaVersion}) answered ${res.status}: ${res.body.slice(0, 200)}`;
      if (res.status === 202) return { state: 'unsupported', detail };
      if (res.status !== 400) return { state: 'failed', detail };
    } catch (error) {
      return { state: 'failed', detail: `telemetry subscription failed: ${describeError(error)}` };
    }
  }
  return { state: 'failed', detail };
}
