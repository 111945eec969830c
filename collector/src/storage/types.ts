import type {
  Environment,
  EnvironmentDetail,
  EnvironmentState,
  FunctionStats,
  FunctionSummary,
  Invocation,
  LifelineEvent,
  Page,
  SearchResult,
  Series,
  Shutdown,
  ShutdownStats,
  WindowPage,
} from '@lifeline/protocol';

/**
 * The collector's storage, split by consumer: ingest writes through the {@link IngestStore}, the live hub and
 * `/v1/events` read the {@link EventLog}, the read API the {@link QueryStore}, the retention job the
 * {@link RetentionStore}. Each consumer receives only the store it uses. Every operation returns a promise so a
 * networked backend (PostgreSQL) fits; SQLite answers synchronously inside them.
 */
export interface Storage {
  /** `sqlite` (one file, one writer) or `postgres` (several collectors on one database). */
  readonly kind: 'sqlite' | 'postgres';
  readonly ingest: IngestStore;
  readonly eventLog: EventLog;
  readonly query: QueryStore;
  readonly retention: RetentionStore;
  /** Closes connections; pending operations finish first. */
  close(): Promise<void>;
}

/** An event to store: the validated event and its JSON text (what `/v1/events` and the live socket send back). */
export interface EncodedEvent {
  event: LifelineEvent;
  body: string;
}

/** A stored event as the live hub and `/v1/events` need it. */
export interface StoredRow {
  cursor: number;
  receivedAt: number;
  envId: string;
  /** The event's JSON text, as received (re-serialised once at ingest). */
  body: string;
}

/** Result of storing one batch. */
export interface InsertResult {
  accepted: number;
  duplicates: number;
  /** The newly stored rows, in cursor order. */
  stored: StoredRow[];
}

export interface IngestStore {
  /**
   * Group commit: several batches in ONE transaction, each batch all-or-nothing on its own (a savepoint), with the
   * derived environment and invocation rows updated in the same transaction. A batch that fails is reported as an
   * Error in its slot while the others commit; a failure of the whole transaction rejects. Duplicates (by event
   * id, across every collector on the database) are skipped and counted. Resolves after the commit.
   */
  insertBatches(
    batches: readonly (readonly EncodedEvent[])[],
    receivedAt: number,
  ): Promise<(InsertResult | Error)[]>;
  /** Group commits worth running at once (1 for SQLite's single writer). */
  readonly parallelCommits: number;
}

export interface EventLog {
  /** The highest cursor below which every event is committed and visible (0 when empty). */
  head(): Promise<number>;
  /** Events with `after < cursor <= upTo`, in cursor order, at most `limit`. */
  eventsAfter(after: number, limit: number, upTo?: number): Promise<StoredRow[]>;
  /**
   * True when this process is the only writer, so the rows of a local commit are exactly the next rows of the
   * log (SQLite) and can be broadcast without reading them back. False when other collectors write too: the live
   * hub then reads the log after every wake-up.
   */
  readonly singleWriter: boolean;
  /** Calls `listener` when another collector may have committed events; returns the unsubscribe. */
  onRemoteCommit(listener: () => void): () => void;
}

/** Common listing options: `cursor` is the opaque `nextCursor` of the previous page. */
export interface ListOptions {
  cursor?: string | undefined;
  limit: number;
  /** Collector clock used to compute states. */
  now: number;
  lostAfterMs: number;
}

