import { describe, expect, it } from 'vitest';
import { errorBody, raw, rawRegister, sandbox } from './helpers.ts';

describe('Sandbox invoke', () => {
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
