import { describe, expect, it } from 'vitest';
import { extensionsDir, reports, sandbox } from './helpers.ts';
import { events, registrations } from './sandbox-helpers.ts';

describe('Sandbox environment', () => {
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