/** `GET /v1/environments` filters; `from`/`to` select environments active in that range (event clock). */
export interface EnvironmentFilter extends ListOptions {
  functionName?: string | undefined;
  state?: EnvironmentState | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** `GET /v1/invocations` filters; `from`/`to` bound the invoke's start (event clock). */
export interface InvocationFilter extends ListOptions {
  functionName?: string | undefined;
  envId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** `GET /v1/shutdowns` filters; `reason` matches case-insensitively, `from`/`to` bound SHUTDOWN's arrival. */
export interface ShutdownFilter extends ListOptions {
  functionName?: string | undefined;
  version?: string | undefined;
  reason?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** A time range on the event clock with the filters every windowed read shares. */
export interface RangeFilter {
  from: number;
  to: number;
  functionName?: string | undefined;
  tenant?: string | undefined;
}

/** The collector settings range membership and states depend on. */
export interface StateClock {
  /** Collector clock. */
  now: number;
  lostAfterMs: number;
}

/** `GET /v1/window`. */
export interface WindowFilter extends RangeFilter {
  limit: number;
  cursor?: string | undefined;
  /** Density: invocation activity in buckets of this many ms instead of every invocation. */
  step?: number | undefined;
}

/** `GET /v1/stats/shutdowns`. */
export interface ShutdownStatsFilter extends RangeFilter {
  version?: string | undefined;
  reason?: string | undefined;
}

/** `GET /v1/series`; `step` in ms (chosen by the server when absent). */
export interface SeriesFilter extends RangeFilter {
  step?: number | undefined;
}

export interface QueryStore {
  /** Per-function summaries, by name. */
  listFunctions(options: ListOptions): Promise<Page<FunctionSummary>>;
  /** Environments, newest first. */
  listEnvironments(filter: EnvironmentFilter): Promise<Page<Environment>>;
  /** One environment with its invocations (invoke order) and up to 10,000 of its events; null if unknown. */
  environmentDetail(
    envId: string,
    now: number,
    lostAfterMs: number,
  ): Promise<EnvironmentDetail | null>;
  /** Invocations, newest first. */
  listInvocations(filter: InvocationFilter): Promise<Page<Invocation>>;
  /** Shutdowns, newest environment first. */
  listShutdowns(filter: ShutdownFilter): Promise<Page<Shutdown>>;
  /** Environments in the range with their invocations, newest first; `head` is read before the rows. */
  window(filter: WindowFilter & StateClock): Promise<WindowPage>;
  shutdownStats(filter: ShutdownStatsFilter): Promise<ShutdownStats>;
  functionStats(filter: RangeFilter & StateClock): Promise<FunctionStats>;
  series(filter: SeriesFilter & StateClock): Promise<Series>;
  /** Exact matches of a request, environment, sandbox or trace id (at most 50). */
  search(q: string): Promise<SearchResult>;
  /**
   * The same reads (but the environment detail) answered as UTF-8 JSON bytes, when the backend serialises them off
   * the event loop (SQLite's read worker): the routes send the bytes as they are, so a large answer costs the event
   * loop neither a parse, a serialisation nor an encoding, and lands outside the JavaScript heap (see
   * read-worker.ts). Undefined when the backend answers objects only.
   */
  readonly json?: ReadModelJson | undefined;
  /** Counts for /metrics. */
  counts(): Promise<{ events: number; environments: number }>;
  /** Bytes the stored data takes (database pages in use, or the database size). */
  sizeBytes(): Promise<number>;
}

/** How a JSON read is asked for (see {@link ReadModelJson}). */
export interface JsonReadOptions {
  /** Aborts when nobody waits for the answer any more (the client went away): a read not yet run is dropped. */
  abandoned?: AbortSignal | undefined;
  /** The client takes gzip: a large answer comes gzipped. */
  gzip?: boolean | undefined;
}

/** A JSON answer as UTF-8 bytes, gzipped when `gzip`. */
export interface JsonAnswer {
  bytes: Uint8Array;
  gzip: boolean;
}

/** The read API's lists and details: short reads by index, paged. */
export type ListReads = Pick<
  QueryStore,
  'listFunctions' | 'listEnvironments' | 'environmentDetail' | 'listInvocations' | 'listShutdowns'
>;

/** The read model's and the lists' answers as JSON bytes, made where the read ran (see {@link QueryStore.json}). */
export interface ReadModelJson {
  listFunctions(options: ListOptions, json?: JsonReadOptions): Promise<JsonAnswer>;
  listEnvironments(filter: EnvironmentFilter, json?: JsonReadOptions): Promise<JsonAnswer>;
  listInvocations(filter: InvocationFilter, json?: JsonReadOptions): Promise<JsonAnswer>;
  listShutdowns(filter: ShutdownFilter, json?: JsonReadOptions): Promise<JsonAnswer>;
  window(filter: WindowFilter & StateClock, options?: JsonReadOptions): Promise<JsonAnswer>;
  shutdownStats(filter: ShutdownStatsFilter, options?: JsonReadOptions): Promise<JsonAnswer>;
  functionStats(filter: RangeFilter & StateClock, options?: JsonReadOptions): Promise<JsonAnswer>;
  series(filter: SeriesFilter & StateClock, options?: JsonReadOptions): Promise<JsonAnswer>;
  search(q: string, options?: JsonReadOptions): Promise<JsonAnswer>;
}

/** Limits of one retention pass. */
export interface RetentionPass {
  /** Collector clock. */
  now: number;
  retentionHours: number;
  retentionMaxMb: number;
  /** Events deleted per transaction, so ingest never waits long for the writer. */
  chunkEvents: number;
  /** Transactions per pass at most; the next pass continues. */
  maxChunks: number;
  /** Checked between transactions: a stopping collector does not wait for a long pass. */
  signal?: AbortSignal | undefined;
}

/** What one pass deleted. */
export interface RetentionReport {
  environments: number;
  events: number;
}

export interface RetentionStore {
  /** One pass: deletes what is older than the retention setting (and, where supported, over the size cap). */
  expire(pass: RetentionPass): Promise<RetentionReport>;
}
