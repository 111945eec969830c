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

/**
 * Storage key of the read token (`LIFELINE_READ_TOKEN` / `--read-token-file` on the collector). The token lives in
 * sessionStorage: this tab only, gone when it closes, never sent anywhere by the browser on its own (docs/adr/0008).
 */
export const TOKEN_STORAGE_KEY = 'lifeline.token';

/** The stored read token, or null (also when storage is unavailable). */
export function loadToken(): string | null {
  try {
    forgetLegacyToken();
    return window.sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Stores (or with null, forgets) the read token. */
export function saveToken(token: string | null): void {
  try {
    forgetLegacyToken();
    if (token) window.sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Private mode without storage: the token lives for this page only.
  }
}

/**
 * Earlier versions kept the token in localStorage, where it outlived the tab and was shared by every tab of the
 * origin: move it into this tab's session once and delete it there.
 */
function forgetLegacyToken(): void {
  const legacy = window.localStorage.getItem(TOKEN_STORAGE_KEY);
  if (legacy === null) return;
  window.localStorage.removeItem(TOKEN_STORAGE_KEY);
  if (window.sessionStorage.getItem(TOKEN_STORAGE_KEY) === null) {
    window.sessionStorage.setItem(TOKEN_STORAGE_KEY, legacy);
  }
}
