import { applyEvents, type StoredEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { invokeAt, invokeEnd, UNKNOWN_FUNCTION } from './lane-model.ts';
import { laneState, reasonKind } from './lane-state.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('TimelineBuilder', () => {
  it('derives init, invokes with late reports and the shutdown phase when given a whole lifecycle', () => {
    const events = storedLifecycles([
      {
        envId: 'env-a',
        startAt: T0,
        invokes: 3,
        durationMs: 100,
        gapMs: 1000,
        timeoutMs: 3000,
        shutdownReason: 'spindown',
        statusOf: (i) => (i === 1 ? 'error' : 'success'),
      },
    ]);
    const snap = new TimelineBuilder().apply(events);
    const lane = snap.lanes.get('env-a')!;
    expect(lane.functionName).toBe('example-fn');
    expect(lane.inits).toEqual([
      {
        phase: 'init',
        startAt: T0 - 30,
        runtimeDoneAt: T0 + 140,
        reportAt: T0 + 150,
        durationMs: 180,
        status: 'success',
      },
    ]);
    expect(lane.invokes.map((b) => b.status)).toEqual(['success', 'error', 'success']);
    expect(lane.invokes.every((b) => !b.reportPending)).toBe(true);
    const first = lane.invokes[0]!;
    expect(first.startAt).toBe(T0 + 180 + 1000);
    expect(invokeEnd(first)).toBe(first.startAt + 100);
    expect(first.headroomMs).toBe(2900);
    expect(first.billedDurationMs).toBe(102);
    expect(first.initDurationMs).toBe(180);
    expect(first.extensionOverheadMs).toBe(1.2);
    expect(lane.errorCount).toBe(1);
    expect(lane.shutdown).toMatchObject({ reason: 'spindown', shutdownMs: 35 });
    expect(lane.eventCount).toBe(events.length);
    expect(snap.invokeCount).toBe(3);
    expect(laneState(lane, T0 + 100_000)).toBe('ended');
  });

  it('shows an invoke as running with its report pending until platform records arrive', () => {
    const all = storedLifecycles([{ envId: 'env-b', startAt: T0, invokes: 1 }]);
    const builder = new TimelineBuilder();
    const invokeAt = all.findIndex((e) => e.event.type === 'invoke');
    let snap = builder.apply(all.slice(0, invokeAt + 1));
    let bar = snap.lanes.get('env-b')!.invokes[0]!;
    expect(bar.status).toBe('running');
    expect(bar.reportPending).toBe(true);
    expect(bar.headroomMs).toBeNull();
    expect(laneState(snap.lanes.get('env-b')!, T0 + 1500)).toBe('active');
    snap = builder.apply(all.slice(invokeAt + 1));
    bar = snap.lanes.get('env-b')!.invokes[0]!;
    expect(bar.status).toBe('success');
    // lateReports: the last report only comes with the next invoke or shutdown.
    expect(bar.reportPending).toBe(true);
    expect(laneState(snap.lanes.get('env-b')!, T0 + 5000)).toBe('idle');
  });

  it('ignores events at or below the last cursor when a replay overlaps', () => {
    const events = storedLifecycles([{ envId: 'env-c', startAt: T0, invokes: 2 }]);
    const builder = new TimelineBuilder();
    builder.apply(events);
    const again = builder.apply(events);
    expect(again.revision).toBe(1);
    expect(again.lanes.get('env-c')!.invokes).toHaveLength(2);
    expect(again.eventCount).toBe(events.length);
  });

  it('keeps untouched lanes identical and replaces touched ones when a batch arrives', () => {
    const events = storedLifecycles([
      { envId: 'env-1', startAt: T0, invokes: 2 },
      { envId: 'env-2', startAt: T0, invokes: 2 },
    ]);
    const builder = new TimelineBuilder();
    const split = events.findIndex((e) => e.event.envId === 'env-2');
    const first = builder.apply(events.slice(0, split + 3));
    const lane1 = first.lanes.get('env-1');
    const lane2 = first.lanes.get('env-2');
    const second = builder.apply(events.slice(split + 3));
    expect(second.lanes.get('env-1')).toBe(lane1);
    expect(second.lanes.get('env-2')).not.toBe(lane2);
    expect(lane2!.invokes).toHaveLength(0);
    expect(second.lanes.get('env-2')!.invokes).toHaveLength(2);
  });

  it('creates an unregistered lane and fills it in when the register event arrives late', () => {
    const events = storedLifecycles([{ envId: 'env-d', startAt: T0, invokes: 1 }]);
    const register = events[0]!;
    const rest = events.slice(1).map((e, i) => ({ ...e, cursor: i + 1 }));
    const builder = new TimelineBuilder();
    let snap = builder.apply(rest);
    expect(snap.lanes.get('env-d')!.functionName).toBe(UNKNOWN_FUNCTION);
    snap = builder.apply([{ ...register, cursor: rest.length + 1 }]);
    expect(snap.lanes.get('env-d')!.functionName).toBe('example-fn');
    expect(snap.lanes.get('env-d')!.registered).toBe(true);
  });

  it('sorts a bar first seen through platform.start when its INVOKE arrives later', () => {
    const mk = (cursor: number, event: StoredEvent['event']): StoredEvent => ({
      cursor,
      receivedAt: 0,
      event,
    });
    const base = { envId: 'e', time: T0 };
    const snap = new TimelineBuilder().apply([
      mk(1, {
        ...base,
        id: 'e:0',
        seq: 0,
        type: 'platform',
        recordType: 'platform.start',
        recordTime: T0 + 500,
        record: { requestId: 'r2' },
      }),
      mk(2, {
        ...base,
        id: 'e:1',
        seq: 1,
        type: 'platform',
        recordType: 'platform.start',
        recordTime: T0 + 900,
        record: { requestId: 'r3' },
      }),
      mk(3, {
        ...base,
        id: 'e:2',
        seq: 2,
        type: 'invoke',
        time: T0 + 1000,
        requestId: 'r2',
        deadlineMs: T0 + 4000,
        invokedFunctionArn: 'arn',
      }),
    ]);
    expect(snap.lanes.get('e')!.invokes.map((b) => b.requestId)).toEqual(['r3', 'r2']);
  });

  it('counts timeouts and flags small headroom when an invoke runs into its deadline', () => {
    const snap = new TimelineBuilder().apply(
      storedLifecycles([
        {
          envId: 'env-t',
          startAt: T0,
          invokes: 2,
          timeoutMs: 1000,
          statusOf: (i) => (i === 1 ? 'timeout' : 'success'),
          lateReports: false,
          shutdownReason: 'timeout',
        },
      ]),
    );
    const lane = snap.lanes.get('env-t')!;
    expect(lane.timeoutCount).toBe(1);
    expect(lane.invokes[1]!.headroomMs).toBe(0);
    expect(lane.invokes[1]!.errorType).toBe('Sandbox.Timeout');
  });
});

