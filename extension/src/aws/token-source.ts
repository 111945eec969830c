import type { AwsEnvironment, RuntimeTokenSource } from '../config.ts';
import { signRequest } from './sigv4.ts';

/** A signed AWS API request, ready to send. */
export interface TokenRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** `GetSecretValue` or `GetParameter`, for messages. */
  action: string;
}

const MAX_MESSAGE_CHARS = 300;

/**
 * Builds the signed `GetSecretValue` (Secrets Manager) or `GetParameter` (SSM, decrypted) request for `source`.
 * Throws an `Error` naming what is missing (region, credentials, a valid endpoint override); messages never hold
 * credentials. Kept free of the extension's other modules so it loads as its own chunk, only when needed.
 */
export function tokenRequest(
  source: RuntimeTokenSource,
  aws: AwsEnvironment,
  now: Date,
): TokenRequest {
  if (aws.region === undefined) throw new Error('AWS_REGION is not set');
  if (aws.accessKeyId === undefined || aws.secretAccessKey === undefined)
    throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set');
  const service = source.kind === 'ssm' ? 'ssm' : 'secretsmanager';
  const target = source.kind === 'ssm' ? 'AmazonSSM.GetParameter' : 'secretsmanager.GetSecretValue';
  const url = endpoint(service, aws.region, aws.endpointUrl);
  const body = JSON.stringify(
    source.kind === 'ssm'
      ? { Name: source.name, WithDecryption: true }
      : { SecretId: source.secretId },
  );
  const { headers } = signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body,
    region: aws.region,
    service,
    credentials: {
      accessKeyId: aws.accessKeyId,
      secretAccessKey: aws.secretAccessKey,
      sessionToken: aws.sessionToken,
    },
    now,
  });
  return { url, headers, body, action: target.split('.')[1]! };
}

/**
 * Reads the token from the service's answer: the parameter's `Value`, the secret's `SecretString`, or its JSON field
 * `source.field`. Throws an `Error` with the AWS error type and message for non-200 answers, and a clear one for a
 * missing field; never includes the secret's value.
 */
export function tokenFromAnswer(
  source: RuntimeTokenSource,
  action: string,
  status: number,
  text: string,
): string {
  const answer = parseObject(text);
  if (status !== 200) {
    const type = String(answer?.__type ?? 'UnknownError').replace(/^.*#/, '');
    const message = String(answer?.Message ?? answer?.message ?? '').slice(0, MAX_MESSAGE_CHARS);
    throw new Error(`${action} answered ${status} ${type}${message ? `: ${message}` : ''}`);
  }
  let token: unknown;
  if (source.kind === 'ssm') {
    token = (answer?.Parameter as { Value?: unknown } | undefined)?.Value;
    if (typeof token !== 'string') throw new Error(`${action} answered without Parameter.Value`);
  } else {
    token = answer?.SecretString;
    if (typeof token !== 'string')
      throw new Error('the secret has no SecretString (binary secrets are not supported)');
    if (source.field !== undefined) {
      token = parseObject(token)?.[source.field];
      if (typeof token !== 'string')
        throw new Error(
          `the secret has no string field "${source.field}" (LIFELINE_TOKEN_SECRET_FIELD): it must be a JSON object holding the token there`,
        );
    }
  }
  const trimmed = (token as string).trim();
  if (trimmed === '') throw new Error('the token read from AWS is empty');
  return trimmed;
}

function endpoint(service: string, region: string, override: string | undefined): URL {
  if (override === undefined) {
    const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    return new URL(`https://${service}.${region}.${suffix}/`);
  }
  let url: URL | undefined;
  try {
    url = new URL(override);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new Error(`the endpoint override for ${service} is not an http(s) URL`);
  return url;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
