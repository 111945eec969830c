import type { LiveFrame, StoredEvent } from '@lifeline/protocol';
import { LIVE_CLOSE, LIVE_HEARTBEAT_MS } from '@lifeline/protocol';

/** Connection state shown in the header. */
export type LiveStatus = 'connecting' | 'open' | 'closed' | 'unauthorized';

/** The subset of the WebSocket API the client uses (browser WebSocket and the `ws` package both fit). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

/** Options for {@link LiveClient}. */
export interface LiveClientOptions {
  /** Absolute ws(s) URL of `/v1/live`, without query. */
  url: string;
  /** Resume after this cursor (0 = replay everything). */
  after?: number;
  token?: string | null;
  /** New events, in cursor order, each exactly once across reconnects. */
  onEvents: (events: StoredEvent[]) => void;
  onStatus?: (status: LiveStatus) => void;
  /** hello / caught-up / heartbeat, for progress and liveness display. */
  onFrame?: (frame: LiveFrame) => void;
  /**
   * The collector's newest cursor is below ours: it is a different or wiped database, so what we hold is not its
   * history. Called before the client starts over from cursor 0; drop everything received so far.
   */
  onReset?: () => void;
  /** Defaults to the global WebSocket. */
  createSocket?: SocketFactory;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Random source in [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  /** Reconnect when nothing arrives for this long (default 3 heartbeats). */
  silenceTimeoutMs?: number;
}

/**
 * The live socket, outside React: connects to `/v1/live?after=<cursor>`, resumes from the last cursor it delivered
 * after every disconnect (backoff with jitter), drops anything at or below that cursor (no duplicate), and reports a
 * status instead of throwing. 4401 stops and waits for {@link LiveClient.setToken}; 4400 stops.
 */
export class LiveClient {
  readonly #options: LiveClientOptions;
  #socket: SocketLike | null = null;
  #status: LiveStatus = 'closed';
  #cursor: number;
  #token: string | null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #silenceTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = true;

  constructor(options: LiveClientOptions) {
    this.#options = options;
    this.#cursor = options.after ?? 0;
    this.#token = options.token ?? null;
  }

  get status(): LiveStatus {
    return this.#status;
  }

