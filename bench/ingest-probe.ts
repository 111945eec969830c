/**
 * Sequential one-event ingest POSTs from a process of their own, the way an extension sends them: the latency
 * measured is the collector's, not that of a bench process whose event loop also drives ten browser pages.
 * Run with fork(): argv is the collector's URL, the number of POSTs and a tag for their ids; the milliseconds of
 * each POST (request sent → answer read) go back as one IPC message.
 */
import type { LifelineEvent } from '@lifeline/protocol';

const [base, countText, tag] = process.argv.slice(2);
if (
  base === undefined ||
  countText === undefined ||
  tag === undefined ||
  process.send === undefined
) {
  throw new Error('usage: fork(ingest-probe.ts, [collectorUrl, count, tag])');
}
const times: number[] = [];
for (let i = 0; i < Number(countText); i++) {
  const event: LifelineEvent = {
    id: `probe-${tag}-${i}:0`,
    envId: `probe-${tag}-${i}`,
    seq: 0,
    time: Date.now(),
    type: 'register',
    functionName: 'ingest-probe',
    functionVersion: '1',
    handler: 'index.handler',
    memorySizeMb: 128,
    initializationType: 'on-demand',
    architecture: 'x86_64',
    extensionName: 'lifeline',
    extensionVersion: '0.1.0',
    startToRegisteredMs: 1,
  };
  const started = performance.now();
  const res = await fetch(`${base}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: [event] }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`ingest answered ${res.status}`);
  times.push(performance.now() - started);
}
process.send(times, () => process.exit(0));
