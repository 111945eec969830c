import type { EnvironmentState } from '@lifeline/protocol';
import { type EnvLane, laneInvokeCount } from './lane-model.ts';
import { laneState } from './lane-state.ts';

/** A group header row (a function or a tenant): collapsible, with counts. */
export interface GroupRow {
  readonly kind: 'group';
  /** `fn:<name>` or `tenant:<id>` (`tenant:` alone for environments without one); also what collapses it. */
  readonly key: string;
  readonly by: RowGrouping;
  /** What the header names: the function, the tenant, or {@link NO_TENANT}. */
  readonly label: string;
  readonly laneCount: number;
  readonly alive: number;
  readonly invokes: number;
  readonly collapsed: boolean;
}

/** One execution environment. */
export interface LaneRow {
  readonly kind: 'lane';
  readonly key: string;
  readonly lane: EnvLane;
  readonly state: EnvironmentState;
  /** The lane directly above is the environment this one replaced in the same sandbox (re-initialisation). */
  readonly reinitOf: string | null;
  /** Position in its sandbox chain (0 = first registration), for the sandbox link glyph. */
  readonly chainIndex: number;
  readonly chainLength: number;
  /** Its group header does not name its function (tenant groups mix functions): the lane names it. */
  readonly showFunction: boolean;
}

export type Row = GroupRow | LaneRow;

/** UI state the rows depend on. */
export interface RowModelOptions {
  readonly now: number;
  /** Keys of the collapsed groups ({@link GroupRow.key}). */
  readonly collapsed?: ReadonlySet<string>;
  readonly functionName?: string | null;
  readonly version?: string | null;
  readonly states?: ReadonlySet<EnvironmentState> | null;
  /** Keep only environments whose activity overlaps [from, to] (epoch ms). */
  readonly from?: number | null;
  readonly to?: number | null;
  /**
   * `function` (default): functions by name, sandbox chains by first registration. `newest`: functions and chains
   * by their most recent activity, newest first.
   */
  readonly order?: RowOrder;
  /** `function` (default): one group per function. `tenant`: one per tenant, environments without one last. */
  readonly group?: RowGrouping;
}

export type RowOrder = 'function' | 'newest';
/** What lanes can be grouped by; the first is the default. */
export const ROW_GROUPINGS = ['function', 'tenant'] as const;
export type RowGrouping = (typeof ROW_GROUPINGS)[number];

/** The header of the environments that have no tenant (not tenant-isolated, or no invoke has named it yet). */
export const NO_TENANT = 'no tenant';

interface GroupKey {
  readonly key: string;
  readonly label: string;
  /** Sorts after every named group whatever the order (the "no tenant" group). */
  readonly last: boolean;
}

/** The one rule that puts a lane into a group. */
function groupKeyOf(lane: EnvLane, group: RowGrouping): GroupKey {
  if (group === 'function')
    return { key: `fn:${lane.functionName}`, label: lane.functionName, last: false };
  return lane.tenantId
    ? { key: `tenant:${lane.tenantId}`, label: lane.tenantId, last: false }
    : { key: 'tenant:', label: NO_TENANT, last: true };
}

/** What the rows show, for the toolbar: it follows every filter. */
export interface RowCounts {
  readonly environments: number;
  readonly alive: number;
  /** Invokes loaded for the shown environments. */
  readonly invokes: number;
}

/** Counts over groups, including collapsed ones. */
export function rowCounts(rows: readonly Row[]): RowCounts {
  let environments = 0;
  let alive = 0;
  let invokes = 0;
  for (const row of rows) {
    if (row.kind !== 'group') continue;
    environments += row.laneCount;
    alive += row.alive;
    invokes += row.invokes;
  }
  return { environments, alive, invokes };
}

const ALIVE: ReadonlySet<EnvironmentState> = new Set([
  'initializing',
  'active',
  'idle',
  'shutting-down',
]);

/** Whether an environment in this state still exists. */
export function isAlive(state: EnvironmentState): boolean {
  return ALIVE.has(state);
}

