import { useEffect, useState } from 'react';
import { apiUrl, loadToken } from '../config.ts';

/** A read endpoint answered with an error status; `status` 401 means the read token is missing or wrong. */
export class ReadApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'ReadApiError';
  }
}

type Params = Readonly<Record<string, string | number | null | undefined>>;

/** The query string of `params`, skipping null and empty values. */
export function queryString(params: Params): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '') continue;
    q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** GETs a collector read endpoint with the stored read token; throws {@link ReadApiError} on a non-2xx answer. */
export async function getJson<T>(path: string, params: Params, signal?: AbortSignal): Promise<T> {
  const token = loadToken();
  const res = await fetch(apiUrl(`${path}${queryString(params)}`), {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal,
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new ReadApiError(res.status, body?.message ?? `${path} answered ${res.status}`);
  }
  return (await res.json()) as T;
}

/** What {@link useReadApi} holds: the last answer (kept while a newer request runs), and the last failure. */
export interface ReadApiState<T> {
  readonly data: T | null;
  readonly error: string | null;
  /** A request for the current parameters is in flight. */
  readonly loading: boolean;
}

/** After a failed read, the next try waits this long, doubling up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Reads `path` with `params` and again whenever they change (the previous request is aborted), and every
 * `refreshMs` while mounted when given. A failed read (a busy or restarting collector) is tried again with backoff,
 * the last answer staying shown meanwhile. `path` null reads nothing.
 */
export function useReadApi<T>(
  path: string | null,
  params: Params,
  refreshMs?: number,
): ReadApiState<T> {
  const [state, setState] = useState<ReadApiState<T>>({ data: null, error: null, loading: !!path });
  const key = path === null ? null : `${path}${queryString(params)}`;
  useEffect(() => {
    if (key === null) return;
    let controller = new AbortController();
    let retry: ReturnType<typeof setTimeout> | null = null;
    let retryMs = FIRST_RETRY_MS;
    const [pathPart, search = ''] = key.split('?');
    const current = Object.fromEntries(new URLSearchParams(search));
    const run = () => {
      controller.abort();
      if (retry) clearTimeout(retry);
      retry = null;
      controller = new AbortController();
      const signal = controller.signal;
      setState((s) => ({ ...s, loading: true }));
      getJson<T>(pathPart!, current, signal).then(
        (data) => {
          if (signal.aborted) return;
          retryMs = FIRST_RETRY_MS;
          setState({ data, error: null, loading: false });
        },
        (err: unknown) => {
          if (signal.aborted) return;
          setState((s) => ({ ...s, error: (err as Error).message, loading: false }));
          // A missing or wrong token will not fix itself by asking again.
          if (err instanceof ReadApiError && (err.status === 401 || err.status === 400)) return;
          retry = setTimeout(run, retryMs);
          retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
        },
      );
    };
    run();
    const timer = refreshMs ? setInterval(run, refreshMs) : null;
    return () => {
      controller.abort();
      if (retry) clearTimeout(retry);
      if (timer) clearInterval(timer);
    };
  }, [key, refreshMs]);
  return state;
}
