import {
  applyEvents,
  type EnvironmentFacts,
  type EnvironmentSnapshot,
  environmentState,
  type InvocationFacts,
  lastInvokeIdOf,
  requestIdsOf,
  type StoredEvent,
} from '@lifeline/protocol';
import {
  type ActivityCell,
  activityOf,
  activitySince,
  contributionOf,
  foldActivity,
  type LaneActivity,
} from './density.ts';
import {
  type EnvLane,
  type InvokeBar,
  invokeBarOf,
  invokeEnd,
  LIVE_EVENTS_KEPT,
  laneInvokeCount,
  laneOf,
} from './lane-model.ts';

/** A dense window's grid and range, as read (`/v1/window?step=`). */
export interface DensityRange {
  readonly step: number;
  readonly from: number;
  readonly to: number;
}

/** An immutable view of the loaded range plus what arrived live; a new object per change. */
export interface TimelineSnapshot {
  /** Increases by one per change. */
  readonly revision: number;
  readonly lanes: ReadonlyMap<string, EnvLane>;
  /** Highest cursor the model covers (the window's head, then live events): resume the live stream after it. */
  readonly lastCursor: number;
  /** Events the collector stored for the loaded environments. */
  readonly eventCount: number;
  /** Invokes loaded (drawable) over all lanes. */
  readonly invokeCount: number;
  /** Earliest first activity and latest last activity over the lanes (extension clock), NaN when empty. */
  readonly minTime: number;
  readonly maxTime: number;
}

/** The snapshot before any data. */
export const EMPTY_SNAPSHOT: TimelineSnapshot = {
  revision: 0,
  lanes: new Map(),
  lastCursor: 0,
  eventCount: 0,
  invokeCount: 0,
  minTime: Number.NaN,
  maxTime: Number.NaN,
};

/** One environment as the container holds it: the shared derivation's rows, and the lane drawn from them. */
interface EnvEntry {
  env: EnvironmentFacts;
  invocations: Map<string, InvocationFacts>;
  /** Highest event cursor folded into these rows; live events at or below it are already in. */
  cursor: number;
  lane: EnvLane;
  /** requestId → position in lane.invokes. */
  index: Map<string, number>;
  /** Dense range: the cells, and what each held row already adds to them (null: outside the counted range). */
  activity: LaneActivity | null;
  counted: Map<string, ActivityCell | null>;
}

/**
 * The dashboard's container for the shared derivation: environments arrive already derived (window pages of
 * `/v1/window`) and live events are folded into them with the same `applyEvents` the collector runs, one environment
 * and one receive batch at a time, so both sides hold equal rows. Each change touches only its environments'
 * lanes (copy-on-write), so a live batch costs O(batch), not O(history).
 */
export class TimelineBuilder {
  readonly #entries = new Map<string, EnvEntry>();
  readonly #lostAfterMs: number;
  /** The grid of a dense range (set by its pages); environments that appear live get cells on it too. */
  #step: number | null = null;
  #snapshot: TimelineSnapshot = EMPTY_SNAPSHOT;

  /**
   * `lostAfterMs`: the collector's setting (`/v1/settings`), which the lanes' state rule needs; until it is known
   * (data fed without a collector) no environment is judged lost.
   */
  constructor(lostAfterMs = Number.POSITIVE_INFINITY) {
    this.#lostAfterMs = lostAfterMs;
  }

  get snapshot(): TimelineSnapshot {
    return this.#snapshot;
  }

