import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EmulatorLogEntry, Sandbox } from '../src/index.ts';
import {
  addExtension,
  errorBody,
  extensionsDir,
  raw,
  rawRegister,
  reports,
  sandbox,
  tempDir,
  writeScript,
} from './helpers.ts';

type Report = Record<string, unknown>;
type AgentEvent = {
  eventType: string;
  requestId?: string;
  deadlineMs: number;
  shutdownReason?: string;
};

function events(box: Sandbox, name: string): (Report & { event: AgentEvent })[] {
  return reports(box, name).filter((r) => r.event) as (Report & { event: AgentEvent })[];
}

function registrations(box: Sandbox, name: string): Report[] {
  return reports(box, name).filter((r) => r.registered);
}

function processState(pid: number): string {
  // Field 3 of /proc/<pid>/stat: R, S, T (stopped), Z, …
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
}

/** Runtime's /next → the extension's /next after INVOKE, from the log (what extensionOverhead must equal). */
function overheadFromLog(box: Sandbox, name: string): number {
  const runtimeDone = box.log.findLast((e) => e.kind === 'runtime.next')!;
  const extensionDone = box.log.findLast(
    (e) => e.kind === 'extension.next' && e.extension === name,
  )!;
  return extensionDone.mono - runtimeDone.mono;
}

/**
 * An extensions directory with one standard extension `leaky` that first starts a detached `sleep 300` in a session
 * of its own (neither the extension's process group nor its session holds it); `grandchild()` reads its pid.
 */
function leakyExtension(): { dir: string; grandchild: () => number } {
  const dir = extensionsDir({ leaky: {} });
  const pidFile = join(tempDir(), 'grandchild.pid');
  const launcher = readFileSync(join(dir, 'leaky'), 'utf8');
  writeScript(
    dir,
    'leaky',
    `${launcher}const child = require('node:child_process').spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
child.unref();
`,
  );
  return {
    dir,
    grandchild() {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      onTestFinished(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone, as it should be.
        }
      });
      return pid;
    },
  };
}

/** Resolves once the sandbox logged an entry matching `match` (event-driven, no polling). */
function logged(box: Sandbox, match: (entry: EmulatorLogEntry) => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if (box.log.some(match)) return resolve();
    const stop = box.onLog((entry) => {
      if (match(entry)) {
        stop();
        resolve();
      }
    });
  });
}

