import type {
  InvocationStatus,
  LifelineEvent,
  PlatformEvent,
  StoredEvent,
} from '@lifeline/protocol';

/**
 * The timeline model derived from raw StoredEvents, following the collector's derivation rules: an invoke runs from
 * its INVOKE time to platform.runtimeDone and its report fields fill in late; init phases come from the platform init
 * records; the shutdown phase runs from SHUTDOWN to the exit record, against its deadline.
 */

/** One invoke as drawn on a lane. Times are epoch ms (INVOKE on the extension clock, the rest platform clock). */
export interface InvokeBar {
  readonly requestId: string;
  readonly envId: string;
  /** INVOKE arrival; the platform.start time when the INVOKE event is missing. */
  readonly startAt: number;
  readonly deadlineMs: number | null;
  readonly invokedFunctionArn: string | null;
  readonly traceId: string | null;
  readonly platformStartAt: number | null;
  readonly runtimeDoneAt: number | null;
  readonly durationMs: number | null;
  readonly billedDurationMs: number | null;
  readonly memorySizeMb: number | null;
  readonly maxMemoryUsedMb: number | null;
  readonly initDurationMs: number | null;
  readonly extensionOverheadMs: number | null;
  readonly status: InvocationStatus;
  readonly errorType: string | null;
  /** True until the late platform.report has arrived. */
  readonly reportPending: boolean;
  /** deadlineMs − end of the invoke; null while running. */
  readonly headroomMs: number | null;
}

/** An init phase (cold start, or a suppressed init in the invoke phase) from the platform records. */
export interface InitSpan {
  readonly phase: string | null;
  readonly startAt: number | null;
  /** platform.initRuntimeDone: the runtime finished init; extensions may still be initialising. */
  readonly runtimeDoneAt: number | null;
  /** platform.initReport: the whole Init phase is over. */
  readonly reportAt: number | null;
  readonly durationMs: number | null;
  readonly status: string | null;
}

/** The SHUTDOWN event and the extension's exit after it. */
export interface ShutdownSpan {
  /** As received (spindown|timeout|failure in production; RIE spellings differ). */
  readonly reason: string;
  readonly receivedAt: number;
  readonly deadlineMs: number;
  readonly exitedAt: number | null;
  readonly shutdownMs: number | null;
}

/** Everything the dashboard knows about one execution environment. */
export interface EnvLane {
  readonly envId: string;
  /** False until the register event arrived (events can arrive out of order). */
  readonly registered: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly handler: string | null;
  readonly memorySizeMb: number | null;
  readonly runtime: string | null;
  readonly architecture: string | null;
  readonly region: string | null;
  readonly accountId: string | null;
  readonly initializationType: string | null;
  readonly sandboxId: string | null;
  readonly previousEnvId: string | null;
  readonly registeredAt: number | null;
  readonly inits: readonly InitSpan[];
  /** Sorted by startAt. */
  readonly invokes: readonly InvokeBar[];
  readonly shutdown: ShutdownSpan | null;
  /** Extension clock of the exit record (also set when it exits without SHUTDOWN). */
  readonly exitedAt: number | null;
  readonly firstActivityAt: number;
  readonly lastActivityAt: number;
  readonly errorCount: number;
  readonly timeoutCount: number;
  readonly droppedEvents: number;
  readonly lastSeq: number;
  /** Raw events in commit order; only the first `eventCount` belong to this version of the lane. */
  readonly events: readonly StoredEvent[];
  readonly eventCount: number;
}

/** Name used for environments whose register event has not arrived. */
export const UNKNOWN_FUNCTION = '(unregistered)';

export function newLane(envId: string, time: number, events: StoredEvent[]): EnvLane {
  return {
    envId,
    registered: false,
    functionName: UNKNOWN_FUNCTION,
    functionVersion: '',
    handler: null,
    memorySizeMb: null,
    runtime: null,
    architecture: null,
    region: null,
    accountId: null,
    initializationType: null,
    sandboxId: null,
    previousEnvId: null,
    registeredAt: null,
    inits: [],
    invokes: [],
    shutdown: null,
    exitedAt: null,
    firstActivityAt: time,
    lastActivityAt: time,
    errorCount: 0,
    timeoutCount: 0,
    droppedEvents: 0,
    lastSeq: -1,
    events,
    eventCount: 0,
  };
}

