import { describe, expect, it } from 'vitest';
import { tokenFromAnswer, tokenRequest } from '../../src/aws/token-source.ts';
import type { AwsEnvironment } from '../../src/config.ts';

const AWS: AwsEnvironment = {
  region: 'eu-west-1',
  accessKeyId: 'AKID',
  secretAccessKey: 'secret',
  sessionToken: undefined,
  endpointUrl: undefined,
};
const NOW = new Date('2026-11-25T12:00:00Z');

describe('tokenRequest', () => {
  it('targets the regional AWS endpoints with the JSON 1.1 protocol when no override is set', () => {
    const secret = tokenRequest({ kind: 'secret', secretId: 'arn:x', field: undefined }, AWS, NOW);
    expect(secret.url.href).toBe('https://secretsmanager.eu-west-1.amazonaws.com/');
    expect(secret.action).toBe('GetSecretValue');
    expect(JSON.parse(secret.body)).toEqual({ SecretId: 'arn:x' });
    expect(secret.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
      host: 'secretsmanager.eu-west-1.amazonaws.com',
      'x-amz-date': '20261125T120000Z',
    });
    expect(secret.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/20261125\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    const ssm = tokenRequest({ kind: 'ssm', name: '/p' }, { ...AWS, region: 'cn-north-1' }, NOW);
    expect(ssm.url.href).toBe('https://ssm.cn-north-1.amazonaws.com.cn/');
    expect(ssm.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    expect(JSON.parse(ssm.body)).toEqual({ Name: '/p', WithDecryption: true });
  });
});

describe('tokenFromAnswer', () => {
  const secret = { kind: 'secret', secretId: 'arn:x', field: undefined } as const;
  const ssm = { kind: 'ssm', name: '/p' } as const;

  it('names the AWS error type without its namespace when the answer is an error', () => {
    expect(() =>
      tokenFromAnswer(
        ssm,
        'GetParameter',
        400,
        '{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"gone"}',
      ),
    ).toThrow('GetParameter answered 400 ParameterNotFound: gone');
    expect(() => tokenFromAnswer(ssm, 'GetParameter', 502, '<html>')).toThrow(
      'GetParameter answered 502 UnknownError',
    );
  });

  it('refuses binary secrets, answers without a value and empty tokens with a clear error', () => {
    expect(() => tokenFromAnswer(secret, 'GetSecretValue', 200, '{"SecretBinary":"AAEC"}')).toThrow(
      'the secret has no SecretString (binary secrets are not supported)',
    );
    expect(() => tokenFromAnswer(ssm, 'GetParameter', 200, '{"Parameter":{}}')).toThrow(
      'GetParameter answered without Parameter.Value',
    );
    expect(() => tokenFromAnswer(ssm, 'GetParameter', 200, 'not json')).toThrow(
      'GetParameter answered without Parameter.Value',
    );
    expect(() => tokenFromAnswer(secret, 'GetSecretValue', 200, '{"SecretString":"  "}')).toThrow(
      'the token read from AWS is empty',
    );
  });

  it('reads a field only from a JSON object secret when a field is configured', () => {
    const withField = { ...secret, field: 'token' };
    const answer = (value: string) => JSON.stringify({ SecretString: value });
    expect(tokenFromAnswer(withField, 'GetSecretValue', 200, answer('{"token":" t1 "}'))).toBe(
      't1',
    );
    for (const value of ['plain', '["token"]', '{"token":42}'])
      expect(() => tokenFromAnswer(withField, 'GetSecretValue', 200, answer(value))).toThrow(
        'the secret has no string field "token"',
      );
  });
});
