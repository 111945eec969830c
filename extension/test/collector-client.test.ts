import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CollectorClient, interpret } from '../src/collector-client.ts';
import { LifelineError } from '../src/errors.ts';
import type { TokenProvider } from '../src/token-provider.ts';
import { startReceiver } from './helpers/receiver.ts';

const body = (...ids: string[]) =>
  JSON.stringify({
    events: ids.map((id, seq) => ({
      id,
      envId: 'e',
      seq,
      time: 1,
      type: 'shutdown',
      shutdownReason: 'x',
      deadlineMs: 1,
    })),
  });

describe('CollectorClient', () => {
  it('sends the batch with the bearer token and reads the ack when the collector is up', async () => {
    const receiver = await startReceiver(onTestFinished);
    const client = new CollectorClient({ url: receiver.url, token: 'tok' });
    onTestFinished(() => client.close());
    expect(await client.send(body('e:0', 'e:1'), 2000)).toEqual({
      kind: 'ack',
      accepted: 2,
      duplicates: 0,
    });
    expect(await client.send(body('e:1'), 2000)).toEqual({
      kind: 'ack',
      accepted: 0,
      duplicates: 1,
    });
    expect(receiver.batches[0]).toMatchObject({
      authorization: 'Bearer tok',
      contentType: 'application/json',
    });
  });

  it('asks for a retry when the collector is down, failing or too slow', async () => {
    const receiver = await startReceiver(onTestFinished);
    const client = new CollectorClient({ url: receiver.url, token: undefined });
    onTestFinished(() => client.close());
    receiver.mode = { kind: 'status', status: 503 };
    expect(await client.send(body('e:0'), 2000)).toMatchObject({ kind: 'retry', status: 503 });
    receiver.mode = { kind: 'slow', delayMs: 1000 };
    expect(await client.send(body('e:0'), 100)).toMatchObject({ kind: 'retry', status: undefined });
    await receiver.down();
    expect(await client.send(body('e:0'), 2000)).toMatchObject({ kind: 'retry' });
  });

  it('retries once on a fresh connection when the kept-alive socket was reset', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        if (requests === 2) {
          req.socket.destroy();
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"accepted":1,"duplicates":0}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const client = new CollectorClient({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: undefined,
    });
    onTestFinished(() => client.close());
    expect(await client.send(body('e:0'), 2000)).toMatchObject({ kind: 'ack' });
    expect(await client.send(body('e:1'), 2000)).toMatchObject({ kind: 'ack' });
    expect(requests).toBe(3);
  });
});

/** A provider answering from a script of tokens or errors; counts calls and invalidations. */
function scriptedTokens(answers: (string | Error | 'never')[]) {
  const provider = {
    gets: 0,
    invalidations: 0,
    get(): Promise<string> {
      provider.gets++;
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (answer === 'never') return new Promise<string>(() => {});
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    invalidate() {
      provider.invalidations++;
    },
  } satisfies TokenProvider & Record<string, unknown>;
  return provider;
}

describe('CollectorClient with a runtime token', () => {
  it('sends the provided token and asks for it again after a 401 when the token was refused', async () => {
    const receiver = await startReceiver(onTestFinished);
    const tokens = scriptedTokens(['first', 'second']);
    const client = new CollectorClient({ url: receiver.url, token: tokens });
    onTestFinished(() => client.close());
    receiver.mode = { kind: 'status', status: 401 };
    expect(await client.send(body('e:0'), 2000)).toMatchObject({
      kind: 'retry',
      status: 401,
      problem: 'auth',
    });
    expect(tokens.invalidations).toBe(1);
    receiver.mode = { kind: 'ok' };
    expect(await client.send(body('e:0'), 2000)).toMatchObject({ kind: 'ack', accepted: 1 });
    expect(receiver.batches.map((batch) => batch.authorization)).toEqual([
      'Bearer first',
      'Bearer second',
    ]);
    expect(tokens.invalidations).toBe(1);
  });

  it('asks for a retry as a token problem without contacting the collector when no token can be read', async () => {
    const receiver = await startReceiver(onTestFinished);
    const tokens = scriptedTokens([
      new LifelineError('EXT_ERR_TOKEN', 'GetParameter answered 400'),
    ]);
    const client = new CollectorClient({ url: receiver.url, token: tokens });
    onTestFinished(() => client.close());
    expect(await client.send(body('e:0'), 2000)).toEqual({
      kind: 'retry',
      status: undefined,
      detail: 'EXT_ERR_TOKEN: GetParameter answered 400',
      problem: 'token',
    });
    expect(receiver.batches).toEqual([]);
  });

  it('stops waiting for the token when the time is up or the send is aborted', async () => {
    const receiver = await startReceiver(onTestFinished);
    const client = new CollectorClient({ url: receiver.url, token: scriptedTokens(['never']) });
    onTestFinished(() => client.close());
    expect(await client.send(body('e:0'), 50)).toMatchObject({
      kind: 'retry',
      problem: 'token',
      detail: 'no token within 50 ms',
    });
    const sending = client.send(body('e:0'), 60_000);
    client.abort();
    expect(await sending).toMatchObject({ kind: 'retry', aborted: true });
    expect(receiver.batches).toEqual([]);
  });
});

describe('CollectorClient with a hostile collector', () => {
  it('asks for a retry instead of buffering an endless answer', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('x'.repeat(1024 * 1024));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new CollectorClient({ url, token: undefined });
    onTestFinished(() => client.close());
    expect(await client.send(body('e:0'), 2000)).toMatchObject({
      kind: 'retry',
      detail: expect.stringContaining('EXT_ERR_BODY_TOO_LARGE'),
    });
  });
});

describe('interpret', () => {
  it('maps statuses to ack, rejected and retry', () => {
    expect(interpret(200, '{"accepted":3,"duplicates":1}')).toEqual({
      kind: 'ack',
      accepted: 3,
      duplicates: 1,
    });
    expect(interpret(202, 'not json')).toEqual({ kind: 'ack', accepted: 0, duplicates: 0 });
    for (const status of [400, 413, 415, 422, 404]) {
      expect(interpret(status, '')).toMatchObject({
        kind: 'rejected',
        status,
        badIndexes: undefined,
      });
    }
    expect(interpret(408, '')).toMatchObject({ kind: 'retry' });
    expect(interpret(429, '')).toMatchObject({ kind: 'retry' });
    expect(interpret(500, '')).toMatchObject({ kind: 'retry' });
  });

  it('keeps the events for a retry as an auth problem when the collector refuses the token', () => {
    expect(interpret(401, '{"error":"unauthorized"}')).toEqual({
      kind: 'retry',
      status: 401,
      detail: 'collector answered 401',
      problem: 'auth',
    });
    expect(interpret(403, '')).toMatchObject({ kind: 'retry', status: 403, problem: 'auth' });
  });

  it('names the bad events when a 400 lists indexes, and none when any detail lacks one', () => {
    const withIndexes = JSON.stringify({
      details: [
        { index: 2, path: '/x', message: 'm' },
        { index: 0, path: '', message: '' },
      ],
    });
    expect(interpret(400, withIndexes)).toMatchObject({ kind: 'rejected', badIndexes: [0, 2] });
    const partial = JSON.stringify({
      details: [
        { index: 1, path: '', message: '' },
        { path: '/', message: '' },
      ],
    });
    expect(interpret(400, partial)).toMatchObject({ kind: 'rejected', badIndexes: undefined });
  });
});
