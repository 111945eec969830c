import { describe, expect, it } from 'vitest';
import { extensionsDir, sandbox } from './helpers.ts';
import { events, registrations } from './sandbox-helpers.ts';

describe('Sandbox lifecycle', () => {
  it('drives extensions through register, invokes and a spindown shutdown when all goes well', async () => {
    const dir = extensionsDir({ alpha: {}, 'shutdown-only': { events: ['SHUTDOWN'] } });
    const box = sandbox({ extensionsDir: dir });
    const init = await box.init();
    expect(init.status).toBe('success');
    expect(init.phase).toBe('init');
    expect(init.extensions.map((e) => [e.name, e.state])).toEqual([
      ['alpha', 'Ready'],
      ['shutdown-only', 'Ready'],
    ]);
    const first = await box.invoke({ payload: { n: 1 }, durationMs: 20 });
    const second = await box.invoke({ payload: { n: 2 } });
    expect(first).toMatchObject({ status: 'success', reset: false, coldStart: false });
    expect(first.response).toMatchObject({ ok: true, requestId: first.requestId, echo: { n: 1 } });
    const shutdown = await box.shutdown('spindown');

    const alpha = events(box, 'alpha');
    expect(alpha.map((r) => r.event.eventType)).toEqual(['INVOKE', 'INVOKE', 'SHUTDOWN']);
    expect(alpha[0]!.event).toMatchObject({
      requestId: first.requestId,
      deadlineMs: first.deadlineMs,
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
      tracing: { type: 'X-Amzn-Trace-Id' },
    });
    expect(alpha[1]!.event.requestId).toBe(second.requestId);
    expect(alpha[0]!.eventId).not.toBe(alpha[1]!.eventId);
    expect(alpha[0]!.contentType).toBe('application/json');
    expect(alpha[2]!.event).toEqual({
      eventType: 'SHUTDOWN',
      deadlineMs: shutdown.deadlineMs,
      shutdownReason: 'spindown',
    });
    expect(events(box, 'shutdown-only').map((r) => r.event.eventType)).toEqual(['SHUTDOWN']);
    expect(shutdown.deadlineMs - shutdown.startedAt).toBe(2000);
    expect(shutdown.extensions.map((e) => [e.name, e.state, e.exitCode])).toEqual([
      ['alpha', 'Exited', 0],
      ['shutdown-only', 'Exited', 0],
    ]);
    // The log carries what the end-to-end test compares with the dashboard.
    const registered = box.log.filter(
      (e) => e.kind === 'extension.register' && e.statusCode === 200,
    );
    expect(registered.map((e) => e.extensionId).sort()).toEqual(
      init.extensions.map((e) => e.id).sort(),
    );
    expect(
      box.log.filter((e) => e.kind === 'invoke.start').map((e) => [e.requestId, e.deadlineMs]),
    ).toEqual([
      [first.requestId, first.deadlineMs],
      [second.requestId, second.deadlineMs],
    ]);
    expect(box.log.find((e) => e.kind === 'event.shutdown')).toMatchObject({
      shutdownReason: 'spindown',
      deadlineMs: shutdown.deadlineMs,
    });
    expect(box.log.filter((e) => e.kind === 'process.exit').map((e) => e.extension)).toEqual(
      expect.arrayContaining(['alpha', 'shutdown-only', 'runtime']),
    );
    await expect(box.invoke()).rejects.toThrow(/shut down/);
  });

  it('starts the runtime only after every external extension registered', async () => {
    const dir = extensionsDir({ slow: { initDelayMs: 300 }, quick: {} });
    const box = sandbox({ extensionsDir: dir });
    expect((await box.init()).status).toBe('success');
    const kinds = box.log.map((e) => e.kind);
    const lastRegister = kinds.lastIndexOf('extension.register');
    expect(kinds.indexOf('runtime.start')).toBeGreaterThan(lastRegister);
    // Init ends only when the slow extension finally called /next.
    const slowReady = box.log.findIndex(
      (e) => e.kind === 'extension.next' && e.extension === 'slow',
    );
    expect(kinds.indexOf('init.end')).toBeGreaterThan(slowReady);
  });

  it('SIGKILLs an extension that ignores SHUTDOWN at the deadline and records ShutdownFailed', async () => {
    const dir = extensionsDir({
      stubborn: { ignoreShutdown: true },
      polite: { shutdownWorkMs: 50 },
    });
    const box = sandbox({ extensionsDir: dir, shutdownBudgetMs: 800 });
    await box.invoke();
    const shutdown = await box.shutdown('spindown');
    const stubborn = shutdown.extensions.find((e) => e.name === 'stubborn')!;
    const polite = shutdown.extensions.find((e) => e.name === 'polite')!;
    expect(stubborn).toMatchObject({ state: 'ShutdownFailed', signal: 'SIGKILL', exitCode: null });
    expect(stubborn.exitedAt).toBeGreaterThanOrEqual(shutdown.deadlineMs);
    expect(polite).toMatchObject({ state: 'Exited', exitCode: 0, signal: null });
    expect(polite.exitedAt).toBeLessThan(shutdown.deadlineMs);
    const kill = box.log.find((e) => e.kind === 'process.kill' && e.extension === 'stubborn')!;
    expect(kill).toMatchObject({ signal: 'SIGKILL', message: 'shutdown deadline reached' });
    expect(kill.time).toBeGreaterThanOrEqual(shutdown.deadlineMs);
  });

  it('SIGKILLs an external extension at once when it did not subscribe to SHUTDOWN', async () => {
    const dir = extensionsDir({ 'invoke-only': { events: ['INVOKE'] } });
    const box = sandbox({ extensionsDir: dir });
    await box.invoke();
    const shutdown = await box.shutdown('spindown');
    expect(shutdown.extensions[0]).toMatchObject({ state: 'ShutdownFailed', signal: 'SIGKILL' });
    expect(events(box, 'invoke-only').map((r) => r.event.eventType)).toEqual(['INVOKE']);
    expect(
      box.log.find((e) => e.kind === 'process.kill' && e.extension === 'invoke-only')?.message,
    ).toBe('not subscribed to SHUTDOWN');
  });

  it('mimics the RIE when the rie profile is chosen', async () => {
    const dir = extensionsDir({
      alpha: { registerHeaders: { 'Lambda-Extension-Accept-Feature': 'accountId' } },
    });
    const box = sandbox({ extensionsDir: dir, profile: 'rie' });
    await box.invoke();
    const shutdown = await box.shutdown('spindown');
    expect(shutdown.reason).toBe('SandboxTerminated');
    const registered = registrations(box, 'alpha')[0]!;
    expect(registered.body).not.toHaveProperty('accountId');
    const [invoke, shutdownEvent] = events(box, 'alpha');
    expect(invoke!.event).not.toHaveProperty('tracing');
    expect(shutdownEvent!.event.shutdownReason).toBe('SandboxTerminated');
    expect(shutdownEvent!.eventId).toBeUndefined();
    expect(shutdownEvent!.contentType).toBe('text/plain; charset=utf-8');
  });

  it('rejects bad options with a clear error when it is constructed', () => {
    expect(() => sandbox({ timeoutMs: -1 })).toThrow(/timeoutMs must be a positive number/);
    expect(() => sandbox({ bootstrap: [] })).toThrow(/bootstrap/);
  });
});
