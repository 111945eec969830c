import {
  type EnvironmentDetail,
  type InvocationDisplayStatus,
  initBilling,
  type StoredEvent,
} from '@lifeline/protocol';
import { type ReactNode, useEffect, useState } from 'react';
import { startKind } from '../timeline/hover-facts.ts';
import { barStatus, type EnvLane, type InvokeBar, invokeEnd } from '../timeline/lane-model.ts';
import { laneState } from '../timeline/lane-state.ts';
import { formatDuration } from '../timeline/time-scale.ts';
import { logsInsightsUrl, requestLogsQuery, xrayTraceUrl } from './aws-links.ts';
import { getJson } from './read-api.ts';
import './DetailsPanel.css';

/** Reads one environment's stored events (`/v1/environments/:envId`). */
export type LoadDetail = (envId: string, signal: AbortSignal) => Promise<EnvironmentDetail>;

const loadFromCollector: LoadDetail = (envId, signal) =>
  getJson<EnvironmentDetail>(`/v1/environments/${encodeURIComponent(envId)}`, {}, signal);

/** Logs Insights looks this far around the invoke (log lines carry their own, slightly different, timestamps). */
const LOGS_MARGIN_MS = 5 * 60_000;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function iso(t: number | null | undefined): string {
  return t === null || t === undefined
    ? '—'
    : new Date(t).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function eventsOf(all: readonly StoredEvent[], requestId: string | null): readonly StoredEvent[] {
  if (!requestId) return all;
  return all.filter((s) => {
    const e = s.event;
    if (e.type === 'invoke') return e.requestId === requestId;
    if (e.type === 'platform' && typeof e.record === 'object' && e.record !== null) {
      return (e.record as { requestId?: unknown }).requestId === requestId;
    }
    return false;
  });
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard needs a secure context; fall back to a selection copy.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand?.('copy') ?? false;
    area.remove();
    return ok;
  }
}

interface DetailsPanelProps {
  lane: EnvLane;
  requestId: string | null;
  /** Collector clock, for the state rule. */
  now: number;
  /** The loaded environments, to name the one that replaced this one. */
  lanes: ReadonlyMap<string, EnvLane>;
  onClose: () => void;
  onSelectInvoke: (requestId: string | null) => void;
  onSelectEnv: (envId: string) => void;
  loadDetail?: LoadDetail;
}

/**
 * The selected environment or invoke: identifiers, timings, links to its X-Ray trace and CloudWatch logs, and the
 * raw events (read from the collector on request) as copyable JSON.
 */
export function DetailsPanel({
  lane,
  requestId,
  now,
  lanes,
  onClose,
  onSelectInvoke,
  onSelectEnv,
  loadDetail = loadFromCollector,
}: DetailsPanelProps) {
  const bar = requestId ? (lane.invokes.find((b) => b.requestId === requestId) ?? null) : null;
  let replacedBy: string | null = null;
  for (const other of lanes.values()) {
    if (other.previousEnvId === lane.envId) replacedBy = other.envId;
  }
  return (
    <aside className="details" aria-label="Details">
      <header>
        <h2 title={bar ? bar.requestId : lane.envId}>
          {bar ? `Invoke ${bar.requestId}` : `Environment ${lane.envId}`}
        </h2>
        {bar && (
          <button type="button" className="btn" onClick={() => onSelectInvoke(null)}>
            Environment
          </button>
        )}
        <button type="button" className="btn" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      <div className="body">
        {bar ? (
          <>
            <InvokeFacts bar={bar} status={barStatus(bar, lane, now)} />
            <InvokeLinks lane={lane} bar={bar} />
          </>
        ) : (
          <>
            <LaneFacts lane={lane} now={now} replacedBy={replacedBy} onSelectEnv={onSelectEnv} />
            <InvokeList lane={lane} onSelect={onSelectInvoke} />
          </>
        )}
        <RawEvents
          key={`${lane.envId}/${bar?.requestId ?? ''}`}
          lane={lane}
          requestId={bar ? bar.requestId : null}
          loadDetail={loadDetail}
        />
      </div>
    </aside>
  );
}