  /**
   * Takes environments of a window page. A page row replaces what is held for its environment unless what is held
   * already covers a higher cursor; `head` (the event-log head the page was read at) raises the resume cursor.
   * `density`: the page was read with a step (its environments carry cells, not every invocation).
   */
  load(
    environments: readonly EnvironmentSnapshot[],
    head: number,
    density: DensityRange | null = null,
  ): TimelineSnapshot {
    if (density) this.#step = density.step;
    const changed = new Set<string>();
    for (const item of environments) {
      const held = this.#entries.get(item.env.envId);
      if (held && held.cursor >= item.cursor) continue;
      const invocations = new Map(item.invocations.map((row) => [row.requestId, row]));
      const bars = [...invocations.values()].map(invokeBarOf).sort(byStart);
      const index = new Map(bars.map((bar, i) => [bar.requestId, i]));
      const activity = density && item.activity ? activityOf(density.step, item.activity) : null;
      // The collector counted the rows it sent when they started in the range; live changes to them count the
      // difference only.
      const counted = new Map<string, ActivityCell | null>();
      if (density && activity) {
        for (const row of invocations.values()) {
          const start = invokeBarOf(row).startAt;
          const inRange = start >= density.from && start <= density.to;
          counted.set(row.requestId, inRange ? contributionOf(row, density.step) : null);
        }
      }
      this.#entries.set(item.env.envId, {
        env: item.env,
        invocations,
        cursor: item.cursor,
        index,
        activity,
        counted,
        lane: laneOf(item.env, bars, held?.lane.events ?? [], this.#lostAfterMs, activity),
      });
      changed.add(item.env.envId);
    }
    return this.#publish(changed, Math.max(this.#snapshot.lastCursor, head));
  }

  /**
   * Folds live events (in cursor order) into their environments. Events at or below the model's cursor, or at or
   * below their environment's row cursor, are already in and skipped: replays and the window hand-over are harmless.
   */
  apply(batch: readonly StoredEvent[]): TimelineSnapshot {
    let lastCursor = this.#snapshot.lastCursor;
    const byEnv = new Map<string, StoredEvent[]>();
    for (const stored of batch) {
      if (!(stored.cursor > lastCursor)) continue;
      lastCursor = stored.cursor;
      const envId = stored.event.envId;
      const held = this.#entries.get(envId);
      if (held && stored.cursor <= held.cursor) continue;
      const list = byEnv.get(envId);
      if (list) list.push(stored);
      else byEnv.set(envId, [stored]);
    }
    for (const [envId, events] of byEnv) this.#fold(envId, events);
    if (byEnv.size === 0 && lastCursor === this.#snapshot.lastCursor) return this.#snapshot;
    return this.#publish(new Set(byEnv.keys()), lastCursor);
  }

  /**
   * Keeps memory bounded by the range while it moves: forgets environments that ended before `from`, or were lost
   * (collector time `now`) with no activity since `from` — the ones the window would not return — and invokes that
   * ended before `from` except each environment's last one.
   */
  forgetBefore(from: number, now: number): TimelineSnapshot {
    const changed = new Set<string>();
    for (const [envId, entry] of this.#entries) {
      const { env } = entry;
      const end = env.exitedAt ?? env.shutdownAt;
      const lost = environmentState(env, now, this.#lostAfterMs) === 'lost';
      if ((end !== null && end < from) || (lost && env.lastActivityAt < from)) {
        this.#entries.delete(envId);
        changed.add(envId);
        continue;
      }
      if (entry.activity) {
        const activity = activitySince(entry.activity, from);
        if (activity !== entry.activity) {
          entry.activity = activity;
          entry.lane = { ...entry.lane, activity };
          changed.add(envId);
        }
      }
      const first = entry.lane.invokes[0];
      if (first === undefined || first.startAt >= from) continue;
      const kept = entry.lane.invokes.filter(
        (bar) =>
          bar.requestId === env.lastInvokeRequestId || (invokeEnd(bar) ?? bar.startAt) >= from,
      );
      if (kept.length === entry.lane.invokes.length) continue;
      for (const bar of entry.lane.invokes) {
        if (!kept.includes(bar)) entry.invocations.delete(bar.requestId);
      }
      entry.index = new Map(kept.map((bar, i) => [bar.requestId, i]));
      entry.lane = { ...entry.lane, invokes: kept };
      changed.add(envId);
    }
    return this.#publish(changed, this.#snapshot.lastCursor);
  }

  /** One environment's live events, folded at once with each event's commit time. */
  #fold(envId: string, events: StoredEvent[]): void {
    let entry = this.#entries.get(envId);
    const run = events.map((stored) => stored.event);
    // The fold needs the rows the events touch plus the environment's last invoke, as the collector loads them.
    const rows = new Map<string, InvocationFacts>();
    if (entry) {
      const needed = requestIdsOf(run);
      if (entry.env.lastInvokeRequestId !== null) needed.add(entry.env.lastInvokeRequestId);
      for (const id of needed) {
        const row = entry.invocations.get(id);
        if (row) rows.set(id, row);
      }
    }
    const next = applyEvents(
      entry ? { env: entry.env, invocations: rows } : undefined,
      run,
      events.map((stored) => stored.receivedAt),
    );
    if (!entry) {
      const activity = this.#step === null ? null : { step: this.#step, cells: [], invokes: 0 };
      entry = {
        env: next.env,
        invocations: new Map(),
        cursor: 0,
        index: new Map(),
        activity,
        counted: new Map(),
        lane: laneOf(next.env, [], [], this.#lostAfterMs, activity),
      };
      this.#entries.set(envId, entry);
    }
    entry.env = next.env;
    const touched: string[] = [];
    for (const [id, row] of next.invocations) {
      entry.invocations.set(id, row);
      touched.push(id);
    }
    entry.cursor = events[events.length - 1]!.cursor;
    const kept = entry.lane.events.concat(events);
    const keptEvents = kept.length > LIVE_EVENTS_KEPT ? kept.slice(-LIVE_EVENTS_KEPT) : kept;
    if (entry.activity) {
      this.#foldDense(entry, touched, keptEvents);
      return;
    }
    const bars = entry.lane.invokes.slice();
    let resort = false;
    for (const id of touched) {
      const bar = invokeBarOf(entry.invocations.get(id)!);
      const at = entry.index.get(id);
      if (at === undefined) {
        entry.index.set(id, bars.length);
        bars.push(bar);
        resort ||= bars.length > 1 && bars[bars.length - 2]!.startAt > bar.startAt;
      } else {
        resort ||= bars[at]!.startAt !== bar.startAt;
        bars[at] = bar;
      }
    }
    if (resort) {
      bars.sort(byStart);
      entry.index = new Map(bars.map((bar, i) => [bar.requestId, i]));
    }
    entry.lane = laneOf(entry.env, bars, keptEvents, this.#lostAfterMs);
  }

  /**
   * A dense environment after a fold: each touched row's change goes into its cell, then the rows live folding no
   * longer needs are let go (those over, with their report in, other than the last invoke), so the tab holds cells
   * and a few rows, never the range's invocations.
   */
  #foldDense(entry: EnvEntry, touched: readonly string[], events: readonly StoredEvent[]): void {
    let activity = entry.activity as LaneActivity;
    for (const id of touched) {
      const row = entry.invocations.get(id)!;
      const before = entry.counted.get(id);
      // A row the collector sent from before the range (the last invoke) stays out of the range's counts.
      if (before === null) continue;
      const after = contributionOf(row, activity.step);
      activity = foldActivity(activity, before ?? null, after);
      entry.counted.set(id, after);
    }
    const last = lastInvokeIdOf(entry.env);
    for (const [id, row] of entry.invocations) {
      if (id === last || row.status === 'running' || row.reportAt === null) continue;
      entry.invocations.delete(id);
      entry.counted.delete(id);
    }
    const bars = [...entry.invocations.values()].map(invokeBarOf).sort(byStart);
    entry.index = new Map(bars.map((bar, i) => [bar.requestId, i]));
    entry.activity = activity;
    entry.lane = laneOf(entry.env, bars, events, this.#lostAfterMs, activity);
  }

  #publish(changed: ReadonlySet<string>, lastCursor: number): TimelineSnapshot {
    const prev = this.#snapshot;
    if (changed.size === 0 && lastCursor === prev.lastCursor) return prev;
    let lanes: Map<string, EnvLane> | ReadonlyMap<string, EnvLane> = prev.lanes;
    if (changed.size > 0) {
      const next = new Map(prev.lanes);
      for (const envId of changed) {
        const entry = this.#entries.get(envId);
        if (entry) next.set(envId, entry.lane);
        else next.delete(envId);
      }
      lanes = next;
    }
    let eventCount = prev.eventCount;
    let invokeCount = prev.invokeCount;
    for (const envId of changed) {
      const before = prev.lanes.get(envId);
      const after = lanes.get(envId);
      eventCount += (after?.eventCount ?? 0) - (before?.eventCount ?? 0);
      invokeCount += (after ? laneInvokeCount(after) : 0) - (before ? laneInvokeCount(before) : 0);
    }
    let minTime = Number.NaN;
    let maxTime = Number.NaN;
    for (const lane of lanes.values()) {
      if (!(lane.firstActivityAt >= minTime)) minTime = lane.firstActivityAt;
      if (!(lane.lastActivityAt <= maxTime)) maxTime = lane.lastActivityAt;
    }
    this.#snapshot = {
      revision: prev.revision + 1,
      lanes,
      lastCursor,
      eventCount,
      invokeCount,
      minTime,
      maxTime,
    };
    return this.#snapshot;
  }
}

function byStart(a: InvokeBar, b: InvokeBar): number {
  return a.startAt - b.startAt || a.requestId.localeCompare(b.requestId);
}
