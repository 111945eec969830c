import type { EnvironmentState } from '@lifeline/protocol';
import { ENVIRONMENT_STATES } from '@lifeline/protocol';
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { apiUrl } from '../config.ts';
import { FunctionsView } from '../functions/FunctionsView.tsx';
import type { EventStore } from '../live/event-store.ts';
import type { LiveStatus } from '../live/live-client.ts';
import { useWindowSession } from '../live/useWindowSession.ts';
import type { SessionRange } from '../live/window-session.ts';
import { ShutdownsView } from '../shutdowns/ShutdownsView.tsx';
import type { RowGrouping } from '../timeline/row-model.ts';
import { TimelineView } from '../timeline/TimelineView.tsx';
import type { TimeWindow } from '../timeline/time-scale.ts';
import { DetailsPanel } from './DetailsPanel.tsx';
import { EmptyState } from './EmptyState.tsx';
import { rangeCovering } from './range-covering.ts';
import { matchWindow, SearchBox } from './SearchBox.tsx';
import { TokenPrompt } from './TokenPrompt.tsx';
import {
  DEFAULT_RANGE,
  formatUrlState,
  parseUrlState,
  RANGES,
  type RangeName,
  resolveRange,
  type UrlState,
} from './url-state.ts';

const RANGE_LABELS: Record<RangeName, string> = {
  '15m': 'Last 15 min',
  '1h': 'Last hour',
  '6h': 'Last 6 h',
  '24h': 'Last 24 h',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

/** A following range's figures are read again when its end moves by this much. */
const STATS_STEP_MS = 10_000;

/** MM-DD hh:mm in UTC, with seconds when the range is shorter than an hour (so both ends differ). */
function shortTime(t: number, spanMs = Number.POSITIVE_INFINITY): string {
  return new Date(t)
    .toISOString()
    .slice(5, spanMs < 3_600_000 ? 19 : 16)
    .replace('T', ' ');
}

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  closed: 'Disconnected',
  unauthorized: 'Token required',
};

/** Props of {@link App}. */
export interface AppProps {
  store: EventStore;
  /** Connect to the collector's live socket (false for tests and benchmarks that feed the store directly). */
  live?: boolean;
}

/** The collector's clock (the state rule's "now"), refreshed every `intervalMs`. */
function useCollectorNow(store: EventStore, intervalMs: number): number {
  const [now, setNow] = useState(() => store.clock.now());
  useEffect(() => {
    const id = setInterval(() => setNow(store.clock.now()), intervalMs);
    return () => clearInterval(id);
  }, [store, intervalMs]);
  return now;
}

