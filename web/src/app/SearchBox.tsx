import type { SearchMatch, SearchResult } from '@lifeline/protocol';
import { useEffect, useRef, useState } from 'react';
import { shortId } from '../timeline/invoke-labels.ts';
import { getJson } from './read-api.ts';
import './SearchBox.css';

/** Asks the collector for exact id matches (`/v1/search`). */
export type SearchFn = (q: string, signal: AbortSignal) => Promise<SearchResult>;

const searchCollector: SearchFn = (q, signal) => getJson<SearchResult>('/v1/search', { q }, signal);

const KIND_TEXT: Record<SearchMatch['kind'], string> = {
  request: 'Request',
  environment: 'Environment',
  sandbox: 'Sandbox',
  trace: 'Trace',
};

interface SearchBoxProps {
  /** The query from the URL: searched once when the page opens with it. */
  initialQuery: string | null;
  /** Opens a match: select it and bring it into view. */
  onOpen: (match: SearchMatch, query: string) => void;
  search?: SearchFn;
}

type Outcome =
  | { kind: 'idle' }
  | { kind: 'searching' }
  | { kind: 'none'; query: string }
  | { kind: 'many'; query: string; matches: readonly SearchMatch[] }
  | { kind: 'error'; message: string };

/**
 * Finds a request, environment, sandbox or trace id anywhere in the stored history. One match opens at once;
 * several are listed (a sandbox or trace id may name several environments or invokes).
 */
export function SearchBox({ initialQuery, onOpen, search = searchCollector }: SearchBoxProps) {
  const [text, setText] = useState(initialQuery ?? '');
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const controller = useRef<AbortController | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const onOpenRef = useRef(onOpen);
  onOpenRef.current = onOpen;

  const run = (raw: string) => {
    const query = raw.trim();
    controller.current?.abort();
    if (!query) {
      setOutcome({ kind: 'idle' });
      return;
    }
    const ctl = new AbortController();
    controller.current = ctl;
    setOutcome({ kind: 'searching' });
    search(query, ctl.signal).then(
      ({ matches }) => {
        if (ctl.signal.aborted) return;
        if (matches.length === 1) {
          setOutcome({ kind: 'idle' });
          onOpenRef.current(matches[0]!, query);
        } else if (matches.length === 0) setOutcome({ kind: 'none', query });
        else setOutcome({ kind: 'many', query, matches });
      },
      (err: unknown) => {
        if (!ctl.signal.aborted) setOutcome({ kind: 'error', message: (err as Error).message });
      },
    );
  };
  const runRef = useRef(run);
  runRef.current = run;

  // "/" jumps to the search box from anywhere but another field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (target?.closest('input, textarea, select, [contenteditable="true"]')) return;
      e.preventDefault();
      input.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // A shared link with ?q= searches once on open.
  useEffect(() => {
    if (initialQuery) runRef.current(initialQuery);
    return () => controller.current?.abort();
  }, [initialQuery]);

  return (
    <search className="search-box" aria-label="Find by ID">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(text);
        }}
      >
        <input
          ref={input}
          aria-keyshortcuts="/"
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setOutcome({ kind: 'idle' });
              e.stopPropagation();
            }
          }}
          placeholder="Find request, environment, sandbox or trace ID  ( / )"
          aria-label="Find a request, environment, sandbox or trace ID"
          spellCheck={false}
          autoComplete="off"
        />
      </form>
      {outcome.kind !== 'idle' && (
        <div className="search-results" role="status">
          {outcome.kind === 'searching' && <p>Searching…</p>}
          {outcome.kind === 'error' && <p>Search failed: {outcome.message}</p>}
          {outcome.kind === 'none' && (
            <p>
              No request, environment, sandbox or trace ID <b className="mono">{outcome.query}</b>{' '}
              in the stored history.
            </p>
          )}
          {outcome.kind === 'many' && (
            <>
              <p>{outcome.matches.length} matches</p>
              <ul>
                {outcome.matches.map((m) => (
                  <li key={`${m.kind}:${m.envId}:${m.requestId ?? ''}`}>
                    <button
                      type="button"
                      className="btn"
                      onClick={() => {
                        setOutcome({ kind: 'idle' });
                        onOpen(m, outcome.query);
                      }}
                    >
                      <span>{KIND_TEXT[m.kind]}</span>
                      <span className="mono">
                        {m.requestId ? shortId(m.requestId) : shortId(m.envId)}
                      </span>
                      <span>{m.functionName}</span>
                      <span className="sub">
                        {new Date(m.from).toISOString().slice(0, 19).replace('T', ' ')}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </search>
  );
}

/** The time range to show for a match: its own range, widened so a 100 ms invoke is not the whole axis. */
export function matchWindow(match: SearchMatch): { from: number; to: number } {
  const span = Math.max(match.to - match.from, 0);
  const shown = Math.max(span * 1.5, 30_000);
  const mid = match.from + span / 2;
  return { from: Math.round(mid - shown / 2), to: Math.round(mid + shown / 2) };
}
