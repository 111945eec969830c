import {
  type ExampleLifecycleOptions,
  exampleLifecycle,
  type StoredEvent,
} from '@lifeline/protocol';

/** Wraps example lifecycles into StoredEvents with consecutive cursors, as the collector would commit them. */
export function storedLifecycles(
  lifecycles: readonly ExampleLifecycleOptions[],
  firstCursor = 1,
): StoredEvent[] {
  let cursor = firstCursor;
  return lifecycles.flatMap((options) =>
    exampleLifecycle(options).map((event) => ({
      cursor: cursor++,
      receivedAt: event.time + 5,
      event,
    })),
  );
}