function useUrlState(): [UrlState, (patch: Partial<UrlState>) => void] {
  const [state, setState] = useState(() => parseUrlState(window.location.search));
  useEffect(() => {
    const onPop = () => setState(parseUrlState(window.location.search));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const update = useCallback((patch: Partial<UrlState>) => {
    setState((prev) => {
      const next = { ...prev, ...patch };
      const search = formatUrlState(next);
      if (search !== window.location.search) {
        window.history.replaceState(
          null,
          '',
          `${window.location.pathname}${search}${window.location.hash}`,
        );
      }
      return next;
    });
  }, []);
  return [state, update];
}

/** The dashboard shell: header with views and connection state, shared filters, the view, the details panel. */
export function App({ store, live = true }: AppProps) {
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [url, setUrl] = useUrlState();
  const now = useCollectorNow(store, 1000);
  // What the store loads: the last `range` following live, or the absolute from/to of the URL.
  const { range: urlRange, from: urlFrom, to: urlTo } = url;
  const sessionRange = useMemo<SessionRange>(() => {
    if (urlFrom === null) return { following: true, spanMs: RANGES[urlRange ?? DEFAULT_RANGE] };
    const { from, to } = resolveRange(
      { range: urlRange, from: urlFrom, to: urlTo },
      store.clock.now(),
    );
    return { following: false, from, to };
  }, [urlFrom, urlTo, urlRange, store]);
  const liveState = useWindowSession(store, sessionRange, live);

  const functions = useMemo(() => {
    const names = new Set<string>();
    const versions = new Set<string>();
    const tenants = new Set<string>();
    for (const lane of snapshot.lanes.values()) {
      names.add(lane.functionName);
      if (lane.tenantId) tenants.add(lane.tenantId);
      if (!url.fn || lane.functionName === url.fn)
        if (lane.functionVersion) versions.add(lane.functionVersion);
    }
    if (url.tenant) tenants.add(url.tenant);
    return {
      names: [...names].sort(),
      versions: [...versions].sort(),
      tenants: [...tenants].sort(),
    };
  }, [snapshot.lanes, url.fn, url.tenant]);

  const states = useMemo(() => {
    if (!url.states) return null;
    const set = new Set(
      url.states
        .split(',')
        .filter((s): s is EnvironmentState =>
          (ENVIRONMENT_STATES as readonly string[]).includes(s),
        ),
    );
    return set.size ? (set as ReadonlySet<EnvironmentState>) : null;
  }, [url.states]);

  // The range the Shutdowns and Functions figures cover. A following range moves in steps of STATS_STEP_MS, so
  // the figures are read again each step, not each second.
  const statsTo = url.from === null ? Math.ceil(now / STATS_STEP_MS) * STATS_STEP_MS : null;
  const statsRange = useMemo(
    () => resolveRange({ range: urlRange, from: urlFrom, to: urlTo }, statsTo ?? 0),
    [urlRange, urlFrom, urlTo, statsTo],
  );
  const rangeText =
    url.from === null
      ? `the ${RANGE_LABELS[url.range ?? DEFAULT_RANGE].toLowerCase()}`
      : `${shortTime(statsRange.from, statsRange.to - statsRange.from)} → ${shortTime(statsRange.to, statsRange.to - statsRange.from)} UTC`;
  const shutdownQuery = useMemo(
    () => ({
      from: statsRange.from,
      to: statsRange.to,
      functionName: url.fn,
      version: url.version,
      reason: url.reason,
      tenant: url.tenant,
    }),
    [url.fn, url.version, url.reason, url.tenant, statsRange],
  );
  const showOnTimeline = useCallback(
    (env: string, from: number, to: number) =>
      setUrl({ view: 'timeline', env, req: null, from, to }),
    [setUrl],
  );

  // The timeline's window is the shared time range: panning writes it to the URL (and loads it); following live
  // returns to the relative range.
  // Zooming while following loads the relative range that holds the new window (detail once it is short).
  const onWindowChange = useCallback(
    (w: TimeWindow, follow: boolean) => {
      if (!follow) {
        setUrl({ from: Math.round(w.start), to: Math.round(w.end) });
        return;
      }
      const covering = rangeCovering(w.end - w.start);
      const current = urlRange ?? DEFAULT_RANGE;
      setUrl({ from: null, to: null, range: covering === current ? urlRange : covering });
    },
    [setUrl, urlRange],
  );
  const select = useCallback((env: string, req: string | null) => setUrl({ env, req }), [setUrl]);
  const setGroup = useCallback((group: RowGrouping) => setUrl({ group }), [setUrl]);
  const selectedLane = url.env ? (snapshot.lanes.get(url.env) ?? null) : null;

  // Escape closes the details panel from anywhere.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setUrl({ env: null, req: null });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setUrl]);

  const rangeValue = url.from === null ? (url.range ?? DEFAULT_RANGE) : 'custom';
  const empty = snapshot.lanes.size === 0;
  const progress = liveState.progress;
  const loading = live && progress !== null && !progress.done;
  // Until the range's first page is in, "no environments" would be a guess: say so only once the collector answered.
  const settled =
    !live ||
    progress !== null ||
    liveState.status === 'unauthorized' ||
    liveState.status === 'closed';

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
            <rect x="1" y="1" width="22" height="22" rx="6" fill="var(--accent)" />
            <path
              d="M4 13h4l2-5 3 9 2-4h5"
              fill="none"
              stroke="#fff"
              strokeWidth="2"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          Lifeline <small>execution environments, live</small>
        </div>
        <div className="tabs" role="tablist" aria-label="Views">
          {(
            [
              ['timeline', 'Timeline'],
              ['shutdowns', 'Shutdowns'],
              ['functions', 'Functions'],
            ] as const
          ).map(([view, label]) => (
            <button
              key={view}
              type="button"
              role="tab"
              aria-selected={url.view === view}
              onClick={() => setUrl({ view })}
            >
              {label}
            </button>
          ))}
        </div>
        <SearchBox
          initialQuery={url.q}
          onOpen={(match, q) =>
            setUrl({
              view: 'timeline',
              env: match.envId,
              req: match.requestId ?? null,
              ...matchWindow(match),
              q,
            })
          }
        />
        <span className="spacer" />
        {loading && (
          <span className="progress" aria-live="polite">
            Loading environments… {progress.loaded.toLocaleString('en-US')} of{' '}
            {progress.total.toLocaleString('en-US')}
          </span>
        )}
        <output
          className="conn"
          data-status={live ? liveState.status : 'closed'}
          aria-label={`Connection: ${live ? STATUS_TEXT[liveState.status] : 'offline'}`}
        >
          <span className="conn-dot" aria-hidden="true" />
          {live ? STATUS_TEXT[liveState.status] : 'Offline'}
        </output>
      </header>
      <search className="filters" aria-label="Filters">
        <label>
          Function
          <select
            value={url.fn ?? ''}
            onChange={(e) => setUrl({ fn: e.target.value || null, version: null })}
          >
            <option value="">All functions</option>
            {functions.names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Version
          <select
            value={url.version ?? ''}
            onChange={(e) => setUrl({ version: e.target.value || null })}
          >
            <option value="">All versions</option>
            {functions.versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        {functions.tenants.length > 0 && (
          <label>
            Tenant
            <select
              value={url.tenant ?? ''}
              onChange={(e) => setUrl({ tenant: e.target.value || null })}
            >
              <option value="">All tenants</option>
              {functions.tenants.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
        )}
        {url.view === 'timeline' && (
          <label>
            State
            <select
              value={url.states ?? ''}
              onChange={(e) => setUrl({ states: e.target.value || null })}
            >
              <option value="">All states</option>
              <option value="initializing,active,idle,shutting-down">Alive</option>
              {ENVIRONMENT_STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        )}
        {url.view === 'shutdowns' && (
          <label>
            Reason
            <select
              value={url.reason ?? ''}
              onChange={(e) => setUrl({ reason: e.target.value || null })}
            >
              <option value="">All reasons</option>
              <option value="spindown">spindown</option>
              <option value="timeout">timeout</option>
              <option value="failure">failure</option>
            </select>
          </label>
        )}
        <label>
          Time range
          <select
            value={rangeValue}
            onChange={(e) => {
              const name = e.target.value;
              if (!Object.hasOwn(RANGES, name)) return;
              setUrl({ range: name as RangeName, from: null, to: null });
            }}
          >
            {(Object.keys(RANGES) as RangeName[]).map((name) => (
              <option key={name} value={name}>
                {RANGE_LABELS[name]}
              </option>
            ))}
            {rangeValue === 'custom' && (
              <option value="custom">
                {shortTime(statsRange.from, statsRange.to - statsRange.from)} →{' '}
                {url.to !== null
                  ? shortTime(statsRange.to, statsRange.to - statsRange.from)
                  : 'now'}
              </option>
            )}
          </select>
        </label>
      </search>
      <main className="main">
        {empty && !settled ? (
          <div className="empty progress" role="status">
            Connecting to the collector…
          </div>
        ) : empty && !loading ? (
          <EmptyState collectorUrl={apiUrl('').replace(/\/$/, '')} />
        ) : url.view === 'timeline' ? (
          <TimelineView
            snapshot={snapshot}
            now={now}
            functionName={url.fn}
            version={url.version}
            tenant={url.tenant}
            group={url.group}
            onGroupChange={setGroup}
            states={states}
            from={url.from}
            to={url.to}
            spanMs={url.from === null ? RANGES[url.range ?? DEFAULT_RANGE] : null}
            selectedEnv={url.env}
            selectedReq={url.req}
            onSelect={select}
            onWindowChange={onWindowChange}
          />
        ) : url.view === 'shutdowns' ? (
          <ShutdownsView
            query={shutdownQuery}
            onOpen={(env) => select(env, null)}
            onShow={showOnTimeline}
          />
        ) : (
          <FunctionsView
            from={statsRange.from}
            to={statsRange.to}
            rangeText={rangeText}
            functionName={url.fn}
            tenant={url.tenant}
            onOpen={(fn) => setUrl({ fn, version: null, view: 'timeline' })}
          />
        )}
        {selectedLane && (
          <DetailsPanel
            lane={selectedLane}
            requestId={url.req}
            now={now}
            lanes={snapshot.lanes}
            onClose={() => setUrl({ env: null, req: null })}
            onSelectInvoke={(req) => setUrl({ req })}
            onSelectEnv={(env) => setUrl({ env, req: null })}
          />
        )}
      </main>
      {liveState.status === 'unauthorized' && (
        <TokenPrompt onSubmit={liveState.submitToken} retry={liveState.rejectedToken} />
      )}
    </div>
  );
}