/** A mutable working copy of a lane during one batch; `invokes`/`inits` are private copies. */
export type LaneDraft = { -readonly [K in keyof EnvLane]: EnvLane[K] } & {
  invokes: InvokeBar[];
  inits: InitSpan[];
  events: StoredEvent[];
};

/** Per-lane, per-batch bookkeeping for {@link applyEvent}. */
export interface BatchContext {
  /** requestId → position in the lane's invokes; lives as long as the lane. */
  readonly index: Map<string, number>;
  /** Bars already private to this batch's draft (mutated in place instead of copied again). */
  readonly owned: Set<object>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function recordOf(event: PlatformEvent): Record<string, unknown> {
  return typeof event.record === 'object' && event.record !== null ? event.record : {};
}

function metricsOf(record: Record<string, unknown>): Record<string, unknown> {
  const m = record.metrics;
  return typeof m === 'object' && m !== null && !Array.isArray(m)
    ? (m as Record<string, unknown>)
    : {};
}

function toStatus(value: unknown): InvocationStatus | null {
  return value === 'success' || value === 'error' || value === 'timeout' || value === 'failure'
    ? value
    : null;
}

function blankInvoke(envId: string, requestId: string, startAt: number): Mutable<InvokeBar> {
  return {
    requestId,
    envId,
    startAt,
    deadlineMs: null,
    invokedFunctionArn: null,
    traceId: null,
    platformStartAt: null,
    runtimeDoneAt: null,
    durationMs: null,
    billedDurationMs: null,
    memorySizeMb: null,
    maxMemoryUsedMb: null,
    initDurationMs: null,
    extensionOverheadMs: null,
    status: 'running',
    errorType: null,
    reportPending: true,
    headroomMs: null,
  };
}

/** The end of an invoke bar: runtimeDone, else start + duration when only the report is known, else null. */
export function invokeEnd(bar: InvokeBar): number | null {
  if (bar.runtimeDoneAt !== null) return bar.runtimeDoneAt;
  if (bar.durationMs !== null) return (bar.platformStartAt ?? bar.startAt) + bar.durationMs;
  return null;
}

/**
 * The invoke drawn at `time`, with `tolerance` ms of slack on both sides for thin bars; the closest one wins.
 * Bars without an end count as ending at the next start.
 */
export function invokeAt(
  bars: readonly InvokeBar[],
  time: number,
  tolerance: number,
): InvokeBar | null {
  let best: InvokeBar | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bars[mid]!.startAt <= time + tolerance) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && i >= lo - 3; i--) {
    const bar = bars[i]!;
    const end = invokeEnd(bar) ?? bars[i + 1]?.startAt ?? Number.POSITIVE_INFINITY;
    const distance = time < bar.startAt ? bar.startAt - time : time > end ? time - end : 0;
    if (distance <= tolerance && distance < bestDistance) {
      best = bar;
      bestDistance = distance;
    }
  }
  return best;
}

function withHeadroom(bar: Mutable<InvokeBar>): Mutable<InvokeBar> {
  const end = invokeEnd(bar);
  bar.headroomMs = end !== null && bar.deadlineMs !== null ? bar.deadlineMs - end : null;
  return bar;
}

/**
 * Finds or creates the invoke for `requestId` in the draft and replaces it with `update(copy)`. Invokes are kept
 * sorted by start; `index` maps requestId → position and is rebuilt when an out-of-order insert shifts positions.
 */
