import { describe, expect, it, onTestFinished } from 'vitest';
import type { AwsEnvironment, RuntimeTokenSource } from '../src/config.ts';
import { LifelineError } from '../src/errors.ts';
import { FAILURE_HOLD_MS, runtimeTokenProvider } from '../src/token-provider.ts';
import { FAKE_CREDENTIALS, startFakeAws } from './helpers/fake-aws.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lifeline-token-AbCdEf';

async function setUp() {
  const aws = await startFakeAws(onTestFinished);
  const env: AwsEnvironment = {
    region: aws.region,
    accessKeyId: FAKE_CREDENTIALS.accessKeyId,
    secretAccessKey: FAKE_CREDENTIALS.secretAccessKey,
    sessionToken: FAKE_CREDENTIALS.sessionToken,
    endpointUrl: aws.url,
  };
  let clock = 1_000_000;
  const provider = (source: RuntimeTokenSource, overrides: Partial<AwsEnvironment> = {}) => {
    const seen: string[] = [];
    const tokens = runtimeTokenProvider({
      source,
      aws: { ...env, ...overrides },
      timeoutMs: 2_000,
      onToken: (token) => seen.push(token),
      now: () => clock,
    });
    return { tokens, seen };
  };
  return {
    aws,
    provider,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<LifelineError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LifelineError);
  return error as LifelineError;
}

describe('runtimeTokenProvider', () => {
  it('reads the whole SecretString once and caches it when the secret is a plain string', async () => {
    const { aws, provider } = await setUp();
    aws.state.secrets.set(SECRET_ARN, 'plain-token');
    const { tokens, seen } = provider({ kind: 'secret', secretId: SECRET_ARN, field: undefined });
    const [first, second] = await Promise.all([tokens.get(), tokens.get()]);
    expect([first, second, await tokens.get()]).toEqual([
      'plain-token',
      'plain-token',
      'plain-token',
    ]);
    expect(seen).toEqual(['plain-token']);
    expect(aws.calls).toEqual([
      {
        at: expect.any(Number),
        target: 'secretsmanager.GetSecretValue',
        body: { SecretId: SECRET_ARN },
        status: 200,
        errorType: undefined,
      },
    ]);
  });

  it('reads the JSON field when LIFELINE_TOKEN_SECRET_FIELD names one', async () => {
    const { aws, provider } = await setUp();
    aws.state.secrets.set(SECRET_ARN, JSON.stringify({ token: 'field-token', other: 'x' }));
    const { tokens } = provider({ kind: 'secret', secretId: SECRET_ARN, field: 'token' });
    expect(await tokens.get()).toBe('field-token');
  });

  it('explains a missing field clearly without echoing the secret when the field is absent', async () => {
    const { aws, provider } = await setUp();
    aws.state.secrets.set(SECRET_ARN, JSON.stringify({ password: 'hunter2-secret' }));
    const { tokens, seen } = provider({ kind: 'secret', secretId: SECRET_ARN, field: 'token' });
    const error = await failure(tokens.get());
    expect(error.code).toBe('EXT_ERR_TOKEN');
    expect(error.message).toContain('the secret has no string field "token"');
    expect(error.message).not.toContain('hunter2');
    expect(seen).toEqual([]);
  });

  it('reads a SecureString with decryption when the source is an SSM parameter', async () => {
    const { aws, provider } = await setUp();
    aws.state.parameters.set('/lifeline/token', 'ssm-token');
    const { tokens } = provider({ kind: 'ssm', name: '/lifeline/token' });
    expect(await tokens.get()).toBe('ssm-token');
    expect(aws.calls[0]).toMatchObject({
      target: 'AmazonSSM.GetParameter',
      body: { Name: '/lifeline/token', WithDecryption: true },
      status: 200,
    });
  });

  it('reports AccessDeniedException with its message and no credentials when the role may not read', async () => {
    const { aws, provider } = await setUp();
    aws.state.secrets.set(SECRET_ARN, 'plain-token');
    aws.state.denied.add(SECRET_ARN);
    const { tokens } = provider({ kind: 'secret', secretId: SECRET_ARN, field: undefined });
    const error = await failure(tokens.get());
    expect(error.message).toMatch(
      /^GetSecretValue answered 400 AccessDeniedException: User: .* is not authorized/,
    );
    for (const secret of Object.values(FAKE_CREDENTIALS))
      expect(error.message).not.toContain(secret);
    expect(aws.calls.map((call) => call.errorType)).toEqual(['AccessDeniedException']);
  });

  it('fails the signature check when the secret access key is wrong', async () => {
    const { aws, provider } = await setUp();
    aws.state.parameters.set('p', 'ssm-token');
    const { tokens } = provider({ kind: 'ssm', name: 'p' }, { secretAccessKey: 'wrong-key' });
    const error = await failure(tokens.get());
    expect(error.message).toContain('403 InvalidSignatureException');
    expect(error.message).not.toContain('wrong-key');
  });

  it('answers the remembered failure until the hold passes, then fetches again', async () => {
    const { aws, provider, advance } = await setUp();
    aws.state.denied.add('p');
    aws.state.parameters.set('p', 'ssm-token');
    const { tokens } = provider({ kind: 'ssm', name: 'p' });
    await failure(tokens.get());
    await failure(tokens.get());
    expect(aws.calls).toHaveLength(1);
    aws.state.denied.delete('p');
    advance(FAILURE_HOLD_MS);
    expect(await tokens.get()).toBe('ssm-token');
    expect(aws.calls).toHaveLength(2);
  });

  it('re-reads a rotated token when invalidated', async () => {
    const { aws, provider } = await setUp();
    aws.state.parameters.set('p', 'old-token');
    const { tokens, seen } = provider({ kind: 'ssm', name: 'p' });
    expect(await tokens.get()).toBe('old-token');
    aws.state.parameters.set('p', 'new-token');
    expect(await tokens.get()).toBe('old-token');
    tokens.invalidate();
    expect(await tokens.get()).toBe('new-token');
    expect(seen).toEqual(['old-token', 'new-token']);
  });

  it('gives up within the timeout when the endpoint never answers', async () => {
    const { aws } = await setUp();
    aws.state.hang = true;
    const tokens = runtimeTokenProvider({
      source: { kind: 'ssm', name: 'p' },
      aws: {
        region: aws.region,
        accessKeyId: FAKE_CREDENTIALS.accessKeyId,
        secretAccessKey: FAKE_CREDENTIALS.secretAccessKey,
        sessionToken: undefined,
        endpointUrl: aws.url,
      },
      timeoutMs: 200,
    });
    const error = await failure(tokens.get());
    expect(error.message).toContain('EXT_ERR_TIMEOUT');
  });

  it('names what is missing when region, credentials or the endpoint are unusable', async () => {
    const { provider } = await setUp();
    const source: RuntimeTokenSource = { kind: 'ssm', name: 'p' };
    expect((await failure(provider(source, { region: undefined }).tokens.get())).message).toContain(
      'AWS_REGION is not set',
    );
    expect(
      (await failure(provider(source, { secretAccessKey: undefined }).tokens.get())).message,
    ).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set');
    expect(
      (await failure(provider(source, { endpointUrl: 'ftp://x' }).tokens.get())).message,
    ).toContain('not an http(s) URL');
  });
});
