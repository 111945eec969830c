/** Defensive readers for Telemetry API records, which the wire format keeps unchanged (any JSON object). */

const MAX_TEXT = 256;

/** The record as an object, or undefined when it is a string. */
export function recordObject(record: unknown): Record<string, unknown> | undefined {
  return typeof record === 'object' && record !== null && !Array.isArray(record)
    ? (record as Record<string, unknown>)
    : undefined;
}

/** A finite number field, else null. */
export function numberField(
  source: Record<string, unknown> | undefined,
  key: string,
): number | null {
  const value = source?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A string field cut to a bounded length, else null. */
export function textField(source: Record<string, unknown> | undefined, key: string): string | null {
  const value = source?.[key];
  return typeof value === 'string' ? value.slice(0, MAX_TEXT) : null;
}

/** The `metrics` object of a record, if any. */
export function metricsOf(
  record: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  return recordObject(record?.metrics);
}

/** Duration of the span called `name` in the record's `spans` array, else null. */
export function spanDuration(
  record: Record<string, unknown> | undefined,
  name: string,
): number | null {
  const spans = record?.spans;
  if (!Array.isArray(spans)) return null;
  for (const span of spans) {
    const object = recordObject(span);
    if (object?.name === name) return numberField(object, 'durationMs');
  }
  return null;
}