function upsertInvoke(
  draft: LaneDraft,
  { index, owned }: BatchContext,
  requestId: string,
  startAt: number,
  update: (bar: Mutable<InvokeBar>) => void,
): void {
  const at = index.get(requestId);
  if (at !== undefined && draft.invokes[at]?.requestId === requestId) {
    const existing = draft.invokes[at]!;
    // Copy-on-write once per batch: a bar created or copied in this batch is private to the draft.
    const copy = (owned.has(existing) ? existing : { ...existing }) as Mutable<InvokeBar>;
    owned.add(copy);
    const before = copy.status;
    update(copy);
    countStatus(draft, before, -1);
    countStatus(draft, copy.status, 1);
    draft.invokes[at] = withHeadroom(copy);
    const prev = draft.invokes[at - 1];
    const next = draft.invokes[at + 1];
    if ((prev && prev.startAt > copy.startAt) || (next && next.startAt < copy.startAt)) {
      // A late INVOKE moved a bar first seen through its platform records: keep the list sorted.
      draft.invokes.sort((a, b) => a.startAt - b.startAt);
      reindex(draft.invokes, index);
    }
    return;
  }
  const bar = blankInvoke(draft.envId, requestId, startAt);
  owned.add(bar);
  update(bar);
  countStatus(draft, bar.status, 1);
  withHeadroom(bar);
  const list = draft.invokes;
  const last = list[list.length - 1];
  if (!last || last.startAt <= bar.startAt) {
    list.push(bar);
    index.set(requestId, list.length - 1);
    return;
  }
  let pos = list.length;
  while (pos > 0 && list[pos - 1]!.startAt > bar.startAt) pos--;
  list.splice(pos, 0, bar);
  reindex(list, index);
}

function reindex(list: readonly InvokeBar[], index: Map<string, number>): void {
  index.clear();
  for (let i = 0; i < list.length; i++) index.set(list[i]!.requestId, i);
}

function countStatus(draft: LaneDraft, status: InvocationStatus, delta: number): void {
  if (status === 'error' || status === 'failure') draft.errorCount += delta;
  else if (status === 'timeout') draft.timeoutCount += delta;
}

/** The open init span (no report yet), copied for writing; a new one if none is open. */
function currentInit(draft: LaneDraft, phase: string | null): Mutable<InitSpan> {
  const last = draft.inits[draft.inits.length - 1];
  if (last && last.reportAt === null) {
    const copy = { ...last };
    draft.inits[draft.inits.length - 1] = copy;
    return copy;
  }
  const span: Mutable<InitSpan> = {
    phase,
    startAt: null,
    runtimeDoneAt: null,
    reportAt: null,
    durationMs: null,
    status: null,
  };
  draft.inits.push(span);
  return span;
}

function applyPlatform(draft: LaneDraft, ctx: BatchContext, event: PlatformEvent): void {
  const record = recordOf(event);
  const at = event.recordTime;
  switch (event.recordType) {
    case 'platform.initStart':
    case 'platform.restoreStart': {
      const phase =
        str(record.phase) ?? (event.recordType === 'platform.restoreStart' ? 'snap-start' : null);
      const last = draft.inits[draft.inits.length - 1];
      if (last && last.startAt === null) {
        // Its runtimeDone/report came first (delivery order is not guaranteed).
        draft.inits[draft.inits.length - 1] = { ...last, startAt: at, phase: last.phase ?? phase };
        return;
      }
      draft.inits.push({
        phase,
        startAt: at,
        runtimeDoneAt: null,
        reportAt: null,
        durationMs: null,
        status: null,
      });
      return;
    }
    case 'platform.initRuntimeDone':
    case 'platform.restoreRuntimeDone': {
      const span = currentInit(draft, str(record.phase));
      span.runtimeDoneAt = at;
      span.status = str(record.status) ?? span.status;
      return;
    }
    case 'platform.initReport':
    case 'platform.restoreReport': {
      const span = currentInit(draft, str(record.phase));
      span.reportAt = at;
      span.status = str(record.status) ?? span.status ?? 'success';
      span.durationMs = num(metricsOf(record).durationMs) ?? span.durationMs;
      span.phase = span.phase ?? str(record.phase);
      return;
    }
    case 'platform.start': {
      const requestId = str(record.requestId);
      if (!requestId) return;
      upsertInvoke(draft, ctx, requestId, at, (bar) => {
        bar.platformStartAt = at;
      });
      return;
    }
    case 'platform.runtimeDone': {
      const requestId = str(record.requestId);
      if (!requestId) return;
      const metrics = metricsOf(record);
      upsertInvoke(draft, ctx, requestId, at - (num(metrics.durationMs) ?? 0), (bar) => {
        bar.runtimeDoneAt = at;
        bar.status = toStatus(record.status) ?? 'success';
        bar.errorType = str(record.errorType) ?? bar.errorType;
        if (bar.durationMs === null) bar.durationMs = num(metrics.durationMs);
      });
      return;
    }
    case 'platform.report': {
      const requestId = str(record.requestId);
      if (!requestId) return;
      const metrics = metricsOf(record);
      const spans = Array.isArray(record.spans) ? record.spans : [];
      const overhead = spans.find(
        (s): s is { durationMs: number } =>
          typeof s === 'object' &&
          s !== null &&
          (s as { name?: unknown }).name === 'extensionOverhead',
      );
      upsertInvoke(draft, ctx, requestId, at - (num(metrics.durationMs) ?? 0), (bar) => {
        bar.reportPending = false;
        bar.durationMs = num(metrics.durationMs) ?? bar.durationMs;
        bar.billedDurationMs = num(metrics.billedDurationMs);
        bar.memorySizeMb = num(metrics.memorySizeMB);
        bar.maxMemoryUsedMb = num(metrics.maxMemoryUsedMB);
        bar.initDurationMs = num(metrics.initDurationMs) ?? num(metrics.restoreDurationMs);
        bar.extensionOverheadMs = overhead ? num(overhead.durationMs) : null;
        bar.status = toStatus(record.status) ?? (bar.status === 'running' ? 'success' : bar.status);
        bar.errorType = str(record.errorType) ?? bar.errorType;
      });
      return;
    }
    default:
      return;
  }
}

