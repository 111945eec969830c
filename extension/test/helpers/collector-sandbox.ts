import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from '@lifeline/collector';
import { Sandbox, type SandboxOptions } from '@lifeline/emulator';
import type { EnvironmentDetail, LifelineEvent } from '@lifeline/protocol';
import { expect, inject, onTestFinished } from 'vitest';

const TOKEN = 'ingest-token';

/**
 * A real collector (SQLite file in a temp dir) and a factory for sandboxes running the built layer against it, all
 * closed when the test ends.
 */
export async function realCollector() {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-modes-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const collector = await startCollector({
    host: '127.0.0.1',
    port: 0,
    dbPath: join(dir, 'events.db'),
    token: TOKEN,
    logLevel: 'silent',
  });
  onTestFinished(() => collector.close());
  const sandbox = (options: Partial<SandboxOptions> = {}) => {
    const created = new Sandbox({
      extensionsDir: join(inject('layerDir'), 'extensions'),
      freeze: true,
      tmpDir: mkdtempSync(join(dir, 'tmp-')),
      ...options,
      env: {
        LIFELINE_COLLECTOR_URL: collector.url,
        LIFELINE_TOKEN: TOKEN,
        LIFELINE_TELEMETRY_PORT: '0',
        ...options.env,
      },
    });
    onTestFinished(() => created.close());
    return created;
  };
  /** The collector's view of one environment, once `ready` holds (polled: ingest is asynchronous to the sandbox). */
  const environment = async (
    envId: string,
    ready: (detail: EnvironmentDetail) => boolean = (detail) =>
      detail.environment.state === 'ended',
  ): Promise<EnvironmentDetail> => {
    let detail: EnvironmentDetail | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      const res = await fetch(`${collector.url}/v1/environments/${encodeURIComponent(envId)}`);
      if (res.status === 200) {
        detail = (await res.json()) as EnvironmentDetail;
        if (ready(detail)) return detail;
      } else await res.text();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect.fail(`environment ${envId} never got ready: ${JSON.stringify(detail?.environment)}`);
  };
  /** Every event the collector stored, in ingest order (the raw event log). */
  const events = async (): Promise<LifelineEvent[]> => {
    const all: LifelineEvent[] = [];
    let after = 0;
    for (let page = 0; page < 1000; page++) {
      const res = await fetch(`${collector.url}/v1/events?after=${after}&limit=1000`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        items: { cursor: number; event: LifelineEvent }[];
        nextCursor: string | null;
      };
      all.push(...body.items.map((item) => item.event));
      if (body.nextCursor === null) return all;
      after = Number(body.nextCursor);
    }
    return all;
  };
  return { collector, sandbox, environment, events };
}