  /** Last cursor delivered to onEvents. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Connects (idempotent); after a 4401 it reconnects with the current token. */
  start(): void {
    if (!this.#stopped && this.#status !== 'unauthorized') return;
    this.#stopped = false;
    this.#attempt = 0;
    this.#connect();
  }

  /** Closes the socket and cancels every timer; no callback fires afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      detach(socket);
      try {
        socket.close(1000, 'client stop');
      } catch {
        // Closing a socket that never opened can throw in some implementations; it is gone either way.
      }
    }
    this.#setStatus('closed');
  }

  /** Uses a new read token and reconnects at once (after a 4401). */
  setToken(token: string | null): void {
    this.#token = token;
    if (this.#stopped || this.#status === 'unauthorized') return;
    this.#attempt = 0;
    this.#dropSocket();
    this.#connect();
  }

  #url(): string {
    const url = new URL(this.#options.url);
    url.searchParams.set('after', String(this.#cursor));
    if (this.#token) url.searchParams.set('token', this.#token);
    return url.toString();
  }

  #connect(): void {
    this.#clearTimers();
    this.#setStatus('connecting');
    let socket: SocketLike;
    try {
      const factory =
        this.#options.createSocket ??
        ((url: string) => new WebSocket(url) as unknown as SocketLike);
      socket = factory(this.#url());
    } catch {
      this.#scheduleRetry(false);
      return;
    }
    this.#socket = socket;
    this.#armSilence();
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      this.#setStatus('open');
    };
    socket.onmessage = (ev) => {
      if (this.#socket !== socket) return;
      this.#armSilence();
      this.#onMessage(ev.data);
    };
    socket.onerror = () => {
      // A close event always follows; the decision is taken there.
    };
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      detach(socket);
      this.#onClose(ev.code);
    };
  }

  #onMessage(data: unknown): void {
    let frame: LiveFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as LiveFrame;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    if (frame.type === 'events' && Array.isArray(frame.events)) {
      const fresh: StoredEvent[] = [];
      for (const e of frame.events) {
        if (isStoredEvent(e) && e.cursor > this.#cursor) {
          fresh.push(e);
          this.#cursor = e.cursor;
        }
      }
      if (fresh.length > 0) this.#options.onEvents(fresh);
      return;
    }
    if (frame.type === 'hello' && frame.head < this.#cursor) {
      // Without this, every new event (cursor ≤ ours) would be dropped as already seen while the status says live.
      this.#cursor = 0;
      this.#options.onReset?.();
      this.#dropSocket();
      this.#scheduleRetry(true);
      return;
    }
    // Only a connection that got through its replay counts as healthy: a client closed again and again (e.g. 4408
    // while replaying) keeps backing off instead of reconnecting in a tight loop.
    if (frame.type === 'caught-up') this.#attempt = 0;
    if (frame.type === 'hello' || frame.type === 'caught-up' || frame.type === 'heartbeat') {
      this.#options.onFrame?.(frame);
    }
  }

  #onClose(code: number): void {
    this.#clearTimers();
    if (this.#stopped) return;
    if (code === LIVE_CLOSE.UNAUTHORIZED) {
      this.#setStatus('unauthorized');
      return;
    }
    if (code === LIVE_CLOSE.BAD_REQUEST) {
      this.#setStatus('closed');
      return;
    }
    // A slow consumer may retry at once, but only the first time in a row; then it backs off like any other close.
    this.#scheduleRetry(code === LIVE_CLOSE.SLOW_CONSUMER && this.#attempt === 0);
  }

  #scheduleRetry(immediate: boolean): void {
    this.#setStatus('connecting');
    const initial = this.#options.initialBackoffMs ?? 250;
    const max = this.#options.maxBackoffMs ?? 10_000;
    const random = this.#options.random ?? Math.random;
    const ceiling = Math.min(max, initial * 2 ** Math.min(this.#attempt, 16));
    this.#attempt++;
    // Half fixed, half random ("equal jitter"): never a thundering herd, never a zero delay loop.
    const delay = immediate ? 0 : ceiling / 2 + random() * (ceiling / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#stopped) this.#connect();
    }, delay);
  }

  #armSilence(): void {
    if (this.#silenceTimer) clearTimeout(this.#silenceTimer);
    const timeout = this.#options.silenceTimeoutMs ?? LIVE_HEARTBEAT_MS * 3;
    this.#silenceTimer = setTimeout(() => {
      this.#silenceTimer = null;
      if (this.#stopped || !this.#socket) return;
      // A half-open connection: nothing, not even a heartbeat. Start over from the last cursor.
      this.#dropSocket();
      this.#scheduleRetry(false);
    }, timeout);
  }

  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    detach(socket);
    try {
      socket.close(1000, 'reconnect');
    } catch {
      // Already closed.
    }
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#silenceTimer) clearTimeout(this.#silenceTimer);
    this.#retryTimer = null;
    this.#silenceTimer = null;
  }

  #setStatus(status: LiveStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    if (!this.#stopped || status === 'closed') this.#options.onStatus?.(status);
  }
}

/**
 * The envelope checks the timeline relies on. The collector validated each event on ingest; this keeps a corrupt or
 * foreign frame from crashing the page.
 */
export function isStoredEvent(value: unknown): value is StoredEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { cursor, event } = value as { cursor?: unknown; event?: unknown };
  if (
    typeof cursor !== 'number' ||
    !Number.isFinite(cursor) ||
    typeof event !== 'object' ||
    event === null
  ) {
    return false;
  }
  const { envId, type, time, seq } = event as Record<string, unknown>;
  return (
    typeof envId === 'string' &&
    typeof type === 'string' &&
    typeof time === 'number' &&
    Number.isFinite(time) &&
    typeof seq === 'number'
  );
}

function detach(socket: SocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => {};
}
