import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addExtension, extensionsDir, sandbox } from './helpers.ts';

describe('Sandbox init', () => {
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

  it('fails Init with Runtime.InvalidEntrypoint when the bootstrap cannot be started', async () => {
    const box = sandbox({ bootstrap: ['/nonexistent/bootstrap'] });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Runtime.InvalidEntrypoint' });
  });

  it('returns the same Init result when init() is called again on an initialised sandbox', async () => {
    const box = sandbox({});
    const first = await box.init();
    expect(await box.init()).toBe(first);
    expect(box.generation).toBe(1);
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
});