/**
 * Applies one event to a lane draft. Idempotency is the caller's job (the store de-duplicates by cursor and id).
 * `ctx.index` is the lane's requestId → invoke position map, kept by the caller across batches.
 */
export function applyEvent(draft: LaneDraft, ctx: BatchContext, stored: StoredEvent): void {
  const event: LifelineEvent = stored.event;
  draft.events.push(stored);
  draft.eventCount = draft.events.length;
  draft.lastSeq = Math.max(draft.lastSeq, event.seq);
  draft.firstActivityAt = Math.min(draft.firstActivityAt, event.time);
  draft.lastActivityAt = Math.max(draft.lastActivityAt, event.time);
  switch (event.type) {
    case 'register':
      draft.registered = true;
      draft.functionName = event.functionName;
      draft.functionVersion = event.functionVersion;
      draft.handler = event.handler;
      draft.memorySizeMb = event.memorySizeMb;
      draft.runtime = event.runtime ?? null;
      draft.architecture = event.architecture;
      draft.region = event.region ?? null;
      draft.accountId = event.accountId ?? null;
      draft.initializationType = event.initializationType;
      draft.sandboxId = event.sandboxId ?? null;
      draft.previousEnvId = event.previousEnvId ?? null;
      draft.registeredAt = event.time;
      return;
    case 'invoke':
      upsertInvoke(draft, ctx, event.requestId, event.time, (bar) => {
        bar.startAt = event.time;
        bar.deadlineMs = event.deadlineMs;
        bar.invokedFunctionArn = event.invokedFunctionArn;
        bar.traceId = event.traceId ?? null;
      });
      return;
    case 'shutdown':
      draft.shutdown = {
        reason: event.shutdownReason,
        receivedAt: event.time,
        deadlineMs: event.deadlineMs,
        exitedAt: draft.shutdown?.exitedAt ?? null,
        shutdownMs: draft.shutdown?.shutdownMs ?? null,
      };
      return;
    case 'exit':
      draft.exitedAt = event.time;
      if (draft.shutdown) {
        draft.shutdown = {
          ...draft.shutdown,
          exitedAt: event.time,
          shutdownMs: event.shutdownMs ?? event.time - draft.shutdown.receivedAt,
        };
      }
      return;
    case 'dropped':
      draft.droppedEvents += event.count;
      return;
    case 'platform':
      applyPlatform(draft, ctx, event);
      return;
  }
}

/** Starts a draft from a published lane: shallow copy, private arrays for what applyEvent mutates in place. */
export function draftOf(lane: EnvLane): LaneDraft {
  return {
    ...lane,
    invokes: lane.invokes.slice(),
    inits: lane.inits.slice(),
    events: lane.events as StoredEvent[],
  };
}
