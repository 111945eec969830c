import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.ts';
import {
  errorBody,
  logEntry,
  raw,
  rawRegister,
  sandbox,
  sleeperExtension,
  tempDir,
} from './helpers.ts';

const REGISTER = '/2020-01-01/extension/register';
const NEXT = '/2020-01-01/extension/event/next';
const INIT_ERROR = '/2020-01-01/extension/init/error';
const EXIT_ERROR = '/2020-01-01/extension/exit/error';
const UNKNOWN_ID = '0b6f2c1e-4a3b-4c5d-8e9f-0a1b2c3d4e5f';

/** A sandbox in Init whose external extension `holder` never registers by itself, so registration stays open. */
async function openRegistration(): Promise<{
  box: Sandbox;
  address: string;
  init: Promise<unknown>;
}> {
  const dir = join(tempDir(), 'extensions');
  mkdirSync(dir);
  sleeperExtension(dir, 'holder');
  const box = sandbox({ extensionsDir: dir, initTimeoutMs: 25_000, shutdownBudgetMs: 200 });
  const init = box.init();
  await logEntry(box, (entry) => entry.kind === 'extension.launch');
  return { box, address: box.runtimeApiAddress, init };
}

describe('Extensions API', () => {
  it('registers an external extension and returns the function metadata when the name matches a launched file', async () => {
    const { address } = await openRegistration();
    const res = await rawRegister(address, 'holder', ['INVOKE', 'SHUTDOWN']);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body).toBe(
      '{"functionName":"fn","functionVersion":"$LATEST","handler":"index.handler"}\n',
    );
  });

  it('adds accountId only when Lambda-Extension-Accept-Feature asks for it', async () => {
    const { address } = await openRegistration();
    const res = await rawRegister(address, 'holder', ['INVOKE'], {
      'Lambda-Extension-Accept-Feature': 'foo, accountId',
    });
    expect(JSON.parse(res.body)).toEqual({
      functionName: 'fn',
      functionVersion: '$LATEST',
      handler: 'index.handler',
      accountId: '123456789012',
    });
  });

  it('answers 403 InvalidExtensionName when the name header is missing', async () => {
    const { address } = await openRegistration();
    const res = await raw(address, 'POST', REGISTER, { body: '{"events":[]}' });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe(errorBody('Extension.InvalidExtensionName', 'Empty extension name'));
  });

  it.each([
    ['no', "invalid character 'o' in literal null (expecting 'u')"],
    ['', 'unexpected end of JSON input'],
    ['{"events":', 'unexpected end of JSON input'],
    ['{events:[]}', "invalid character 'e' looking for beginning of object key string"],
    ['{"events":[]} x', "invalid character 'x' after top-level value"],
  ])(
    'answers 403 InvalidRequestFormat with Go JSON text when the body is %j',
    async (body, message) => {
      const { address } = await openRegistration();
      const res = await raw(address, 'POST', REGISTER, {
        headers: { 'Lambda-Extension-Name': 'holder' },
        body,
      });
      expect(res.status).toBe(403);
      expect(res.body).toBe(errorBody('InvalidRequestFormat', message));
    },
  );

  it('rejects configurationKeys when they are present', async () => {
    const { address } = await openRegistration();
    const res = await raw(address, 'POST', REGISTER, {
      headers: { 'Lambda-Extension-Name': 'holder' },
      body: '{"events":["INVOKE"],"configurationKeys":["a"]}',
    });
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      errorBody(
        'InvalidRequestFormat',
        'configurationKeys are deprecated; use environment variables instead',
      ),
    );
  });

  it('rejects an unknown event name when registering', async () => {
    const { address } = await openRegistration();
    const res = await rawRegister(address, 'holder', ['INVOKE', 'FOO']);
    expect(res.status).toBe(403);
    expect(res.body).toBe(errorBody('Extension.InvalidEventType', 'FOO: ErrorInvalidEventType'));
  });

  it('refuses SHUTDOWN to an internal extension when the name matches no launched file', async () => {
    const { address } = await openRegistration();
    const res = await rawRegister(address, 'wrong-name', ['INVOKE', 'SHUTDOWN']);
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      errorBody(
        'Extension.InvalidEventType',
        'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension',
      ),
    );
  });

  it('refuses a second registration of the same external extension', async () => {
    const { address } = await openRegistration();
    expect((await rawRegister(address, 'holder')).status).toBe(200);
    const res = await rawRegister(address, 'holder');
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      errorBody(
        'Extension.InvalidExtensionState',
        'State transition from Registered to Registered failed for extension holder. Error: State transition is not allowed',
      ),
    );
  });

  it('refuses an internal extension whose name is already registered', async () => {
    const { address } = await openRegistration();
    expect((await rawRegister(address, 'inner')).status).toBe(200);
    const res = await rawRegister(address, 'inner');
    expect(res.body).toBe(
      errorBody('Extension.InvalidExtensionState', 'Extension with this name already registered'),
    );
  });

  it('refuses the eleventh extension when ten are registered', async () => {
    const { address } = await openRegistration();
    for (let i = 1; i <= 9; i++)
      expect((await rawRegister(address, `inner-${i}`)).status).toBe(200);
    const res = await rawRegister(address, 'inner-10');
    expect(res.status).toBe(403);
    expect(res.body).toBe(errorBody('Extension.TooManyExtensions', 'Extension limit (10) reached'));
  });

  it('refuses internal registration when Init is over', async () => {
    const box = sandbox({});
    expect((await box.init()).status).toBe('success');
    const res = await rawRegister(box.runtimeApiAddress, 'late');
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      errorBody('Extension.RegistrationClosed', 'Extension registration closed already'),
    );
  });

  it.each([NEXT, INIT_ERROR, EXIT_ERROR])('validates the identifier header on %s', async (path) => {
    const { address } = await openRegistration();
    const method = path === NEXT ? 'GET' : 'POST';
    const missing = await raw(address, method, path);
    expect(missing.status).toBe(403);
    expect(missing.body).toBe(
      errorBody(
        'Extension.MissingExtensionIdentifier',
        'Missing Lambda-Extension-Identifier header',
      ),
    );
    const invalid = await raw(address, method, path, {
      headers: { 'Lambda-Extension-Identifier': 'not-a-uuid' },
    });
    expect(invalid.body).toBe(
      errorBody('Extension.InvalidExtensionIdentifier', 'Invalid Lambda-Extension-Identifier'),
    );
  });

  it('answers Unknown extension when /next carries an identifier nobody was issued', async () => {
    const { address } = await openRegistration();
    const res = await raw(address, 'GET', NEXT, {
      headers: { 'Lambda-Extension-Identifier': UNKNOWN_ID },
    });
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      errorBody('Extension.UnknownExtensionIdentifier', `Unknown extension ${UNKNOWN_ID}`),
    );
  });

  it('normalises identifiers like Go uuid.Parse when they are upper case or braced', async () => {
    const { address } = await openRegistration();
    const upper = UNKNOWN_ID.toUpperCase();
    const res = await raw(address, 'GET', NEXT, {
      headers: { 'Lambda-Extension-Identifier': `{${upper}}` },
    });
    expect(res.body).toBe(
      errorBody('Extension.UnknownExtensionIdentifier', `Unknown extension ${UNKNOWN_ID}`),
    );
  });

  it('rejects a duplicate /next with 403 while the first stays parked', async () => {
    const { box, address } = await openRegistration();
    const { id } = await rawRegister(address, 'holder', ['INVOKE', 'SHUTDOWN']);
    const parked = raw(address, 'GET', NEXT, { headers: { 'Lambda-Extension-Identifier': id } });
    await logEntry(box, (entry) => entry.kind === 'extension.next' && entry.state === 'Ready');
    const second = await raw(address, 'GET', NEXT, {
      headers: { 'Lambda-Extension-Identifier': id },
    });
    expect(second.status).toBe(403);
    expect(second.body).toBe(
      errorBody(
        'Extension.InvalidExtensionState',
        `State transition from Ready to Ready failed for extension ${id}. Error: State transition is not allowed`,
      ),
    );
    // The parked request is still the one that gets the next event (here: SHUTDOWN at close → connection ends).
    void parked.catch(() => undefined);
  });

  it('requires the error type header on init/error and exit/error', async () => {
    const { address } = await openRegistration();
    const { id } = await rawRegister(address, 'holder');
    for (const path of [INIT_ERROR, EXIT_ERROR]) {
      const res = await raw(address, 'POST', path, {
        headers: { 'Lambda-Extension-Identifier': id },
      });
      expect(res.status).toBe(403);
      expect(res.body).toBe(
        errorBody('Extension.MissingHeader', 'Lambda-Extension-Function-Error-Type not found'),
      );
    }
  });

  it('answers Unknown Lambda-Extension-Identifier when init/error or exit/error has an unknown id', async () => {
    const { address } = await openRegistration();
    for (const path of [INIT_ERROR, EXIT_ERROR]) {
      const res = await raw(address, 'POST', path, {
        headers: {
          'Lambda-Extension-Identifier': UNKNOWN_ID,
          'Lambda-Extension-Function-Error-Type': 'Extension.X',
        },
      });
      expect(res.body).toBe(
        errorBody('Extension.UnknownExtensionIdentifier', 'Unknown Lambda-Extension-Identifier'),
      );
    }
  });

  it('accepts init/error once, repeats it as a no-op and then refuses /next and exit/error', async () => {
    const { address } = await openRegistration();
    // An internal extension: no process for the failed Init's teardown to kill, so its state stays InitError.
    const { id } = await rawRegister(address, 'inner');
    const headers = {
      'Lambda-Extension-Identifier': id,
      'Lambda-Extension-Function-Error-Type': 'Extension.ConfigInvalid',
    };
    const first = await raw(address, 'POST', INIT_ERROR, { headers });
    expect(first.status).toBe(202);
    expect(first.body).toBe('{"status":"OK"}\n');
    expect((await raw(address, 'POST', INIT_ERROR, { headers })).status).toBe(202);
    const next = await raw(address, 'GET', NEXT, { headers });
    expect(next.body).toBe(
      errorBody(
        'Extension.InvalidExtensionState',
        `State transition from InitError to Ready failed for extension ${id}. Error: State transition is not allowed`,
      ),
    );
    const exit = await raw(address, 'POST', EXIT_ERROR, { headers });
    expect(exit.body).toBe(
      errorBody(
        'Extension.InvalidExtensionState',
        `State transition from InitError to Exited failed for extension ${id}. Error: State transition is not allowed`,
      ),
    );
  });

  it('refuses init/error once the extension is Ready', async () => {
    const { box, address } = await openRegistration();
    const { id } = await rawRegister(address, 'holder');
    void raw(address, 'GET', NEXT, { headers: { 'Lambda-Extension-Identifier': id } }).catch(
      () => undefined,
    );
    await logEntry(box, (entry) => entry.kind === 'extension.next' && entry.state === 'Ready');
    const res = await raw(address, 'POST', INIT_ERROR, {
      headers: {
        'Lambda-Extension-Identifier': id,
        'Lambda-Extension-Function-Error-Type': 'Extension.Late',
      },
    });
    expect(res.body).toBe(
      errorBody(
        'Extension.InvalidExtensionState',
        `State transition from Ready to InitError failed for extension ${id}. Error: State transition is not allowed`,
      ),
    );
  });

  it('answers exit/error with 202 and then refuses /next', async () => {
    const { address } = await openRegistration();
    const { id } = await rawRegister(address, 'holder');
    const headers = {
      'Lambda-Extension-Identifier': id,
      'Lambda-Extension-Function-Error-Type': 'Extension.Broken',
    };
    expect((await raw(address, 'POST', EXIT_ERROR, { headers })).body).toBe('{"status":"OK"}\n');
    const next = await raw(address, 'GET', NEXT, { headers });
    expect(next.body).toContain('State transition from ExitError to Ready failed');
  });

  it('answers 404 page not found when the path is unknown', async () => {
    const { address } = await openRegistration();
    const res = await raw(address, 'GET', '/2020-01-01/nothing');
    expect(res.status).toBe(404);
    expect(res.body).toBe('404 page not found\n');
  });
});
