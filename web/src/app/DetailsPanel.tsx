import type { StoredEvent } from '@lifeline/protocol';
import { useState } from 'react';
import { type EnvLane, type InvokeBar, invokeEnd } from '../timeline/lane-model.ts';
import { laneState } from '../timeline/lane-state.ts';
import { formatDuration } from '../timeline/time-scale.ts';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function iso(t: number | null | undefined): string {
  return t === null || t === undefined
    ? '—'
    : new Date(t).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function eventsOf(lane: EnvLane, requestId: string | null): StoredEvent[] {
  const all = lane.events.slice(0, lane.eventCount);
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
  now: number;
  onClose: () => void;
  onSelectInvoke: (requestId: string | null) => void;
}

/** The selected environment or invoke: identifiers, timings, and the raw events as copyable JSON. */
export function DetailsPanel({ lane, requestId, now, onClose, onSelectInvoke }: DetailsPanelProps) {
  const [copied, setCopied] = useState(false);
  const bar = requestId ? (lane.invokes.find((b) => b.requestId === requestId) ?? null) : null;
  const events = eventsOf(lane, bar ? bar.requestId : null);
  const json = JSON.stringify(events, null, 2);
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
          <InvokeFacts bar={bar} />
        ) : (
          <>
            <LaneFacts lane={lane} now={now} />
            <InvokeList lane={lane} onSelect={onSelectInvoke} />
          </>
        )}
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
      </div>
    </aside>
  );
}

/** Label, value, and whether the value is an identifier (monospace). */
type Fact = readonly [string, string, 'mono'?];

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

function InvokeFacts({ bar }: { bar: InvokeBar }) {
  const end = invokeEnd(bar);
  const budget = bar.deadlineMs !== null ? bar.deadlineMs - bar.startAt : null;
  return (
    <Facts
      items={[
        ['Request ID', bar.requestId, 'mono'],
        [
          'Status',
          `${bar.status}${bar.errorType ? ` (${bar.errorType})` : ''}${bar.reportPending ? ' · report pending' : ''}`,
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

function LaneFacts({ lane, now }: { lane: EnvLane; now: number }) {
  const init = lane.inits[0];
  const sd = lane.shutdown;
  return (
    <Facts
      items={[
        ['Environment', lane.envId, 'mono'],
        ['State', laneState(lane, now)],
        [
          'Function',
          `${lane.functionName}${lane.functionVersion ? ` · ${lane.functionVersion}` : ''}`,
        ],
        [
          'Runtime',
          `${lane.runtime ?? '—'} · ${lane.architecture ?? '—'} · ${lane.memorySizeMb ?? '—'} MB`,
        ],
        ['Region / account', `${lane.region ?? '—'} / ${lane.accountId ?? '—'}`],
        ['Init type', lane.initializationType ?? '—'],
        ['Sandbox', lane.sandboxId ?? '—', 'mono'],
        ['Replaces', lane.previousEnvId ?? '—', 'mono'],
        ['Registered', iso(lane.registeredAt)],
        ['Init', init ? `${formatDuration(init.durationMs)} · ${init.status ?? 'running'}` : '—'],
        [
          'Invokes',
          `${lane.invokes.length} · ${plural(lane.errorCount, 'error')} · ${plural(lane.timeoutCount, 'timeout')}`,
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