function laneEnd(lane: EnvLane): number {
  return lane.exitedAt ?? lane.shutdown?.receivedAt ?? lane.lastActivityAt;
}

/**
 * Orders environments into rows: one group per function (by name) or per tenant (by id, environments without a tenant
 * last), and inside it sandbox chains kept adjacent — a re-initialised environment (same sandboxId, previousEnvId)
 * sits right below the one it replaced — chains ordered by their first registration. Pure: same lanes and options
 * give equal rows.
 */
export function buildRows(lanes: Iterable<EnvLane>, options: RowModelOptions): Row[] {
  const {
    now,
    collapsed,
    functionName,
    version,
    states,
    from,
    to,
    order = 'function',
    group = 'function',
  } = options;
  const groups = new Map<string, { key: GroupKey; lanes: EnvLane[] }>();
  for (const lane of lanes) {
    if (functionName && lane.functionName !== functionName) continue;
    if (version && lane.functionVersion !== version) continue;
    if (from != null && laneEnd(lane) < from) continue;
    if (to != null && lane.firstActivityAt > to) continue;
    const key = groupKeyOf(lane, group);
    const entry = groups.get(key.key);
    if (entry) entry.lanes.push(lane);
    else groups.set(key.key, { key, lanes: [lane] });
  }
  const rows: Row[] = [];
  const newestOf = (list: readonly EnvLane[]) =>
    Math.max(...list.map((lane) => lane.lastActivityAt));
  const ordered = [...groups.values()].map((g) => ({ ...g, newest: newestOf(g.lanes) }));
  ordered.sort(
    (a, b) =>
      Number(a.key.last) - Number(b.key.last) ||
      (order === 'newest' ? b.newest - a.newest : 0) ||
      a.key.label.localeCompare(b.key.label),
  );
  for (const { key, lanes: list } of ordered) {
    const laneRows: LaneRow[] = [];
    let alive = 0;
    let invokes = 0;
    const chains = sandboxChains(list);
    if (order === 'newest') chains.sort((a, b) => newestOf(b) - newestOf(a));
    for (const chain of chains) {
      chain.forEach((lane, i) => {
        const state = laneState(lane, now);
        if (states && states.size > 0 && !states.has(state)) return;
        if (isAlive(state)) alive++;
        invokes += laneInvokeCount(lane);
        const above = chain[i - 1];
        laneRows.push({
          kind: 'lane',
          key: lane.envId,
          lane,
          state,
          reinitOf: above && lane.previousEnvId === above.envId ? above.envId : null,
          chainIndex: i,
          chainLength: chain.length,
          showFunction: group !== 'function',
        });
      });
    }
    if (laneRows.length === 0) continue;
    const isCollapsed = collapsed?.has(key.key) ?? false;
    rows.push({
      kind: 'group',
      key: key.key,
      by: group,
      label: key.label,
      laneCount: laneRows.length,
      alive,
      invokes,
      collapsed: isCollapsed,
    });
    if (!isCollapsed) rows.push(...laneRows);
  }
  return rows;
}

function startOf(lane: EnvLane): number {
  return lane.registeredAt ?? lane.firstActivityAt;
}

/** Groups lanes by sandboxId (a lane without one is its own chain), chains and members ordered by start. */
export function sandboxChains(lanes: readonly EnvLane[]): EnvLane[][] {
  const chains = new Map<string, EnvLane[]>();
  for (const lane of lanes) {
    const key = lane.sandboxId ? `sb:${lane.sandboxId}` : `env:${lane.envId}`;
    const chain = chains.get(key);
    if (chain) chain.push(lane);
    else chains.set(key, [lane]);
  }
  const result = [...chains.values()];
  for (const chain of result)
    chain.sort((a, b) => startOf(a) - startOf(b) || a.envId.localeCompare(b.envId));
  result.sort((a, b) => startOf(a[0]!) - startOf(b[0]!) || a[0]!.envId.localeCompare(b[0]!.envId));
  return result;
}
