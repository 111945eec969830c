import { describe, expect, it } from 'vitest';
import { sha256Hex, signRequest } from '../../src/aws/sigv4.ts';

// AWS's published example ("Create a signed AWS API request", IAM ListUsers).
const EXAMPLE = {
  method: 'GET',
  url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
  body: '',
  region: 'us-east-1',
  service: 'iam',
  credentials: {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  },
  now: new Date('2015-08-30T12:36:00Z'),
};

describe('signRequest', () => {
  it('reproduces the signature of AWS documentation example when given its inputs', () => {
    const signed = signRequest(EXAMPLE);
    expect(sha256Hex(signed.canonicalRequest)).toBe(
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
    expect(signed.signature).toBe(
      '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
    expect(signed.headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      host: 'iam.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    });
  });

  it('signs and sends the session token when the credentials are temporary', () => {
    const signed = signRequest({
      ...EXAMPLE,
      credentials: { ...EXAMPLE.credentials, sessionToken: 'session-token' },
    });
    expect(signed.headers['x-amz-security-token']).toBe('session-token');
    expect(signed.headers.authorization).toContain(
      'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,',
    );
    expect(signed.signature).not.toBe(signRequest(EXAMPLE).signature);
  });

  it('signs the port and the payload when the endpoint is a loopback override', () => {
    const signed = signRequest({
      ...EXAMPLE,
      method: 'POST',
      url: new URL('http://127.0.0.1:4567/'),
      body: '{"Name":"x"}',
    });
    expect(signed.headers.host).toBe('127.0.0.1:4567');
    expect(signed.canonicalRequest.endsWith(sha256Hex('{"Name":"x"}'))).toBe(true);
    expect(signed.canonicalRequest).toContain('host:127.0.0.1:4567\n');
  });

  it('sorts and encodes the query the canonical way when names need escaping', () => {
    const signed = signRequest({
      ...EXAMPLE,
      url: new URL("https://iam.amazonaws.com/a%20b/?b=2&a=2&a=1&c=x*y'"),
    });
    const [, path, query] = signed.canonicalRequest.split('\n');
    expect(path).toBe('/a%2520b/');
    expect(query).toBe('a=1&a=2&b=2&c=x%2Ay%27');
  });
});
