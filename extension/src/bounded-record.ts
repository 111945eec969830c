/** Nesting deeper than this is no Telemetry API record; it would also overflow the stack when serialised. */
export const MAX_RECORD_DEPTH = 32;
/** Values (objects, arrays and leaves) one record may hold. */
export const MAX_RECORD_NODES = 10_000;

/**
 * `record` unchanged when its nesting and size are sane, else a small placeholder that keeps a string `requestId`
 * (so the report still matches its invoke) and says why the rest was left out. Iterative: a hostile depth cannot
 * overflow the stack here.
 */
export function boundRecord(record: Record<string, unknown>): Record<string, unknown> {
  const problem = measure(record);
  if (problem === undefined) return record;
  const requestId = record.requestId;
  return {
    ...(typeof requestId === 'string' && requestId.length <= 256 ? { requestId } : {}),
    lifelineOmitted: problem,
  };
}

function measure(root: unknown): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (++nodes > MAX_RECORD_NODES) return `record holds more than ${MAX_RECORD_NODES} values`;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_RECORD_DEPTH) return `record nested deeper than ${MAX_RECORD_DEPTH} levels`;
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return undefined;
}
