import { Compile } from 'typebox/compile';
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventType,
  LIMITS,
  type LifelineEvent,
} from './events.ts';

/** One problem found in a batch: which event (index), which field (JSON pointer path), what is wrong. */
export interface ValidationIssue {
  index?: number;
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

const validators = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, Compile(EVENT_SCHEMAS[type])]),
) as { [K in EventType]: ReturnType<typeof Compile> };

const MAX_ISSUES_PER_EVENT = 5;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Validates one event. The `type` is checked first and the event is then checked against that type's schema only,
 * so messages name the real field instead of listing every member of the union.
 */
export function validateEvent(value: unknown, pathPrefix = ''): ValidationResult<LifelineEvent> {
  if (!isObject(value)) return fail(pathPrefix || '/', 'must be an object');
  if (!isEventType(value.type)) {
    return fail(`${pathPrefix}/type`, `must be one of ${EVENT_TYPES.join(', ')}`);
  }
  const validator = validators[value.type];
  if (validator.Check(value)) return { ok: true, value: value as LifelineEvent };
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of validator.Errors(value)) {
    // TypeBox reports an unknown field twice: as `additionalProperties` on the object and as a `false` schema on the
    // field itself. Keep one issue per path, worded for people.
    const unknownField =
      error.keyword === 'additionalProperties' || error.message === 'schema is false';
    const field = error.keyword === 'additionalProperties' ? additionalName(error.params) : '';
    const path = `${pathPrefix}${error.instancePath}${field}`;
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({
      path,
      message: unknownField ? 'is not a known field' : (error.message ?? 'is invalid'),
    });
    if (issues.length >= MAX_ISSUES_PER_EVENT) break;
  }
  return { ok: false, issues };
}

/**
 * Validates a whole `POST /v1/events` body. All events must be valid: a batch is accepted or rejected whole.
 */
export function validateBatch(body: unknown): ValidationResult<LifelineEvent[]> {
  if (!isObject(body)) return fail('/', 'body must be a JSON object with an "events" array');
  const extra = Object.keys(body).filter((key) => key !== 'events');
  if (extra.length > 0) return fail(`/${extra[0]}`, 'is not a known field');
  const { events } = body;
  if (!Array.isArray(events)) return fail('/events', 'must be an array');
  if (events.length === 0) return fail('/events', 'must hold at least one event');
  if (events.length > LIMITS.batchEvents) {
    return fail('/events', `must hold at most ${LIMITS.batchEvents} events`);
  }
  const issues: ValidationIssue[] = [];
  events.forEach((event, index) => {
    const result = validateEvent(event, `/events/${index}`);
    if (!result.ok) for (const issue of result.issues) issues.push({ index, ...issue });
  });
  if (issues.length > 0) return { ok: false, issues: issues.slice(0, 50) };
  return { ok: true, value: events as LifelineEvent[] };
}

function additionalName(params: unknown): string {
  if (isObject(params)) {
    const names = params.additionalProperties ?? params.additionalProperty;
    if (Array.isArray(names) && typeof names[0] === 'string') return `/${names[0]}`;
    if (typeof names === 'string') return `/${names}`;
  }
  return '';
}

function fail(path: string, message: string): { ok: false; issues: ValidationIssue[] } {
  return { ok: false, issues: [{ path, message }] };
}
