/**
 * Where the collector is. Empty VITE_COLLECTOR_URL (the default) means "the origin that served this page", which is
 * how the collector serves the dashboard; set it at build time to point a separately hosted dashboard elsewhere.
 */
const configured =
  (import.meta.env.VITE_COLLECTOR_URL as string | undefined)?.replace(/\/+$/, '') ?? '';

/** Absolute http(s) URL of a collector path, e.g. `apiUrl('/v1/functions')`. */
export function apiUrl(path: string): string {
  return new URL(`${configured}${path}`, window.location.origin).toString();
}

/** Absolute ws(s) URL of the live socket (query added by the live client). */
export function liveUrl(): string {
  const url = new URL(apiUrl('/v1/live'));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** localStorage key of the read token (`--read-token` / LIFELINE_READ_TOKEN on the collector). */
export const TOKEN_STORAGE_KEY = 'lifeline.token';

/** The stored read token, or null (also when storage is unavailable). */
export function loadToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Stores (or with null, forgets) the read token. */
export function saveToken(token: string | null): void {
  try {
    if (token) window.localStorage.setItem(TOKEN_STORAGE_KEY, token);
    else window.localStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Private mode without storage: the token lives for this page only.
  }
}