/** The stored events of the environment (or of the invoke), read from the collector when asked for. */
function RawEvents({
  lane,
  requestId,
  loadDetail,
}: {
  lane: EnvLane;
  requestId: string | null;
  loadDetail: LoadDetail;
}) {
  const [asked, setAsked] = useState(false);
  const [loaded, setLoaded] = useState<readonly StoredEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!asked) return;
    const controller = new AbortController();
    loadDetail(lane.envId, controller.signal).then(
      (detail) => setLoaded(detail.events),
      (err: unknown) => {
        if (!controller.signal.aborted) setError((err as Error).message);
      },
    );
    return () => controller.abort();
  }, [asked, lane.envId, loadDetail]);
  if (!asked) {
    return (
      <h3>
        Raw events
        <button type="button" className="btn" onClick={() => setAsked(true)}>
          {requestId ? "Show this invoke's events" : `Show all ${lane.eventCount} events`}
        </button>
      </h3>
    );
  }
  if (error) return <p className="sub">Raw events unavailable: {error}</p>;
  if (!loaded) return <p className="sub">Loading raw events…</p>;
  const events = eventsOf(loaded, requestId);
  const json = JSON.stringify(events, null, 2);
  return (
    <>
      <h3>
        Raw events ({events.length})
        <button
          type="button"
          className="btn"
          onClick={async () => {
            setCopied(await copyText(json));
            setTimeout(() => setCopied(false), 1500);
          }}
        >
          {copied ? 'Copied' : 'Copy JSON'}
        </button>
      </h3>
      <pre>{json.length > 200_000 ? `${json.slice(0, 200_000)}\n…` : json}</pre>
    </>
  );
}

/** Where to go next from an invoke: its X-Ray trace and a Logs Insights query for its request id. */
function InvokeLinks({ lane, bar }: { lane: EnvLane; bar: InvokeBar }) {
  const region = lane.region;
  if (!region) {
    return (
      <p className="sub">
        No region recorded for this environment: no links to X-Ray or CloudWatch.
      </p>
    );
  }
  const trace = bar.traceId ? xrayTraceUrl(region, bar.traceId) : null;
  const end = invokeEnd(bar) ?? bar.deadlineMs ?? bar.startAt;
  const logs = logsInsightsUrl({
    region,
    functionName: lane.functionName,
    requestId: bar.requestId,
    from: bar.startAt - LOGS_MARGIN_MS,
    to: end + LOGS_MARGIN_MS,
  });
  return (
    <div className="deep-links">
      <a className="btn" href={logs} target="_blank" rel="noopener noreferrer">
        CloudWatch Logs Insights ↗
      </a>
      {trace ? (
        <a className="btn" href={trace} target="_blank" rel="noopener noreferrer">
          X-Ray trace ↗
        </a>
      ) : (
        <span className="sub">No X-Ray trace id</span>
      )}
      <details>
        <summary>Logs Insights query</summary>
        <pre>{`# log group /aws/lambda/${lane.functionName}${lane.accountId ? `, account ${lane.accountId}` : ''}\n${requestLogsQuery(bar.requestId)}`}</pre>
      </details>
    </div>
  );
}

/** An environment id that opens it. */
function EnvLink({ envId, onSelect }: { envId: string | null; onSelect: (envId: string) => void }) {
  if (!envId) return <>—</>;
  return (
    <button type="button" className="link mono" onClick={() => onSelect(envId)}>
      {envId}
    </button>
  );
}

/** Label, value, and whether the value is an identifier (monospace). */
type Fact = readonly [string, ReactNode, 'mono'?];

