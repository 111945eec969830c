import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from '@lifeline/collector';
import { Sandbox } from '@lifeline/emulator';
import type { EnvironmentDetail } from '@lifeline/protocol';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { FAKE_CREDENTIALS, startFakeAws } from '../helpers/fake-aws.ts';
import { holdTimes, logOf } from '../helpers/layer-sandbox.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lifeline-token-AbCdEf';
const TOKEN = 'runtime-ingest-token-0123456789';
/** Long enough that an extension waiting for its token or its acknowledgement would visibly hold the invoke. */
const INVOKE_WAIT_MS = 20_000;

async function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-token-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const collector = await startCollector({
    host: '127.0.0.1',
    port: 0,
    dbPath: join(dir, 'events.db'),
    token: TOKEN,
    logLevel: 'silent',
  });
  onTestFinished(() => collector.close());
  const aws = await startFakeAws(onTestFinished);
  aws.state.secrets.set(SECRET_ARN, JSON.stringify({ token: TOKEN }));
  aws.state.parameters.set('/lifeline/token', TOKEN);
  const sandbox = (env: Record<string, string>) => {
    const created = new Sandbox({
      extensionsDir: join(inject('layerDir'), 'extensions'),
      freeze: true,
      tmpDir: join(dir, 'tmp'),
      timeoutMs: 60_000,
      env: {
        LIFELINE_COLLECTOR_URL: collector.url,
        LIFELINE_TELEMETRY_PORT: '0',
        LIFELINE_INVOKE_WAIT_MS: String(INVOKE_WAIT_MS),
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: FAKE_CREDENTIALS.sessionToken,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
        ...env,
      },
    });
    onTestFinished(() => created.close());
    return created;
  };
  const detailOf = async (envId: string) => {
    const res = await fetch(`${collector.url}/v1/environments/${envId}`);
    return { status: res.status, detail: (await res.json()) as EnvironmentDetail };
  };
  return { aws, sandbox, detailOf, endpoint: aws.url };
}

describe('the layer with a token read from Secrets Manager at run time', () => {
  it('delivers every event with the token from the secret field when only the ARN is configured', async () => {
    const { aws, sandbox: create, detailOf } = await setUp();
    const sandbox = create({
      LIFELINE_TOKEN_SECRET_ARN: SECRET_ARN,
      LIFELINE_TOKEN_SECRET_FIELD: 'token',
    });
    const invokes = [];
    for (let i = 0; i < 3; i++) invokes.push(await sandbox.invoke({ durationMs: 10 }));
    const shutdown = await sandbox.shutdown('spindown');
    expect(shutdown.extensions[0]).toMatchObject({ exitCode: 0, state: 'Exited' });
    expect(sandbox.output('lifeline')).toBe('');
    expect(aws.calls).toEqual([
      expect.objectContaining({ target: 'secretsmanager.GetSecretValue', status: 200 }),
    ]);
    // Off the cold-start path: the secret is read only once the first /event/next went out.
    const firstNext = logOf(sandbox.log, 'extension.next')[0]!;
    expect(aws.calls[0]!.at).toBeGreaterThanOrEqual(firstNext.time);

    const envId = logOf(sandbox.log, 'extension.register')[0]!.extensionId!;
    const { status, detail } = await detailOf(envId);
    expect(status).toBe(200);
    expect(detail.environment).toMatchObject({
      envId,
      state: 'ended',
      invokeCount: 3,
      missingEvents: 0,
      droppedEvents: 0,
    });
    expect(detail.invocations.map((invocation) => invocation.requestId).sort()).toEqual(
      invokes.map((invoke) => invoke.requestId).sort(),
    );
  });

  it('delivers every event with an SSM SecureString reached through AWS_ENDPOINT_URL', async () => {
    const { aws, sandbox: create, detailOf, endpoint } = await setUp();
    const sandbox = create({
      LIFELINE_TOKEN_SSM_PARAMETER: '/lifeline/token',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: '',
      AWS_ENDPOINT_URL: endpoint,
    });
    await sandbox.invoke({ durationMs: 10 });
    await sandbox.shutdown('spindown');
    expect(sandbox.output('lifeline')).toBe('');
    expect(aws.calls).toEqual([
      expect.objectContaining({
        target: 'AmazonSSM.GetParameter',
        body: { Name: '/lifeline/token', WithDecryption: true },
        status: 200,
      }),
    ]);
    const envId = logOf(sandbox.log, 'extension.register')[0]!.extensionId!;
    const { detail } = await detailOf(envId);
    expect(detail.environment).toMatchObject({ state: 'ended', invokeCount: 1, missingEvents: 0 });
  });

  it('keeps running, never holds the function and logs one line when reading the secret is denied', async () => {
    const { aws, sandbox: create } = await setUp();
    aws.state.denied.add(SECRET_ARN);
    const sandbox = create({ LIFELINE_TOKEN_SECRET_ARN: SECRET_ARN });
    for (let i = 0; i < 3; i++) {
      const invoke = await sandbox.invoke({ durationMs: 10 });
      expect(invoke.status).toBe('success');
    }
    const holds = holdTimes(sandbox.log);
    expect(holds).toHaveLength(3);
    for (const hold of holds) expect(hold).toBeLessThan(INVOKE_WAIT_MS);
    const shutdown = await sandbox.shutdown('spindown');
    expect(shutdown.extensions[0]).toMatchObject({ exitCode: 0, state: 'Exited' });

    const lines = sandbox.output('lifeline').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      msg: 'could not read the ingest token; keeping events for later',
      detail: expect.stringContaining('AccessDeniedException'),
    });
    for (const secret of Object.values(FAKE_CREDENTIALS)) expect(lines[0]).not.toContain(secret);
    expect(aws.calls.length).toBeGreaterThan(0);
    expect(aws.calls.every((call) => call.errorType === 'AccessDeniedException')).toBe(true);
  });
});

describe('the layer against a collector refusing its token', () => {
  it('keeps the events through a wrong token and delivers them once the right one is configured', async () => {
    const { sandbox: create, detailOf } = await setUp();
    const wrong = create({ LIFELINE_TOKEN: 'wrong-token' });
    await wrong.invoke({ durationMs: 10 });
    await wrong.invoke({ durationMs: 10 });
    const shutdown = await wrong.shutdown('spindown');
    expect(shutdown.extensions[0]).toMatchObject({ exitCode: 0, state: 'Exited' });
    const lines = wrong.output('lifeline').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'collector rejected the token; keeping events for later',
      detail: 'collector answered 401',
    });
    const oldEnv = logOf(wrong.log, 'extension.register')[0]!.extensionId!;
    expect((await detailOf(oldEnv)).status).toBe(404);
    await wrong.close();

    // The same /tmp (the spool), the token fixed: the earlier environment's events arrive, none dropped.
    const right = create({ LIFELINE_TOKEN: TOKEN });
    await right.invoke({ durationMs: 10 });
    await right.shutdown('spindown');
    expect(right.output('lifeline')).toBe('');
    const { status, detail } = await detailOf(oldEnv);
    expect(status).toBe(200);
    expect(detail.environment).toMatchObject({
      envId: oldEnv,
      state: 'ended',
      invokeCount: 2,
      missingEvents: 0,
      droppedEvents: 0,
    });
  });
});
