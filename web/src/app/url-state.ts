import { ROW_GROUPINGS, type RowGrouping } from '../timeline/row-model.ts';

/** The dashboard's shareable state: everything here round-trips through the query string. */
export interface UrlState {
  view: 'timeline' | 'shutdowns' | 'functions';
  fn: string | null;
  version: string | null;
  reason: string | null;
  /** Comma-separated lane states to show (timeline). */
  states: string | null;
  /** Relative time range (`range=1h`: the last hour, still moving after a reload or when shared). */
  range: RangeName | null;
  /** Absolute time range, epoch ms; `from` wins over `range`. */
  from: number | null;
  to: number | null;
  /** Selected environment and invoke (details panel). */
  env: string | null;
  req: string | null;
  /** The id searched for (a shared link searches it on open). */
  q: string | null;
  /** Tenant isolation: show only this tenant's environments. */
  tenant: string | null;
  /** What the timeline groups lanes by (`group=tenant`); `function` is the default. */
  group: RowGrouping;
}

const VIEWS = ['timeline', 'shutdowns', 'functions'] as const;

/** The relative ranges, by their URL name. */
export const RANGES = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
  '30d': 30 * 24 * 3_600_000,
} as const;
export type RangeName = keyof typeof RANGES;

/**
 * What `/` shows: the last 15 minutes, following live: the cheapest range that answers "what runs now". Environments
 * silent through it still get a lane until the collector's lost-after (the window includes every one not yet lost).
 */
export const DEFAULT_RANGE: RangeName = '15m';

/** The time range a state shows at collector time `now`: `following` ranges end at now and move with it. */
export interface ResolvedRange {
  from: number;
  to: number;
  following: boolean;
}

/**
 * Resolves the URL's range: absolute `from` to `to` (to now when `to` is missing or not after `from`), else the
 * relative range (default {@link DEFAULT_RANGE}), which alone follows live.
 */
export function resolveRange(
  state: Pick<UrlState, 'range' | 'from' | 'to'>,
  now: number,
): ResolvedRange {
  if (state.from !== null) {
    const to = state.to !== null && state.to > state.from ? state.to : Math.max(now, state.from);
    return { from: state.from, to, following: false };
  }
  return { from: now - RANGES[state.range ?? DEFAULT_RANGE], to: now, following: true };
}

function parseRange(value: string | null): RangeName | null {
  return value !== null && Object.hasOwn(RANGES, value) ? (value as RangeName) : null;
}

/** Largest magnitude a JavaScript Date can hold, ms; beyond it `toISOString()` throws. */
const MAX_DATE_MS = 8.64e15;

function parseTime(value: string | null): number | null {
  if (!value) return null;
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  // A shared link with an absurd time must not take the whole dashboard down.
  return Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS ? t : null;
}

/** Reads the state from a query string; unknown or malformed values fall back to defaults. */
export function parseUrlState(search: string): UrlState {
  const q = new URLSearchParams(search);
  const view = q.get('view');
  return {
    view: (VIEWS as readonly string[]).includes(view ?? '')
      ? (view as UrlState['view'])
      : 'timeline',
    fn: q.get('fn') || null,
    version: q.get('version') || null,
    reason: q.get('reason') || null,
    states: q.get('states') || null,
    range: parseRange(q.get('range')),
    from: parseTime(q.get('from')),
    to: parseTime(q.get('to')),
    env: q.get('env') || null,
    req: q.get('req') || null,
    q: q.get('q') || null,
    tenant: q.get('tenant') || null,
    group: (ROW_GROUPINGS as readonly string[]).includes(q.get('group') ?? '')
      ? (q.get('group') as RowGrouping)
      : ROW_GROUPINGS[0],
  };
}

/** Writes the state as a query string (defaults omitted, times as ISO for readable links). */
export function formatUrlState(state: UrlState): string {
  const q = new URLSearchParams();
  if (state.view !== 'timeline') q.set('view', state.view);
  if (state.fn) q.set('fn', state.fn);
  if (state.version) q.set('version', state.version);
  if (state.reason) q.set('reason', state.reason);
  if (state.states) q.set('states', state.states);
  if (state.range && state.range !== DEFAULT_RANGE && state.from === null)
    q.set('range', state.range);
  if (state.from !== null) q.set('from', new Date(state.from).toISOString());
  if (state.to !== null) q.set('to', new Date(state.to).toISOString());
  if (state.env) q.set('env', state.env);
  if (state.req) q.set('req', state.req);
  if (state.q) q.set('q', state.q);
  if (state.tenant) q.set('tenant', state.tenant);
  if (state.group !== ROW_GROUPINGS[0]) q.set('group', state.group);
  const s = q.toString();
  return s ? `?${s}` : '';
}
