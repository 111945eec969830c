import type { LiveFrame, Settings, WindowPage } from '@lifeline/protocol';
import { densityStep } from '../timeline/density.ts';
import type { EventStore } from './event-store.ts';
import { LiveClient, type LiveStatus, type SocketFactory } from './live-client.ts';

/** The range a session shows, on the event clock; `spanMs` set means "the last spanMs, following live". */
export type SessionRange =
  | { readonly following: true; readonly spanMs: number }
  | { readonly following: false; readonly from: number; readonly to: number };

/** How far a window has loaded: environments received of `total`; `done` once every page is in. */
export interface LoadProgress {
  readonly loaded: number;
  readonly total: number;
  readonly done: boolean;
}

/** Options for {@link WindowSession}. */
export interface WindowSessionOptions {
  store: EventStore;
  range: SessionRange;
  /** Absolute URL of a collector path (e.g. `/v1/window`), without query. */
  apiUrl: (path: string) => string;
  /** Absolute ws(s) URL of `/v1/live`, without query. */
  liveUrl: string;
  token: string | null;
  onStatus?: (status: LiveStatus) => void;
  onProgress?: (progress: LoadProgress) => void;
  onFrame?: (frame: LiveFrame) => void;
  fetch?: typeof fetch;
  createSocket?: SocketFactory;
  /** Delay before retrying a failed read, ms (doubles per failure up to 10 s). */
  retryMs?: number;
  /** How often a following range forgets what fell out of it, ms. */
  forgetEveryMs?: number;
  /**
   * Width of a lane in px, read when the range loads: a range too long to show every invoke on it is read as
   * density (`/v1/window?step=`, see `timeline/density.ts`). Without it every invoke is read.
   */
  laneWidthPx?: () => number;
}

/** Environments per window page (the collector's maximum). */
const PAGE_LIMIT = 500;
/**
 * Environments in the first page: a screenful of lanes and then some, so the newest environments are drawn before
 * the rest of a large range is read (a first page of 500 environments with their invokes took about a second).
 */
const FIRST_PAGE_LIMIT = 100;

/**
 * Loads one time range into the store and keeps it current, outside React: reads the collector's settings, then the
 * range's environments already derived (`/v1/window`, page by page), then, for a range that follows now, the live
 * socket from page 1's head. The collector guarantees every event after that head is either in a page row (its
 * environment's `cursor` covers it, the store skips it) or sent live: no gap, no duplicate. Old events are never
 * replayed; memory follows the range (what ends before a following range's start is forgotten).
 */
export class WindowSession {
  readonly #options: WindowSessionOptions;
  readonly #abort = new AbortController();
  #client: LiveClient | null = null;
  #forgetTimer: ReturnType<typeof setInterval> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #token: string | null;
  #status: LiveStatus = 'closed';
  #stopped = false;

  constructor(options: WindowSessionOptions) {
    this.#options = options;
    this.#token = options.token;
  }

  /** Starts loading; idempotent until {@link stop}. */
  start(): void {
    if (this.#stopped) return;
    this.#setStatus('connecting');
    void this.#load(0);
  }

  /** Stops every request, timer and socket; no callback fires afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#client?.stop();
    this.#client = null;
    if (this.#forgetTimer) clearInterval(this.#forgetTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#forgetTimer = null;
    this.#retryTimer = null;
  }

  /** Uses a new read token and starts over (after `unauthorized`). */
  setToken(token: string | null): void {
    this.#token = token;
    if (this.#stopped) return;
    this.#client?.stop();
    this.#client = null;
    this.start();
  }

  async #load(failures: number): Promise<void> {
    const { store, range } = this.#options;
    try {
      const settings = await this.#get<Settings>('/v1/settings', {});
      const now = store.clock.now();
      const from = range.following ? now - range.spanMs : range.from;
      const to = range.following ? now : range.to;
      const laneWidth = this.#options.laneWidthPx?.();
      const step = laneWidth === undefined ? null : densityStep(from, to, laneWidth);
      const query = { from, to, limit: PAGE_LIMIT, ...(step === null ? {} : { step }) };
      let page = await this.#get<WindowPage>('/v1/window', { ...query, limit: FIRST_PAGE_LIMIT });
      if (this.#stopped) return;
      // The previous range stays drawn until the first page of this one is in: no empty flash while panning.
      store.reset(settings.lostAfterMs);
      const head = page.head;
      const density = page.step === undefined ? null : { step: page.step, from, to };
      let loaded = 0;
      for (;;) {
        store.load(page.environments, head, density);
        loaded += page.environments.length;
        this.#options.onProgress?.({ loaded, total: page.total, done: page.nextCursor === null });
        if (page.nextCursor === null) break;
        page = await this.#get<WindowPage>('/v1/window', { ...query, cursor: page.nextCursor });
        if (this.#stopped) return;
      }
      if (range.following) this.#follow(range.spanMs);
      else this.#setStatus('open');
    } catch (error) {
      if (this.#stopped) return;
      if (error instanceof UnauthorizedError) {
        this.#setStatus('unauthorized');
        return;
      }
      this.#setStatus('connecting');
      const delay = Math.min(10_000, (this.#options.retryMs ?? 500) * 2 ** failures);
      this.#retryTimer = setTimeout(() => void this.#load(failures + 1), delay);
    }
  }

  #follow(spanMs: number): void {
    const { store } = this.#options;
    const client = new LiveClient({
      url: this.#options.liveUrl,
      after: store.lastCursor,
      token: this.#token,
      createSocket: this.#options.createSocket,
      onEvents: (events) => store.append(events),
      // The collector holds another history now (restored or wiped): load the range again from it.
      onReset: () => {
        client.stop();
        if (this.#stopped) return;
        this.#client = null;
        this.start();
      },
      onStatus: (status) => this.#setStatus(status),
      onFrame: (frame) => {
        if (frame.type === 'heartbeat') store.clock.observe(frame.time);
        this.#options.onFrame?.(frame);
      },
    });
    this.#client = client;
    client.start();
    this.#forgetTimer ??= setInterval(
      () => store.forgetBefore(store.clock.now() - spanMs),
      this.#options.forgetEveryMs ?? 15_000,
    );
  }

  async #get<T>(path: string, params: Record<string, string | number>): Promise<T> {
    const url = new URL(this.#options.apiUrl(path));
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
    const doFetch = this.#options.fetch ?? fetch;
    const res = await doFetch(url.toString(), {
      headers: this.#token ? { authorization: `Bearer ${this.#token}` } : {},
      signal: this.#abort.signal,
    });
    if (res.status === 401) throw new UnauthorizedError();
    const date = Date.parse(res.headers.get('date') ?? '');
    if (Number.isFinite(date)) this.#options.store.clock.observeSecond(date);
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
    return (await res.json()) as T;
  }

  #setStatus(status: LiveStatus): void {
    if (this.#stopped || status === this.#status) return;
    this.#status = status;
    this.#options.onStatus?.(status);
  }
}

class UnauthorizedError extends Error {}
