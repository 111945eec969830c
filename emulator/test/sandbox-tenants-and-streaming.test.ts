import { describe, expect, it } from 'vitest';
import { LambdaFunction, type Sandbox } from '../src/index.ts';
import { extensionsDir, reports, sandbox } from './helpers.ts';
import { events } from './sandbox-helpers.ts';

type TelemetryEvent = { type: string; record: Record<string, unknown> };

function telemetry(box: Sandbox, name: string): TelemetryEvent[] {
  return reports(box, name)
    .filter((r) => r.telemetry)
    .flatMap((r) => r.telemetry as TelemetryEvent[]);
}

const subscriber = {
  telemetry: { types: ['platform'], buffering: { timeoutMs: 25 } },
  shutdownWorkMs: 200,
};

/** A runtime that prints the tenant header of each invoke, then answers. */
const TENANT_PRINTING_RUNTIME = `
  const http = require('node:http');
  const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
  const agent = new http.Agent({ keepAlive: true });
  const call = (method, path, body) => new Promise((resolve) => {
    const req = http.request({ host, port: Number(port), method, path, agent }, (res) => {
      res.resume(); res.on('end', () => resolve(res.headers));
    });
    req.end(body);
  });
  (async () => {
    for (;;) {
      const headers = await call('GET', '/2018-06-01/runtime/invocation/next');
      console.log('TENANT ' + headers['lambda-runtime-aws-tenant-id']);
      await call('POST', '/2018-06-01/runtime/invocation/' + headers['lambda-runtime-aws-request-id'] + '/response', '{}');
    }
  })();
`;

describe('Sandbox tenant isolation', () => {
  it('puts tenantId in start, runtimeDone and report records and nowhere else when it serves a tenant', async () => {
    const dir = extensionsDir({ lifeline: subscriber });
    const box = sandbox({ extensionsDir: dir, tenantId: 'acme-42' });
    await box.invoke();
    await box.invoke();
    await box.shutdown('spindown');
    const records = telemetry(box, 'lifeline');
    for (const type of ['platform.start', 'platform.runtimeDone', 'platform.report']) {
      const ofType = records.filter((e) => e.type === type);
      expect(ofType).toHaveLength(2);
      for (const event of ofType) expect(event.record.tenantId).toBe('acme-42');
    }
    for (const type of ['platform.initStart', 'platform.initRuntimeDone', 'platform.initReport']) {
      expect(records.find((e) => e.type === type)!.record).not.toHaveProperty('tenantId');
    }
    const invoke = events(box, 'lifeline').find((r) => r.event.eventType === 'INVOKE')!;
    expect(invoke.event).not.toHaveProperty('tenantId');
  });

  it('omits tenantId from the records when the function is not tenant-isolated', async () => {
    const dir = extensionsDir({ lifeline: subscriber });
    const box = sandbox({ extensionsDir: dir });
    await box.invoke();
    await box.shutdown('spindown');
    const start = telemetry(box, 'lifeline').find((e) => e.type === 'platform.start')!;
    expect(start.record).not.toHaveProperty('tenantId');
  });

  it('gives the runtime the tenant in Lambda-Runtime-Aws-Tenant-Id', async () => {
    const box = sandbox({
      tenantId: 'acme-42',
      bootstrap: [process.execPath, '-e', TENANT_PRINTING_RUNTIME],
    });
    expect((await box.invoke()).status).toBe('success');
    expect(box.output('runtime')).toContain('TENANT acme-42');
  });

  it('refuses an invoke for another tenant, or for a tenant on a function without tenants', async () => {
    const box = sandbox({ tenantId: 'acme' });
    await expect(box.invoke({ tenantId: 'globex' })).rejects.toThrow(
      /tenantId globex: sandbox .* serves tenant acme/,
    );
    const plain = sandbox({});
    await expect(plain.invoke({ tenantId: 'acme' })).rejects.toThrow(/serves no tenant/);
    expect(box.state).toBe('new');
  });

  it('routes each tenant to environments of its own when a function is invoked for several', async () => {
    const fn = new LambdaFunction({ logOutput: false, maxConcurrency: 2 });
    try {
      const a1 = await fn.invoke({ tenantId: 'a' });
      const b1 = await fn.invoke({ tenantId: 'b' });
      const a2 = await fn.invoke({ tenantId: 'a' });
      expect(a2.sandboxId).toBe(a1.sandboxId);
      expect(b1.sandboxId).not.toBe(a1.sandboxId);
      expect(a2.coldStart).toBe(false);
      // Full of idle environments of a and b: a third tenant reclaims one of them.
      const c1 = await fn.invoke({ tenantId: 'c' });
      expect(c1).toMatchObject({ status: 'success', coldStart: true });
      expect(fn.sandboxes).toHaveLength(2);
    } finally {
      await fn.close();
    }
  });

  it.each([[''], ['has space'], ['x'.repeat(257)]])(
    'refuses the tenant id %j with a clear error',
    (tenantId) => {
      expect(() => sandbox({ tenantId })).toThrow(/tenantId must be 1 to 256 visible ASCII/);
    },
  );
});

