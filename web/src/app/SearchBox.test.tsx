// @vitest-environment jsdom
import type { SearchMatch } from '@lifeline/protocol';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { matchWindow, SearchBox, type SearchFn } from './SearchBox.tsx';

afterEach(cleanup);

const match = (patch: Partial<SearchMatch>): SearchMatch => ({
  kind: 'request',
  envId: 'env-1',
  requestId: 'req-1',
  functionName: 'orders',
  from: 1_000_000,
  to: 1_000_120,
  ...patch,
});

function fakeSearch(byQuery: Record<string, SearchMatch[]>): { fn: SearchFn; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    fn: async (q) => {
      asked.push(q);
      return { matches: byQuery[q] ?? [] };
    },
  };
}

describe('SearchBox', () => {
  it('opens the only match at once when an id is submitted', async () => {
    const opened: SearchMatch[] = [];
    const { fn } = fakeSearch({ 'req-1': [match({})] });
    render(<SearchBox initialQuery={null} onOpen={(m) => opened.push(m)} search={fn} />);
    const input = screen.getByRole('searchbox');
    fireEvent.change(input, { target: { value: '  req-1 ' } });
    fireEvent.submit(input);
    await waitFor(() => expect(opened).toHaveLength(1));
    expect(opened[0]!.requestId).toBe('req-1');
  });

  it('lists several matches and opens the one chosen', async () => {
    const opened: SearchMatch[] = [];
    const { fn } = fakeSearch({
      'sb-1': [
        match({ kind: 'sandbox', envId: 'env-a', requestId: undefined }),
        match({ kind: 'sandbox', envId: 'env-b', requestId: undefined }),
      ],
    });
    render(<SearchBox initialQuery="sb-1" onOpen={(m) => opened.push(m)} search={fn} />);
    await screen.findByText('2 matches');
    fireEvent.click(screen.getByText('env-b'));
    expect(opened.map((m) => m.envId)).toEqual(['env-b']);
  });

  it('takes the focus when / is pressed outside another field', () => {
    const { fn } = fakeSearch({});
    render(<SearchBox initialQuery={null} onOpen={() => {}} search={fn} />);
    fireEvent.keyDown(document.body, { key: '/' });
    expect(document.activeElement).toBe(screen.getByRole('searchbox'));
  });

  it('says so when nothing matches', async () => {
    const { fn, asked } = fakeSearch({});
    render(<SearchBox initialQuery="nope" onOpen={() => {}} search={fn} />);
    await screen.findByText(/in the stored history/);
    expect(asked).toEqual(['nope']);
  });
});

describe('matchWindow', () => {
  it('widens a short invoke to at least 30 s around it', () => {
    const w = matchWindow(match({ from: 100_000, to: 100_200 }));
    expect(w.to - w.from).toBe(30_000);
    expect((w.from + w.to) / 2).toBe(100_100);
  });

  it('keeps a long lifetime in view with a margin', () => {
    const w = matchWindow(match({ from: 0, to: 600_000 }));
    expect(w.from).toBeLessThan(0);
    expect(w.to).toBeGreaterThan(600_000);
  });
});
