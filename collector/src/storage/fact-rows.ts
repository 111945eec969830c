import {
  ENVIRONMENT_FACT_FIELDS,
  type EnvironmentFacts,
  INVOCATION_FACT_FIELDS,
  type InvocationFacts,
} from '@lifeline/protocol';

/**
 * Derived rows are stored column for column under the fact field names the derivation exports, so a new fact
 * needs only a migration per backend: the SQL below is built from those lists, never from input.
 */

/** Columns of the `environments` table written at ingest: the facts plus `lastCursor`. */
export const ENVIRONMENT_COLUMNS: readonly string[] = [...ENVIRONMENT_FACT_FIELDS, 'lastCursor'];
/** Columns of the `invocations` table written at ingest. */
export const INVOCATION_COLUMNS: readonly string[] = INVOCATION_FACT_FIELDS;

/** A stored environment row: the facts plus storage columns. */
export type EnvironmentRow = EnvironmentFacts & {
  rowId: number;
  /** The highest event cursor applied to this row. */
  lastCursor: number;
};

/** True when two invocation rows hold the same facts (an unchanged row is not rewritten). */
export function sameInvocation(a: InvocationFacts, b: InvocationFacts): boolean {
  for (const field of INVOCATION_FACT_FIELDS) if (a[field] !== b[field]) return false;
  return true;
}

/** Only the fact fields (and lastCursor) of a row read back with extra columns. */
export function environmentFactsOf(row: Record<string, unknown>): EnvironmentFacts {
  const facts: Record<string, unknown> = {};
  for (const field of ENVIRONMENT_FACT_FIELDS) facts[field] = row[field] ?? null;
  return facts as unknown as EnvironmentFacts;
}

export function invocationFactsOf(row: Record<string, unknown>): InvocationFacts {
  const facts: Record<string, unknown> = {};
  for (const field of INVOCATION_FACT_FIELDS) facts[field] = row[field] ?? null;
  return facts as unknown as InvocationFacts;
}