describe('Sandbox response streaming', () => {
  it('splits the answer into time to first byte and streaming in the runtimeDone spans when the function streams', async () => {
    const dir = extensionsDir({ lifeline: subscriber });
    const box = sandbox({ extensionsDir: dir, responseStreaming: true });
    const result = await box.invoke({ durationMs: 50, streamDurationMs: 400 });
    await box.shutdown('spindown');
    expect(result.status).toBe('success');
    expect(result.response).toEqual({
      ok: true,
      requestId: result.requestId,
      chunks: [0, 1, 2, 3, 4],
    });
    expect(result.responseLatencyMs).toBeGreaterThanOrEqual(50);
    // Four waits of 100 ms between the first and the last byte.
    expect(result.responseDurationMs).toBeGreaterThanOrEqual(390);
    const done = telemetry(box, 'lifeline').find((e) => e.type === 'platform.runtimeDone')!;
    const spans = done.record.spans as { name: string; durationMs: number }[];
    expect(spans.map((s) => s.name)).toEqual(['responseLatency', 'responseDuration']);
    expect(spans[0]!.durationMs).toBeCloseTo(result.responseLatencyMs!, 0);
    expect(spans[1]!.durationMs).toBeCloseTo(result.responseDurationMs!, 0);
    expect((done.record.metrics as { producedBytes: number }).producedBytes).toBe(
      JSON.stringify(result.response).length,
    );
    expect(box.log.find((e) => e.kind === 'runtime.response')?.data).toEqual({ streamed: true });
  });

  it('measures a buffered answer from its first to its last byte when the function does not stream', async () => {
    const box = sandbox({});
    const result = await box.invoke({ durationMs: 20 });
    expect(result.responseLatencyMs).toBeGreaterThanOrEqual(20);
    expect(result.responseDurationMs).toBeGreaterThanOrEqual(0);
    expect(result.responseLatencyMs! + result.responseDurationMs!).toBeLessThanOrEqual(
      result.durationMs,
    );
    expect(box.log.find((e) => e.kind === 'runtime.response')?.data).toEqual({ streamed: false });
  });

  it('fails the invoke with the error type of the trailers when the function fails mid-stream', async () => {
    const box = sandbox({ responseStreaming: true });
    const result = await box.invoke({ outcome: 'error', streamDurationMs: 40 });
    expect(result).toMatchObject({
      status: 'error',
      errorType: 'Function.SimulatedError',
      errorMessage: 'Simulated failure mid-stream',
      reset: false,
    });
  });

  it('carries the streaming spans in the Managed Instances report', async () => {
    const dir = extensionsDir({
      lifeline: {
        events: ['SHUTDOWN'],
        telemetry: { ...subscriber.telemetry, schemaVersion: '2025-01-29' },
        shutdownWorkMs: 200,
      },
    });
    const box = sandbox({ extensionsDir: dir, mode: 'lmi', responseStreaming: true });
    const result = await box.invoke({ streamDurationMs: 400 });
    await box.shutdown('spindown');
    const report = telemetry(box, 'lifeline').find((e) => e.type === 'platform.report')!;
    const spans = report.record.spans as { name: string; durationMs: number }[];
    expect(spans[1]).toMatchObject({ name: 'responseDuration' });
    expect(spans[1]!.durationMs).toBeGreaterThanOrEqual(390);
    expect(spans[1]!.durationMs).toBeCloseTo(result.responseDurationMs!, 0);
  });

  it('refuses streamDurationMs when the function does not stream', async () => {
    const box = sandbox({});
    await expect(box.invoke({ streamDurationMs: 10 })).rejects.toThrow(
      /streamDurationMs needs SandboxOptions.responseStreaming/,
    );
  });
});
