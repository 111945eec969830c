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

/**
 * Reads `path` with `params` and again whenever they change (the previous request is aborted), and every
 * `refreshMs` while mounted when given. `path` null reads nothing.
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
    const [pathPart, search = ''] = key.split('?');
    const current = Object.fromEntries(new URLSearchParams(search));
    const run = () => {
      controller.abort();
      controller = new AbortController();
      const signal = controller.signal;
      setState((s) => ({ ...s, loading: true }));
      getJson<T>(pathPart!, current, signal).then(
        (data) => {
          if (!signal.aborted) setState({ data, error: null, loading: false });
        },
        (err: unknown) => {
          if (signal.aborted) return;
          setState((s) => ({ ...s, error: (err as Error).message, loading: false }));
        },
      );
    };
    run();
    const timer = refreshMs ? setInterval(run, refreshMs) : null;
    return () => {
      controller.abort();
      if (timer) clearInterval(timer);
    };
  }, [key, refreshMs]);
  return state;
}