describe('laneState', () => {
  it('reports initializing, shutting down and lost when the events say so', () => {
    const events = storedLifecycles([
      { envId: 'e1', startAt: T0, invokes: 0 },
      { envId: 'e2', startAt: T0, invokes: 1, shutdownReason: 'spindown' },
    ]);
    const register = events.filter((e) => e.event.envId === 'e1').slice(0, 1);
    const lostAfterMs = 60_000;
    const builder = new TimelineBuilder(lostAfterMs);
    const snap1 = builder.apply(register);
    const receivedAt = register[0]!.receivedAt;
    // `now` is the collector's clock, compared with receive times only.
    expect(laneState(snap1.lanes.get('e1')!, receivedAt + 10)).toBe('initializing');
    expect(laneState(snap1.lanes.get('e1')!, receivedAt + lostAfterMs + 1)).toBe('lost');
    expect(laneState(new TimelineBuilder().apply(register).lanes.get('e1')!, T0 + 1e12)).toBe(
      'initializing',
    );
    const withoutExit = events.filter((e) => e.event.envId === 'e2' && e.event.type !== 'exit');
    const snap2 = new TimelineBuilder(lostAfterMs).apply(withoutExit);
    const lane = snap2.lanes.get('e2')!;
    const shutdownReceived = withoutExit.find((e) => e.event.type === 'shutdown')!.receivedAt;
    const budget = lane.shutdown!.deadlineMs - lane.shutdown!.receivedAt;
    expect(laneState(lane, shutdownReceived + 10)).toBe('shutting-down');
    expect(laneState(lane, shutdownReceived + budget + 1)).toBe('ended');
  });
});

describe('reasonKind', () => {
  it('folds RIE spellings and case when classifying reasons', () => {
    expect(reasonKind('SPINDOWN')).toBe('spindown');
    expect(reasonKind('SandboxTerminated')).toBe('spindown');
    expect(reasonKind('Timeout')).toBe('timeout');
    expect(reasonKind('ReleaseFail')).toBe('failure');
    expect(reasonKind('weird')).toBe('other');
  });
});

describe('invokeAt', () => {
  it('finds the bar under a time, with slack for thin bars, and nothing in a gap', () => {
    const lane = new TimelineBuilder()
      .apply(
        storedLifecycles([{ envId: 'h', startAt: T0, invokes: 3, durationMs: 100, gapMs: 1000 }]),
      )
      .lanes.get('h')!;
    const [a, b] = lane.invokes;
    expect(invokeAt(lane.invokes, a!.startAt + 50, 0)?.requestId).toBe(a!.requestId);
    expect(invokeAt(lane.invokes, a!.startAt + 104, 5)?.requestId).toBe(a!.requestId);
    expect(invokeAt(lane.invokes, a!.startAt + 500, 5)).toBeNull();
    expect(invokeAt(lane.invokes, b!.startAt - 3, 5)?.requestId).toBe(b!.requestId);
    expect(invokeAt([], T0, 5)).toBeNull();
  });
});

