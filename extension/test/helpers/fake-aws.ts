import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRequest } from '../../src/aws/sigv4.ts';

/** Credentials the fake accepts. */
export const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIDFAKEEXAMPLE',
  secretAccessKey: 'fake/secret+access+key/EXAMPLEKEY',
  sessionToken: 'fake-session-token//EXAMPLE==',
} as const;

/** One request as the fake saw it. */
export interface AwsCall {
  /** When the request was complete (epoch ms). */
  at: number;
  target: string | undefined;
  body: Record<string, unknown> | undefined;
  status: number;
  errorType: string | undefined;
}

/** What the fake knows, changeable between calls. */
export interface FakeAwsState {
  /** Secret id (ARN or name) → SecretString. */
  secrets: Map<string, string>;
  /** Parameter name → decrypted value. */
  parameters: Map<string, string>;
  /** Secret ids and parameter names the caller may not read. */
  denied: Set<string>;
  /** Never answer (an unreachable endpoint that accepted the connection). */
  hang: boolean;
}

const ACCOUNT_ROLE = 'arn:aws:sts::123456789012:assumed-role/fn-role/fn';

/**
 * A Secrets Manager + SSM stand-in on 127.0.0.1 speaking the AWS JSON 1.1 protocol. Every request's SigV4 signature
 * is recomputed from what arrived (signed headers, body, date) and checked like AWS does; errors come back as AWS
 * sends them (`{"__type", "Message"}` with 400, or 403 for signature problems).
 */
export async function startFakeAws(
  onFinished: (cleanup: () => Promise<void>) => void,
  region = 'eu-west-1',
) {
  const state: FakeAwsState = {
    secrets: new Map(),
    parameters: new Map(),
    denied: new Set(),
    hang: false,
  };
  const calls: AwsCall[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (state.hang) {
        hanging.add(res);
        return;
      }
      const answer = handle(req, text, state, region);
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      calls.push({
        at: Date.now(),
        target: req.headers['x-amz-target'] as string | undefined,
        body,
        status: answer.status,
        errorType: answer.status === 200 ? undefined : String(answer.body.__type),
      });
      const payload = JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': Buffer.byteLength(payload),
        'x-amzn-requestid': `req-${calls.length}`,
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    for (const res of hanging) res.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  onFinished(close);
  return { url, region, state, calls, close };
}

function handle(
  req: IncomingMessage,
  text: string,
  state: FakeAwsState,
  region: string,
): { status: number; body: Record<string, unknown> } {
  const target = String(req.headers['x-amz-target'] ?? '');
  const service = target.startsWith('secretsmanager.')
    ? 'secretsmanager'
    : target.startsWith('AmazonSSM.')
      ? 'ssm'
      : undefined;
  if (req.method !== 'POST' || service === undefined)
    return error(400, 'UnknownOperationException', `unknown operation ${target}`);
  if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
    return error(400, 'SerializationException', 'expected application/x-amz-json-1.1');
  const problem = checkSignature(req, text, service, region);
  if (problem !== undefined) return problem;
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return error(400, 'SerializationException', 'body is not JSON');
  }
  if (target === 'secretsmanager.GetSecretValue') {
    const id = String(input.SecretId ?? '');
    if (state.denied.has(id))
      return error(
        400,
        'AccessDeniedException',
        `User: ${ACCOUNT_ROLE} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      );
    const secret = state.secrets.get(id);
    if (secret === undefined)
      return error(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    return {
      status: 200,
      body: {
        ARN: id,
        Name: id.split(':').at(-1),
        SecretString: secret,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_764_000_000,
      },
    };
  }
  if (target === 'AmazonSSM.GetParameter') {
    const name = String(input.Name ?? '');
    if (state.denied.has(name))
      return error(
        400,
        'AccessDeniedException',
        `User: ${ACCOUNT_ROLE} is not authorized to perform: ssm:GetParameter on resource: ${name}`,
      );
    const value = state.parameters.get(name);
    if (value === undefined) return error(400, 'ParameterNotFound', '');
    return {
      status: 200,
      body: {
        Parameter: {
          Name: name,
          Type: 'SecureString',
          // Without decryption AWS answers the ciphertext.
          Value: input.WithDecryption === true ? value : 'AQICAHh…ciphertext',
          Version: 1,
          DataType: 'text',
        },
      },
    };
  }
  return error(400, 'UnknownOperationException', `unknown operation ${target}`);
}

function checkSignature(
  req: IncomingMessage,
  text: string,
  service: string,
  region: string,
): { status: number; body: Record<string, unknown> } | undefined {
  const authorization = String(req.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) return error(400, 'IncompleteSignatureException', 'malformed Authorization header');
  const [, accessKeyId, date, scopeRegion, scopeService, signedHeaders, signature] = match;
  if (accessKeyId !== FAKE_CREDENTIALS.accessKeyId)
    return error(
      400,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  if (scopeRegion !== region || scopeService !== service)
    return error(
      400,
      'InvalidSignatureException',
      `credential should be scoped to ${region}/${service}`,
    );
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || amzDate.slice(0, 8) !== date)
    return error(400, 'IncompleteSignatureException', 'bad X-Amz-Date');
  const at = new Date(`${when[1]}-${when[2]}-${when[3]}T${when[4]}:${when[5]}:${when[6]}Z`);
  if (Math.abs(Date.now() - at.getTime()) > 5 * 60_000)
    return error(400, 'InvalidSignatureException', 'Signature expired');
  const names = signedHeaders!.split(';');
  for (const required of ['content-type', 'host', 'x-amz-date', 'x-amz-target'])
    if (!names.includes(required))
      return error(400, 'InvalidSignatureException', `${required} must be signed`);
  const token = req.headers['x-amz-security-token'];
  if (token !== undefined && token !== FAKE_CREDENTIALS.sessionToken)
    return error(
      400,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  const headers: Record<string, string> = {};
  for (const name of names) {
    if (name === 'host' || name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    headers[name] = String(req.headers[name] ?? '');
  }
  const expected = signRequest({
    method: req.method ?? '',
    url: new URL(req.url ?? '/', `http://${req.headers.host}`),
    headers,
    body: text,
    region,
    service,
    credentials: {
      accessKeyId: FAKE_CREDENTIALS.accessKeyId,
      secretAccessKey: FAKE_CREDENTIALS.secretAccessKey,
      sessionToken: typeof token === 'string' ? token : undefined,
    },
    now: at,
  });
  if (expected.signature !== signature || expected.headers.authorization !== authorization)
    return {
      status: 403,
      body: {
        __type: 'InvalidSignatureException',
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      },
    };
  return undefined;
}

function error(status: number, type: string, message: string) {
  return { status, body: { __type: type, Message: message } };
}
