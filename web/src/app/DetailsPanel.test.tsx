// @vitest-environment jsdom
import type { EnvironmentDetail } from '@lifeline/protocol';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { TimelineBuilder } from '../timeline/timeline-builder.ts';
import { DetailsPanel, eventsSummary } from './DetailsPanel.tsx';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const events = storedLifecycles([
  {
    envId: 'env-details',
    functionName: 'orders',
    startAt: T0,
    invokes: 2,
    shutdownReason: 'spindown',
  },
  {
    envId: 'env-next',
    functionName: 'orders',
    startAt: T0 + 60_000,
    invokes: 1,
  },
]).map((s) =>
  s.event.type === 'register' && s.event.envId === 'env-next'
    ? { ...s, event: { ...s.event, previousEnvId: 'env-details', sandboxId: 'sb-1' } }
    : s,
);
const lanes = new TimelineBuilder().apply(events).lanes;
const lane = lanes.get('env-details')!;
/** The collector's answer for the environment, as `/v1/environments/:envId` gives it. */
const loadDetail = async () =>
  ({
    events: events.filter((s) => s.event.envId === 'env-details'),
  }) as unknown as EnvironmentDetail;
const noop = () => {};

afterEach(cleanup);

describe('DetailsPanel', () => {
  it('shows the invoke identifiers, timings and only its raw events when an invoke is selected', async () => {
    render(
      <DetailsPanel
        lane={lane}
        requestId="env-deta-req-1"
        now={T0 + 60_000}
        lanes={lanes}
        onClose={noop}
        onSelectInvoke={noop}
        onSelectEnv={noop}
        loadDetail={loadDetail}
      />,
    );
    expect(screen.getByRole('heading', { name: 'Invoke env-deta-req-1' })).toBeTruthy();
    expect(screen.getByText('arn:aws:lambda:eu-west-1:123456789012:function:orders')).toBeTruthy();
    expect(screen.getByText('Root=1-00000000-000000000000000000000001;Sampled=0')).toBeTruthy();
    const fact = (name: string) => screen.getByText(name).nextElementSibling?.textContent;
    expect(fact('Billed duration')).toBe('122 ms');
    expect(fact('Memory')).toBe('65 / 128 MB used');
    expect(fact('Headroom')).toBe('2.88 s (96.0 % left)');
    expect(screen.getByRole('link', { name: /Logs Insights/ }).getAttribute('href')).toContain(
      'env-deta-req-1',
    );
    fireEvent.click(screen.getByRole('button', { name: "Show this invoke's events" }));
    // invoke + platform.start + runtimeDone + report
    expect(await screen.findByText('Raw events (4)')).toBeTruthy();
  });

  it('shows the environment and all its raw events when no invoke is selected, and closes', async () => {
    const closed: boolean[] = [];
    render(
      <DetailsPanel
        lane={lane}
        requestId={null}
        now={T0 + 60_000}
        lanes={lanes}
        onClose={() => closed.push(true)}
        onSelectInvoke={noop}
        onSelectEnv={noop}
        loadDetail={loadDetail}
      />,
    );
    expect(screen.getByText('ended')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: `Show all ${lane.eventCount} events` }));
    expect(await screen.findByText(`Raw events (${lane.eventCount})`)).toBeTruthy();
    const json = JSON.parse(document.querySelector('pre')!.textContent!);
    expect(json).toHaveLength(lane.eventCount);
    fireEvent.click(screen.getByRole('button', { name: 'Close details' }));
    expect(closed).toEqual([true]);
  });

  it('lists the invokes newest first and opens one when clicked', () => {
    const picked: (string | null)[] = [];
    render(
      <DetailsPanel
        lane={lane}
        requestId={null}
        now={T0}
        lanes={lanes}
        onClose={noop}
        onSelectInvoke={(r) => picked.push(r)}
        onSelectEnv={noop}
        loadDetail={loadDetail}
      />,
    );
    const buttons = screen.getAllByRole('button', { name: /env-deta-req-/ });
    expect(buttons.map((b) => b.textContent)).toEqual([
      'env-deta-req-1success122 ms',
      'env-deta-req-0success122 ms',
    ]);
    fireEvent.click(buttons[0]!);
    expect(picked).toEqual(['env-deta-req-1']);
  });
});

describe('DetailsPanel sandbox chain', () => {
  it('names the environment that replaced this one and opens it', () => {
    const opened: string[] = [];
    render(
      <DetailsPanel
        lane={lane}
        requestId={null}
        now={T0 + 120_000}
        lanes={lanes}
        onClose={noop}
        onSelectInvoke={noop}
        onSelectEnv={(env) => opened.push(env)}
        loadDetail={loadDetail}
      />,
    );
    expect(screen.getByText('Replaces').nextElementSibling?.textContent).toBe('—');
    fireEvent.click(screen.getByRole('button', { name: 'env-next' }));
    expect(opened).toEqual(['env-next']);
  });
});

describe('eventsSummary', () => {
  it('counts seq gaps that no dropped record explains as missing', () => {
    expect(eventsSummary(lane)).toBe(`${lane.eventCount} received`);
    expect(eventsSummary({ ...lane, lastSeq: lane.lastSeq + 5, droppedEvents: 2 })).toBe(
      `${lane.eventCount} received · 2 dropped · 3 missing`,
    );
  });
});