/** Polls (bounded) until `pid` is gone or a zombie (killed, waiting for whoever adopted it to reap it). */
async function vanishes(pid: number): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    let state: string;
    try {
      state = processState(pid);
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

/** Signals are delivered asynchronously: polls (bounded) until the process reaches `state`. */
async function reachesState(pid: number, state: string): Promise<string> {
  let seen = processState(pid);
  for (let i = 0; i < 200 && seen !== state; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen = processState(pid);
  }
  return seen;
}

describe('Sandbox', () => {
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

  it('gives extensions the production environment split when it launches them', async () => {
    const dir = extensionsDir({ envy: { reportEnv: true } });
    const box = sandbox({
      extensionsDir: dir,
      env: { LIFELINE_COLLECTOR_URL: 'http://127.0.0.1:1' },
      memoryMb: 256,
    });
    await box.init();
    const address = box.runtimeApiAddress;
    await box.shutdown('spindown');
    const [registration] = registrations(box, 'envy');
    const env = registration!.env as Record<string, string>;
    expect(env).toMatchObject({
      AWS_LAMBDA_RUNTIME_API: address,
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      TMPDIR: box.tmpDir,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      LIFELINE_COLLECTOR_URL: 'http://127.0.0.1:1',
    });
    for (const hidden of [
      'AWS_EXECUTION_ENV',
      '_HANDLER',
      'LAMBDA_TASK_ROOT',
      'AWS_LAMBDA_LOG_GROUP_NAME',
    ]) {
      expect(env[hidden]).toBeUndefined();
    }
    expect(registration!.argv).toBe(2);
  });

  it('gives the runtime the runtime-only variables when it starts it', async () => {
    const box = sandbox({
      bootstrap: [process.execPath, '-e', 'console.log("ENV " + JSON.stringify(process.env))'],
      runtime: 'nodejs24.x',
    });
    const init = await box.init();
    // This bootstrap exits instead of polling: Init fails the way a crashing runtime does.
    expect(init).toMatchObject({ status: 'error', errorType: 'Runtime.ExitError' });
    const line = box
      .output('runtime')
      .split('\n')
      .find((l) => l.startsWith('ENV '))!;
    const env = JSON.parse(line.slice(4)) as Record<string, string>;
    expect(env).toMatchObject({
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: '/var/task',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
    });
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

  it('resets with reason timeout and re-inits with new identifiers in the same tmpDir when an invoke times out', async () => {
    const dir = extensionsDir({ alpha: {} });
    const box = sandbox({ extensionsDir: dir, timeoutMs: 1500 });
    await box.init();
    const timedOut = await box.invoke({ outcome: 'timeout' });
    expect(timedOut).toMatchObject({
      status: 'timeout',
      errorType: 'Sandbox.Timeout',
      reset: true,
    });
    expect(timedOut.shutdown?.reason).toBe('timeout');
    const after = await box.invoke({ durationMs: 10 });
    await box.shutdown('spindown');
    expect(after).toMatchObject({
      status: 'success',
      coldStart: true,
      init: { phase: 'invoke', status: 'success' },
    });

    const regs = registrations(box, 'alpha');
    expect(regs).toHaveLength(2);
    expect(regs[0]!.registered).not.toBe(regs[1]!.registered);
    expect(regs[0]!.pid).not.toBe(regs[1]!.pid);
    // The second process found the first identifier in the kept /tmp.
    expect(regs[1]!.previous).toEqual([regs[0]!.registered]);
    const shutdownEvent = events(box, 'alpha').find((r) => r.event.eventType === 'SHUTDOWN')!;
    expect(shutdownEvent.event.shutdownReason).toBe('timeout');
    expect(box.generation).toBe(2);
  });

  it('resets with reason failure when the runtime crashes mid-invoke', async () => {
    const dir = extensionsDir({ alpha: {} });
    const box = sandbox({ extensionsDir: dir });
    const crashed = await box.invoke({ outcome: 'crash' });
    expect(crashed).toMatchObject({
      status: 'failure',
      errorType: 'Runtime.ExitError',
      reset: true,
      coldStart: true,
    });
    expect(crashed.shutdown?.reason).toBe('failure');
    expect(events(box, 'alpha').at(-1)!.event.shutdownReason).toBe('failure');
  });

  it('resets with failure and new identifiers when an extension crashes mid-invoke', async () => {
    const dir = extensionsDir({ crasher: { crashOnInvoke: 1 }, steady: {} });
    const box = sandbox({ extensionsDir: dir });
    await box.init();
    const first = await box.invoke({ durationMs: 200 });
    expect(first).toMatchObject({ status: 'failure', errorType: 'Extension.Crash', reset: true });
    expect(first.errorMessage).toContain('crasher: exit status 3');
    expect(events(box, 'steady').at(-1)!.event).toMatchObject({
      eventType: 'SHUTDOWN',
      shutdownReason: 'failure',
    });
    const crasherExit = first.shutdown!.extensions.find((e) => e.name === 'crasher')!;
    expect(crasherExit).toMatchObject({ exitCode: 3, state: 'ShutdownFailed' });
    const second = await box.invoke();
    await box.shutdown('spindown');
    // The new crasher process crashes again on its first invoke, which is still a fresh environment.
    expect(second.init).toMatchObject({ phase: 'invoke', status: 'success' });
    const crasherIds = registrations(box, 'crasher').map((r) => r.registered);
    const steadyIds = registrations(box, 'steady').map((r) => r.registered);
    expect(new Set(crasherIds).size).toBe(2);
    expect(new Set(steadyIds).size).toBe(2);
    expect(registrations(box, 'steady')[1]!.previous).toEqual([steadyIds[0]]);
  });

  it('fails the invoke with Extension.ExitError when an extension calls exit/error and exits', async () => {
    const dir = extensionsDir({ quitter: { exitErrorOnInvoke: 1 } });
    const box = sandbox({ extensionsDir: dir });
    const result = await box.invoke();
    expect(result).toMatchObject({
      status: 'failure',
      errorType: 'Extension.ExitError',
      reset: true,
    });
    expect(reports(box, 'quitter').find((r) => r.exitError)?.exitError).toBe(202);
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

  it('stops every process between invokes when freeze is on, so extension timers do not fire', async () => {
    const dir = extensionsDir({ ticker: { tickMs: 20 } });
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    const pid = box.extensions[0]!.pid!;
    expect(await reachesState(pid, 'T')).toBe('T');
    await box.idle(800);
    await box.invoke();
    await box.shutdown('spindown');
    expect(box.log.filter((e) => e.kind === 'freeze').length).toBeGreaterThanOrEqual(2);
    expect(box.log.filter((e) => e.kind === 'thaw').length).toBeGreaterThanOrEqual(1);
    const [first, second] = events(box, 'ticker');
    // 800 ms idle at one tick per 20 ms would be ~40 ticks; frozen, at most the overdue one fires on thaw.
    expect((second!.ticks as number) - (first!.ticks as number)).toBeLessThanOrEqual(5);
  });

  it('lets extension timers run between invokes when freeze is off', async () => {
    const dir = extensionsDir({ ticker: { tickMs: 20 } });
    const box = sandbox({ extensionsDir: dir, freeze: false });
    await box.invoke();
    expect(processState(box.extensions[0]!.pid!)).not.toBe('T');
    await box.idle(800);
    await box.invoke();
    await box.shutdown('spindown');
    const [first, second] = events(box, 'ticker');
    expect((second!.ticks as number) - (first!.ticks as number)).toBeGreaterThan(5);
  });

  it('reports extensionOverhead when an extension works after the runtime finished', async () => {
    const dir = extensionsDir({ worker: { invokeWorkMs: 300 } });
    const box = sandbox({ extensionsDir: dir });
    const result = await box.invoke({ durationMs: 0 });
    expect(result.status).toBe('success');
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(result.responseLatencyMs).toBeLessThan(result.durationMs);
    expect(result.extensionOverheadMs).toBeCloseTo(overheadFromLog(box, 'worker'), 0);
    expect(result.extensionOverheadMs).toBeGreaterThan(0);
  });

  it('times out the invoke when the INVOKE to an extension is withheld', async () => {
    const dir = extensionsDir({ starved: {} });
    const box = sandbox({ extensionsDir: dir, timeoutMs: 1000, shutdownBudgetMs: 300 });
    await box.init();
    box.withholdEvents('starved');
    const result = await box.invoke();
    expect(result).toMatchObject({ status: 'timeout', reset: true });
    box.releaseEvents('starved');
  });

  it('delays the INVOKE to an extension when asked', async () => {
    const dir = extensionsDir({ late: {} });
    const box = sandbox({ extensionsDir: dir });
    await box.init();
    box.delayEvents('late', 300);
    const result = await box.invoke();
    expect(result.status).toBe('success');
    expect(result.extensionOverheadMs).toBeCloseTo(overheadFromLog(box, 'late'), 0);
    const delivered = box.log.find((e) => e.kind === 'event.invoke')!;
    const started = box.log.find((e) => e.kind === 'invoke.start')!;
    expect(delivered.mono - started.mono).toBeGreaterThanOrEqual(290);
  });

  it('crashes an extension on demand and resets on the next invoke', async () => {
    const dir = extensionsDir({ victim: {} });
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    expect(box.killExtension('victim')).toBe(true);
    await new Promise<void>((resolve) => {
      const check = () =>
        box.log.some((e) => e.kind === 'process.exit' && e.extension === 'victim');
      if (check()) resolve();
      else {
        const stop = box.onLog(() => {
          if (check()) {
            stop();
            resolve();
          }
        });
      }
    });
    const failed = await box.invoke();
    const next = await box.invoke();
    await box.shutdown('spindown');
    // Production surfaces a crash while frozen at the next thaw: that invoke fails and the environment resets.
    expect(failed).toMatchObject({
      status: 'failure',
      errorType: 'Extension.Crash',
      reset: true,
      shutdown: { reason: 'failure' },
    });
    expect(failed.errorMessage).toContain('victim');
    expect(next).toMatchObject({ status: 'success', coldStart: true, init: { phase: 'invoke' } });
    expect(box.log.find((e) => e.kind === 'reset')?.shutdownReason).toBe('failure');
    expect(registrations(box, 'victim')).toHaveLength(2);
  });

  it('times Init out and retries it as a suppressed init when an extension is too slow', async () => {
    const dir = extensionsDir({ sluggish: { initDelayMs: 4000 } });
    const box = sandbox({
      extensionsDir: dir,
      initTimeoutMs: 500,
      timeoutMs: 800,
      shutdownBudgetMs: 300,
    });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'timeout', phase: 'init', errorType: 'Sandbox.Timeout' });
    const result = await box.invoke();
    expect(result).toMatchObject({
      status: 'failure',
      coldStart: true,
      init: { status: 'timeout', phase: 'invoke' },
    });
    expect(box.generation).toBe(2);
  });

  it('fails Init with Extension.InitError when an extension calls init/error', async () => {
    const dir = extensionsDir({ broken: { initErrorType: 'Extension.ConfigInvalid' } });
    const box = sandbox({ extensionsDir: dir });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Extension.InitError' });
    expect(init.extensions[0]).toMatchObject({
      state: 'InitError',
      errorType: 'Extension.ConfigInvalid',
    });
  });

  it('fails Init with Extension.LaunchError when a file is not executable', async () => {
    const dir = extensionsDir({});
    writeFileSync(join(dir, 'not-executable'), 'echo hi\n', { mode: 0o644 });
    const box = sandbox({ extensionsDir: dir });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Extension.LaunchError' });
    expect(init.extensions[0]).toMatchObject({
      name: 'not-executable',
      state: 'LaunchError',
      errorType: 'PermissionDenied',
    });
  });

  it('fails Init with Extension.LaunchError when more than ten files are in the directory', async () => {
    const dir = extensionsDir({});
    for (let i = 0; i < 11; i++) addExtension(dir, `ext-${String(i).padStart(2, '0')}`, {});
    const box = sandbox({ extensionsDir: dir });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Extension.LaunchError' });
    expect(init.errorMessage).toContain('TooManyExtensions');
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

describe('Sandbox invoke outcomes', () => {
  it('reports a function error without resetting when the function fails', async () => {
    const box = sandbox({});
    const result = await box.invoke({ outcome: 'error', durationMs: 5 });
    expect(result).toMatchObject({
      status: 'error',
      errorType: 'Function.SimulatedError',
      errorMessage: 'Simulated failure',
      reset: false,
    });
    expect(box.state).toBe('idle');
    expect((await box.invoke()).status).toBe('success');
    expect(box.generation).toBe(1);
  });

  it('waits for an internal extension registered over raw HTTP before Init and each invoke end', async () => {
    const box = sandbox({ functionInitMs: 300 });
    void box.init();
    await box.ready();
    const address = box.runtimeApiAddress;
    const { id } = await rawRegister(address, 'inside-runtime', ['INVOKE']);
    const next = () =>
      raw(address, 'GET', '/2020-01-01/extension/event/next', {
        headers: { 'Lambda-Extension-Identifier': id },
      });
    const firstNext = next();
    const invoking = box.invoke({ durationMs: 0 });
    const delivered = await firstNext;
    expect(delivered.status).toBe(200);
    expect(delivered.headers['lambda-extension-event-identifier']).toBeTruthy();
    expect(delivered.body).not.toMatch(/\n$/);
    const event = JSON.parse(delivered.body) as { eventType: string; requestId: string };
    expect(event.eventType).toBe('INVOKE');
    expect(box.state).toBe('invoking');
    void next().catch(() => undefined);
    const result = await invoking;
    expect(result.requestId).toBe(event.requestId);
    expect(result.status).toBe('success');
  });

  it('fails Init with Runtime.InvalidEntrypoint when the bootstrap cannot be started', async () => {
    const box = sandbox({ bootstrap: ['/nonexistent/bootstrap'] });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Runtime.InvalidEntrypoint' });
  });

  it('answers 400 InvalidRequestID when the runtime posts for an unknown request', async () => {
    const box = sandbox({});
    await box.init();
    const res = await raw(
      box.runtimeApiAddress,
      'POST',
      '/2018-06-01/runtime/invocation/nope/response',
      { body: '{}' },
    );
    expect(res.status).toBe(400);
    expect(res.body).toBe(errorBody('InvalidRequestID', 'Invalid request ID'));
  });
});

describe('Sandbox robustness', () => {
  it('returns the same Init result when init() is called again on an initialised sandbox', async () => {
    const box = sandbox({});
    const first = await box.init();
    expect(await box.init()).toBe(first);
    expect(box.generation).toBe(1);
  });

  it('kills every process and stops answering when it is closed, and closing twice is harmless', async () => {
    const dir = extensionsDir({ alpha: { ignoreShutdown: true } });
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    const pids = [box.extensions[0]!.pid!];
    const address = box.runtimeApiAddress;
    await box.close();
    await box.close();
    expect(box.state).toBe('closed');
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(raw(address, 'GET', '/2020-01-01/extension/event/next')).rejects.toThrow();
    await expect(box.invoke()).rejects.toThrow(/closed/);
  });

  it('kills a detached grandchild of an extension when it is closed', async () => {
    const { dir, grandchild } = leakyExtension();
    const box = sandbox({ extensionsDir: dir });
    expect((await box.init()).status).toBe('success');
    const pid = grandchild();
    expect(() => process.kill(pid, 0)).not.toThrow();
    await box.close();
    expect(await vanishes(pid)).toBe(true);
  });

  it('kills a detached grandchild when the extension exits cleanly on SHUTDOWN', async () => {
    const { dir, grandchild } = leakyExtension();
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    const pid = grandchild();
    const shutdown = await box.shutdown('spindown');
    expect(shutdown.extensions).toMatchObject([{ name: 'leaky', state: 'Exited' }]);
    expect(await vanishes(pid)).toBe(true);
    expect(box.log.some((e) => e.kind === 'process.kill' && e.data?.pids)).toBe(true);
  });

  it('kills an orphaned grandchild at the reset when its extension died while idle', async () => {
    const { dir, grandchild } = leakyExtension();
    const box = sandbox({ extensionsDir: dir });
    await box.invoke();
    const pid = grandchild();
    expect(box.killExtension('leaky')).toBe(true);
    await logged(box, (e) => e.kind === 'process.exit' && e.extension === 'leaky');
    // Re-parented and in a session of its own: only the inherited AWS_LAMBDA_RUNTIME_API ties it to the sandbox.
    const failed = await box.invoke();
    expect(failed).toMatchObject({ status: 'failure', reset: true });
    expect(await vanishes(pid)).toBe(true);
  });

  it('fails Init with Extension.Crash when an extension registers under the wrong name and gives up', async () => {
    const dir = extensionsDir({ misnamed: { registerName: 'not-my-file-name' } });
    const box = sandbox({ extensionsDir: dir });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Extension.Crash' });
    const refused = box.log.find((e) => e.kind === 'extension.register' && e.statusCode === 403);
    expect(refused).toMatchObject({
      extension: 'not-my-file-name',
      errorType: 'Extension.InvalidEventType',
      errorMessage: 'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension',
    });
  });

  it.each([
    ['an unknown outcome', { outcome: 'explode' }, /outcome must be/],
    ['a negative duration', { durationMs: -5 }, /durationMs must be a number/],
    ['a BigInt payload', { payload: { n: 1n } }, /payload must be JSON-serialisable/],
    [
      'a multi-line trace id',
      { traceId: 'Root=1\r\nX: y' },
      /traceId must be a single-line string/,
    ],
  ])('rejects %s with a clear error before anything starts', async (_label, options, message) => {
    const box = sandbox({});
    await expect(box.invoke(options as never)).rejects.toThrow(message);
    expect(box.state).toBe('new');
  });
});

describe('Sandbox custom runtime', () => {
  it('fails Init with the runtime error type when the runtime posts /runtime/init/error', async () => {
    const script = `
      const http = require('node:http');
      const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
      const req = http.request({
        host, port: Number(port), method: 'POST', path: '/2018-06-01/runtime/init/error',
        headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.BadConfig' },
      }, (res) => { console.log('init/error ' + res.statusCode); res.resume(); setInterval(() => {}, 1000); });
      req.end(JSON.stringify({ errorMessage: 'no config', errorType: 'BadConfig' }));
    `;
    const box = sandbox({ bootstrap: [process.execPath, '-e', script] });
    const init = await box.init();
    expect(init).toMatchObject({
      status: 'error',
      errorType: 'Runtime.BadConfig',
      errorMessage: 'no config',
    });
    expect(box.log.find((e) => e.kind === 'runtime.init-error')).toMatchObject({
      statusCode: 202,
      errorType: 'Runtime.BadConfig',
    });
  });

  it('rejects a response larger than 6 MB with 413 and fails the invoke', async () => {
    const script = `
      const http = require('node:http');
      const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
      const agent = new http.Agent({ keepAlive: true });
      const call = (method, path, body) => new Promise((resolve) => {
        const req = http.request({ host, port: Number(port), method, path, agent }, (res) => {
          const chunks = []; res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
        });
        req.on('error', () => resolve({ status: 0, headers: {} }));
        req.end(body);
      });
      (async () => {
        for (;;) {
          const next = await call('GET', '/2018-06-01/runtime/invocation/next');
          const id = next.headers['lambda-runtime-aws-request-id'];
          const res = await call('POST', '/2018-06-01/runtime/invocation/' + id + '/response', 'x'.repeat(7 * 1024 * 1024));
          console.log('response status ' + res.status);
        }
      })();
    `;
    const box = sandbox({ bootstrap: [process.execPath, '-e', script] });
    const result = await box.invoke();
    expect(result).toMatchObject({
      status: 'error',
      errorType: 'Function.ResponseSizeTooLarge',
      reset: false,
    });
  });
});

describe('Sandbox function identity', () => {
  it('qualifies the invoked ARN with the version when a published version runs', async () => {
    const dir = extensionsDir({ alpha: {} });
    const box = sandbox({
      extensionsDir: dir,
      functionName: 'orders',
      functionVersion: '7',
      region: 'us-east-2',
    });
    await box.invoke();
    await box.shutdown('spindown');
    const [invoke] = events(box, 'alpha');
    expect(invoke!.event).toMatchObject({
      invokedFunctionArn: 'arn:aws:lambda:us-east-2:123456789012:function:orders:7',
    });
    expect(registrations(box, 'alpha')[0]!.body).toEqual({
      functionName: 'orders',
      functionVersion: '7',
      handler: 'index.handler',
    });
  });
});

describe('Sandbox initialization type', () => {
  it('tells extensions and subscribers about provisioned concurrency when it is configured', async () => {
    const dir = extensionsDir({
      envy: {
        reportEnv: true,
        telemetry: { types: ['platform'], buffering: { timeoutMs: 25 } },
        shutdownWorkMs: 200,
      },
    });
    const box = sandbox({ extensionsDir: dir, initializationType: 'provisioned-concurrency' });
    await box.invoke();
    await box.shutdown('spindown');
    const env = registrations(box, 'envy')[0]!.env as Record<string, string>;
    expect(env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('provisioned-concurrency');
    const initStart = reports(box, 'envy')
      .filter((r) => r.telemetry)
      .flatMap((r) => r.telemetry as { type: string; record: Record<string, unknown> }[])
      .find((e) => e.type === 'platform.initStart');
    expect(initStart?.record.initializationType).toBe('provisioned-concurrency');
    expect(
      box.log.find((e) => e.kind === 'init.start')!.deadlineMs! - box.log[0]!.time,
    ).toBeGreaterThan(100_000);
  });

  it('rejects an unknown initialization type', () => {
    expect(() => sandbox({ initializationType: 'snap-start' as never })).toThrow(
      /initializationType/,
    );
  });
});