function Facts({ items }: { items: readonly Fact[] }) {
  return (
    <dl className="kv">
      {items.map(([k, v, mono]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{k}</dt>
          <dd className={mono}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function InvokeFacts({ bar, status }: { bar: InvokeBar; status: InvocationDisplayStatus }) {
  const end = invokeEnd(bar);
  const budget = bar.deadlineMs !== null ? bar.deadlineMs - bar.startAt : null;
  return (
    <Facts
      items={[
        ['Request ID', bar.requestId, 'mono'],
        [
          'Status',
          `${status === 'awaiting-report' ? 'awaiting report' : status}${bar.errorType ? ` (${bar.errorType})` : ''}${bar.reportPending && status !== 'awaiting-report' ? ' · report pending' : ''}`,
        ],
        [
          'Response',
          bar.responseLatencyMs !== null && bar.responseDurationMs !== null
            ? `streamed: first byte after ${formatDuration(bar.responseLatencyMs)}, streaming ${formatDuration(bar.responseDurationMs)}`
            : 'buffered',
        ],
        ['Function ARN', bar.invokedFunctionArn ?? '—', 'mono'],
        ['Trace ID', bar.traceId ?? '—', 'mono'],
        ['Started', iso(bar.startAt)],
        ['Runtime done', iso(end)],
        [
          'Deadline',
          `${iso(bar.deadlineMs)}${budget !== null ? ` (${formatDuration(budget)} budget)` : ''}`,
        ],
        [
          'Headroom',
          bar.headroomMs !== null && budget
            ? `${formatDuration(bar.headroomMs)} (${((bar.headroomMs / budget) * 100).toFixed(1)} % left)`
            : '—',
        ],
        ['Duration', formatDuration(bar.durationMs)],
        ['Billed duration', formatDuration(bar.billedDurationMs)],
        [
          'Memory',
          bar.memorySizeMb !== null
            ? `${bar.maxMemoryUsedMb ?? '—'} / ${bar.memorySizeMb} MB used`
            : '—',
        ],
        ['Init duration', formatDuration(bar.initDurationMs)],
        ['Extension overhead', formatDuration(bar.extensionOverheadMs)],
      ]}
    />
  );
}

/** Received, dropped (reported by the extension) and missing (seq gaps nothing explains). */
export function eventsSummary(lane: EnvLane): string {
  const missing = Math.max(0, lane.lastSeq + 1 - lane.eventCount - lane.droppedEvents);
  const parts = [`${lane.eventCount} received`];
  if (lane.droppedEvents) parts.push(`${lane.droppedEvents} dropped`);
  if (missing) parts.push(`${missing} missing`);
  return parts.join(' · ');
}

const INVOKE_LIST_LIMIT = 50;

/** The newest invokes of the environment, each a button that opens it (the keyboard path to any invoke). */
function InvokeList({ lane, onSelect }: { lane: EnvLane; onSelect: (requestId: string) => void }) {
  const recent = lane.invokes.slice(-INVOKE_LIST_LIMIT).reverse();
  if (recent.length === 0) return null;
  return (
    <>
      <h3>
        Invokes ({lane.invokes.length}
        {lane.invokes.length > INVOKE_LIST_LIMIT ? `, newest ${INVOKE_LIST_LIMIT}` : ''})
      </h3>
      <ul className="invoke-list">
        {recent.map((b) => (
          <li key={b.requestId}>
            <button type="button" className="btn" onClick={() => onSelect(b.requestId)}>
              <span className="mono ellipsis">{b.requestId}</span>
              <span className="status-pill" data-status={b.status}>
                {b.status}
              </span>
              <span>{formatDuration(b.durationMs ?? (invokeEnd(b) ?? b.startAt) - b.startAt)}</span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

/** The billed INIT duration (billed for on-demand inits since August 2025) and the extension's part of it. */
function initBilledText(lane: EnvLane): string {
  const billing = initBilling(lane.facts);
  if (billing.billedMs === null) return 'not billed as INIT';
  const share =
    billing.extensionMs !== null && billing.extensionSharePct !== null
      ? ` · extension ${formatDuration(billing.extensionMs)} (${billing.extensionSharePct.toFixed(1)} %)`
      : '';
  return `${formatDuration(billing.billedMs)}${share}`;
}

function LaneFacts({
  lane,
  now,
  replacedBy,
  onSelectEnv,
}: {
  lane: EnvLane;
  now: number;
  replacedBy: string | null;
  onSelectEnv: (envId: string) => void;
}) {
  const init = lane.inits[0];
  const sd = lane.shutdown;
  const state = laneState(lane, now);
  const silent = state === 'idle' || state === 'lost';
  return (
    <Facts
      items={[
        ['Environment', lane.envId, 'mono'],
        ['State', silent ? `${state} · silent since ${iso(lane.lastActivityAt)}` : state],
        [
          'Function',
          `${lane.functionName}${lane.functionVersion ? ` · ${lane.functionVersion}` : ''}`,
        ],
        [
          'Runtime',
          `${lane.runtime ?? '—'} · ${lane.architecture ?? '—'} · ${lane.memorySizeMb ?? '—'} MB`,
        ],
        ['Region / account', `${lane.region ?? '—'} / ${lane.accountId ?? '—'}`],
        ['Started by', startKind(lane)],
        ['Tenant', lane.tenantId ?? '—', 'mono'],
        ['Init billed', initBilledText(lane)],
        ['Sandbox', lane.sandboxId ?? '—', 'mono'],
        ['Replaces', <EnvLink key="p" envId={lane.previousEnvId} onSelect={onSelectEnv} />],
        ['Replaced by', <EnvLink key="n" envId={replacedBy} onSelect={onSelectEnv} />],
        ['Registered', iso(lane.registeredAt)],
        ['Init', init ? `${formatDuration(init.durationMs)} · ${init.status ?? 'running'}` : '—'],
        [
          'Invokes',
          `${lane.invokeCount} · ${plural(lane.errorCount, 'error')} · ${plural(lane.timeoutCount, 'timeout')}`,
        ],
        ['Shutdown', sd ? `${sd.reason} at ${iso(sd.receivedAt)}` : '—'],
        [
          'Shutdown phase',
          sd
            ? `${formatDuration(sd.shutdownMs)} of ${formatDuration(sd.deadlineMs - sd.receivedAt)} budget`
            : '—',
        ],
        ['Events', eventsSummary(lane)],
      ]}
    />
  );
}