describe('TimelineBuilder with window pages', () => {
  it('follows live from a page without a gap or a duplicate, per environment cursor', () => {
    const events = storedLifecycles([
      { envId: 'env-w', startAt: T0, invokes: 3 },
      { envId: 'env-v', startAt: T0, invokes: 2 },
    ]);
    const whole = new TimelineBuilder().apply(events);
    // Page 1 was read at head 8; env-w's row was read a little later, when it covered its first 10 events.
    const head = 8;
    const wEvents = events.filter((e) => e.event.envId === 'env-w');
    const covered = wEvents.slice(0, 10);
    const cursor = covered[covered.length - 1]!.cursor;
    // What the collector's rows hold at that point, derived by the shared fold.
    const rows = applyEvents(
      undefined,
      covered.map((e) => e.event),
      covered.map((e) => e.receivedAt),
    );
    const builder = new TimelineBuilder();
    builder.load([{ cursor, env: rows.env, invocations: [...rows.invocations.values()] }], head);
    // Live follows from the head: everything after it, including env-w's events already in the page row.
    const snap = builder.apply(events.filter((e) => e.cursor > head));
    expect(snap.lanes.get('env-w')!.facts).toEqual(whole.lanes.get('env-w')!.facts);
    expect(snap.lanes.get('env-w')!.eventCount).toBe(wEvents.length);
    expect(snap.lanes.get('env-w')!.invokes).toEqual(whole.lanes.get('env-w')!.invokes);
    expect(snap.lanes.get('env-v')!.facts).toEqual(whole.lanes.get('env-v')!.facts);
  });

  it('calls an unknown platform status an error and the shut-down last invoke a timeout, like the collector', () => {
    const mk = (cursor: number, event: StoredEvent['event']): StoredEvent => ({
      cursor,
      receivedAt: T0 + cursor,
      event,
    });
    const base = { envId: 'e' };
    const snap = new TimelineBuilder().apply([
      mk(1, {
        ...base,
        id: 'e:0',
        seq: 0,
        time: T0,
        type: 'register',
        functionName: 'fn',
        functionVersion: '1',
        handler: 'h',
        memorySizeMb: 128,
        architecture: 'x86_64',
        initializationType: 'on-demand',
        extensionName: 'lifeline',
        extensionVersion: '0.1.0',
        startToRegisteredMs: 1,
      }),
      mk(2, {
        ...base,
        id: 'e:1',
        seq: 1,
        time: T0 + 10,
        type: 'invoke',
        requestId: 'r0',
        deadlineMs: T0 + 3000,
        invokedFunctionArn: 'arn',
      }),
      mk(3, {
        ...base,
        id: 'e:2',
        seq: 2,
        time: T0 + 20,
        type: 'platform',
        recordType: 'platform.runtimeDone',
        recordTime: T0 + 20,
        record: { requestId: 'r0', status: 'Weird' },
      }),
      mk(4, {
        ...base,
        id: 'e:3',
        seq: 3,
        time: T0 + 30,
        type: 'invoke',
        requestId: 'r1',
        deadlineMs: T0 + 3030,
        invokedFunctionArn: 'arn',
      }),
      mk(5, {
        ...base,
        id: 'e:4',
        seq: 4,
        time: T0 + 3100,
        type: 'shutdown',
        shutdownReason: 'timeout',
        deadlineMs: T0 + 5100,
      }),
    ]);
    const lane = snap.lanes.get('e')!;
    expect(lane.invokes.map((bar) => [bar.requestId, bar.status])).toEqual([
      ['r0', 'error'],
      ['r1', 'timeout'],
    ]);
    expect([lane.errorCount, lane.timeoutCount]).toEqual([1, 1]);
  });
});

describe('TimelineBuilder.forgetBefore', () => {
  it('forgets what ended before the range and old invokes, keeps alive environments and each last invoke', () => {
    const events = storedLifecycles([
      { envId: 'gone', startAt: T0, invokes: 1, shutdownReason: 'spindown' },
      { envId: 'idle', startAt: T0, invokes: 3, gapMs: 1000 },
    ]);
    const builder = new TimelineBuilder(60_000);
    builder.apply(events);
    const idle = builder.snapshot.lanes.get('idle')!;
    const from = idle.invokes[2]!.startAt - 1;
    // Collector time right after the events: nothing is lost yet.
    const now = events[events.length - 1]!.receivedAt + 1;
    const snap = builder.forgetBefore(from, now);
    expect([...snap.lanes.keys()]).toEqual(['idle']);
    expect(snap.lanes.get('idle')!.invokes.map((bar) => bar.requestId)).toEqual([
      idle.invokes[2]!.requestId,
    ]);
    expect(snap.invokeCount).toBe(1);
    // Lost (silent past lost-after) and quiet since the range start: forgotten too.
    expect(builder.forgetBefore(idle.lastActivityAt + 1, now + 60_001).lanes.size).toBe(0);
  });
});
