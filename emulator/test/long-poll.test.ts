import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  addExtension,
  extensionsDir,
  FIXTURES,
  logEntry,
  reports,
  sandbox,
  writeScript,
} from './helpers.ts';

const CLIENT_TIMEOUT_MS = 400;

/** An extension whose /next has a client-side timeout (the undici headersTimeout pitfall), retrying after it fires. */
const impatientSource = `#!/usr/bin/env node
import(${JSON.stringify(pathToFileURL(join(FIXTURES, 'ext-lib.mjs')).href)}).then(async ({ register, call, report }) => {
  const { id } = await register('impatient');
  report({ registered: id });
  for (let i = 0; i < 2; i++) {
    try {
      const res = await call('GET', '/2020-01-01/extension/event/next', {
        headers: { 'Lambda-Extension-Identifier': id },
        timeout: ${CLIENT_TIMEOUT_MS},
      });
      report({ status: res.status, body: res.body });
    } catch (error) {
      report({ nextError: error.message });
    }
  }
  setInterval(() => {}, 1000);
});
`;

describe('long poll', () => {
  it('keeps /next parked far longer than a client timeout and still delivers the event', async () => {
    const dir = extensionsDir({ patient: {} });
    const box = sandbox({ extensionsDir: dir });
    await box.init();
    await box.idle(2500);
    const result = await box.invoke();
    expect(result.status).toBe('success');
    await box.shutdown('spindown');
    const invoke = reports(box, 'patient').find((r) => r.event) as { event: { requestId: string } };
    expect(invoke.event.requestId).toBe(result.requestId);
  });

  it('loses the event on the abandoned connection and refuses the retry when a client times out its /next', async () => {
    const dir = extensionsDir({ patient: {} });
    writeScript(dir, 'impatient', impatientSource);
    const box = sandbox({
      extensionsDir: dir,
      timeoutMs: 1500,
      shutdownBudgetMs: 300,
      logOutput: true,
    });
    await box.init();
    // The first poll times out client-side; its retries get 403 while the abandoned one stays parked.
    await logEntry(
      box,
      (e) => e.kind === 'extension.next' && e.extension === 'impatient' && e.statusCode === 403,
    );
    const lines = reports(box, 'impatient');
    expect(lines.some((r) => r.nextError === 'client timeout')).toBe(true);
    const line = await logEntry(
      box,
      (e) =>
        e.kind === 'process.output' &&
        e.extension === 'impatient' &&
        (e.line ?? '').includes('"status":403'),
    );
    const refused = JSON.parse(line.line!.slice(3)) as { body: string };
    expect(String(refused.body)).toContain('State transition from Ready to Ready failed');

    await logEntry(
      box,
      (e) => e.kind === 'extension.next-abandoned' && e.extension === 'impatient',
    );
    const result = await box.invoke();
    // The INVOKE went to the dead connection, so the extension never answers: the invoke runs into its timeout.
    expect(result.status).toBe('timeout');
    const lost = box.log.find((e) => e.kind === 'event.invoke' && e.extension === 'impatient');
    expect(lost?.message).toContain('event lost');
    await box.shutdown('spindown');
    const patient = reports(box, 'patient').find((r) => r.event) as {
      event: { requestId: string };
    };
    expect(patient.event.requestId).toBe(result.requestId);
  });
});

describe('abandoned poll bookkeeping', () => {
  it('logs that the client left while the request stays parked', async () => {
    const dir = extensionsDir({});
    writeScript(dir, 'impatient', impatientSource);
    addExtension(dir, 'patient', {});
    const box = sandbox({ extensionsDir: dir, shutdownBudgetMs: 300 });
    await box.init();
    const entry = await logEntry(
      box,
      (e) => e.kind === 'extension.next-abandoned' && e.extension === 'impatient',
    );
    expect(entry.extensionId).toBeTruthy();
    expect(entry.message).toContain('stays parked');
  });
});
