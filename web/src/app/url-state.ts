/** The dashboard's shareable state: everything here round-trips through the query string. */
export interface UrlState {
  view: 'timeline' | 'shutdowns' | 'functions';
  fn: string | null;
  version: string | null;
  reason: string | null;
  /** Comma-separated lane states to show (timeline). */
  states: string | null;
  /** Time range, epoch ms. */
  from: number | null;
  to: number | null;
  /** Selected environment and invoke (details panel). */
  env: string | null;
  req: string | null;
}

const VIEWS = ['timeline', 'shutdowns', 'functions'] as const;

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
    from: parseTime(q.get('from')),
    to: parseTime(q.get('to')),
    env: q.get('env') || null,
    req: q.get('req') || null,
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
  if (state.from !== null) q.set('from', new Date(state.from).toISOString());
  if (state.to !== null) q.set('to', new Date(state.to).toISOString());
  if (state.env) q.set('env', state.env);
  if (state.req) q.set('req', state.req);
  const s = q.toString();
  return s ? `?${s}` : '';
}
