import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { EventStore } from './event-store.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function manualStore() {
  const pending: (() => void)[] = [];
  const store = new EventStore({ schedule: (flush) => pending.push(flush) });
  return {
    store,
    frame: () => {
      for (const f of pending.splice(0)) f();
    },
    pending,
  };
}

describe('EventStore', () => {
  it('batches appends into one snapshot per frame when many arrive together', () => {
    const { store, frame, pending } = manualStore();
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 3 }]);
    let notified = 0;
    store.subscribe(() => notified++);
    store.append(events.slice(0, 4));
    store.append(events.slice(4));
    expect(pending).toHaveLength(1);
    expect(store.getSnapshot().eventCount).toBe(0);
    expect(store.lastCursor).toBe(events.length);
    frame();
    expect(notified).toBe(1);
    expect(store.getSnapshot().eventCount).toBe(events.length);
    expect(store.getSnapshot().lanes.get('a')!.invokes).toHaveLength(3);
  });

  it('keeps the snapshot identical and does not notify when only duplicates arrive', () => {
    const { store, frame } = manualStore();
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 1 }]);
    store.append(events);
    frame();
    const before = store.getSnapshot();
    let notified = 0;
    store.subscribe(() => notified++);
    store.append(events);
    frame();
    expect(store.getSnapshot()).toBe(before);
    expect(notified).toBe(0);
  });

  it('forgets everything and accepts low cursors again when reset', () => {
    const { store, frame } = manualStore();
    store.append(storedLifecycles([{ envId: 'old', startAt: T0, invokes: 2 }]));
    frame();
    let notified = 0;
    store.subscribe(() => notified++);
    store.reset();
    expect(notified).toBe(1);
    expect(store.lastCursor).toBe(0);
    expect(store.getSnapshot().lanes.size).toBe(0);
    // A new history starts at cursor 1 again: it must be applied, not dropped as already seen.
    store.append(storedLifecycles([{ envId: 'new', startAt: T0, invokes: 1 }]));
    frame();
    expect([...store.getSnapshot().lanes.keys()]).toEqual(['new']);
  });

  it('stops notifying a listener when it unsubscribes', () => {
    const { store, frame } = manualStore();
    let notified = 0;
    const off = store.subscribe(() => notified++);
    off();
    store.append(storedLifecycles([{ envId: 'a', startAt: T0 }]));
    frame();
    expect(notified).toBe(0);
  });

  it('applies 100,000 invokes across 1,000 environments incrementally when fed in live-sized batches', () => {
    const { store, frame } = manualStore();
    const events = storedLifecycles(
      Array.from({ length: 1000 }, (_, i) => ({
        envId: `env-${i}`,
        startAt: T0 + i,
        invokes: 100,
      })),
    );
    for (let i = 0; i < events.length; i += 5000) {
      store.append(events.slice(i, i + 5000));
      frame();
    }
    const snap = store.getSnapshot();
    expect(snap.invokeCount).toBe(100_000);
    expect(snap.lanes.size).toBe(1000);
    // A small live batch touches one lane only.
    const lanesBefore = snap.lanes;
    const extra = storedLifecycles(
      [{ envId: 'env-new', startAt: T0, invokes: 1 }],
      events.length + 1,
    );
    store.append(extra);
    frame();
    const after = store.getSnapshot();
    expect(after.lanes.get('env-5')).toBe(lanesBefore.get('env-5'));
    expect(after.invokeCount).toBe(100_001);
  });
});

describe('EventStore.setNotifyInterval', () => {
  it('publishes at most once per interval during a replay and at once when set back to 0', async () => {
    const pending: (() => void)[] = [];
    const store = new EventStore({ schedule: (flush) => pending.push(flush) });
    const frame = () => {
      for (const f of pending.splice(0)) f();
    };
    let notified = 0;
    store.subscribe(() => notified++);
    store.setNotifyInterval(60_000);
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 3 }]);
    store.append(events.slice(0, 3));
    frame();
    expect(notified).toBe(1);
    store.append(events.slice(3, 6));
    frame();
    store.append(events.slice(6));
    frame();
    expect(notified).toBe(1);
    // The model advanced even though subscribers were not told yet.
    expect(store.getSnapshot().eventCount).toBe(events.length);
    store.setNotifyInterval(0);
    expect(notified).toBe(2);
  });
});
