import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogInput } from './event-log.ts';
import type { Agent, ExtensionRegistry } from './extension-registry.ts';
import { MAX_EXTENSIONS } from './extension-registry.ts';
import { decodeRegisterBody } from './go-json.ts';
import {
  BodyTooLargeError,
  parseUuid,
  readBody,
  sendAccepted,
  sendError,
  sendJson,
} from './http-json.ts';
import type { EmulatorProfile, ExtensionState } from './types.ts';

/** Path prefix of the Extensions API. */
export const EXTENSIONS_API_PREFIX = '/2020-01-01/extension';

const HEADER_NAME = 'lambda-extension-name';
const HEADER_ID = 'lambda-extension-identifier';
const HEADER_FEATURES = 'lambda-extension-accept-feature';
const HEADER_ERROR_TYPE = 'lambda-extension-function-error-type';
const REGISTER_BODY_LIMIT = 1024 * 1024;

/** What the Extensions API needs from the sandbox. */
export interface ExtensionsApiHost {
  /** Agents of the current generation; undefined when no Init is running or done. */
  readonly registry: ExtensionRegistry | undefined;
  readonly metadata: {
    functionName: string;
    functionVersion: string;
    handler: string;
    accountId: string;
  };
  readonly profile: EmulatorProfile;
  /** Lambda Managed Instances: external extensions get SHUTDOWN only, internal ones no events at all. */
  readonly managedInstances: boolean;
  log(entry: LogInput): void;
  /** A registration succeeded. */
  registered(agent: Agent): void;
  /** An agent called /next and is now Ready with `agent.parked` set. */
  ready(agent: Agent): void;
  initError(agent: Agent, errorType: string): void;
  exitError(agent: Agent, errorType: string): void;
}

/** RAPID's `StateTransitionFailedForExtensionMessageFormat`. */
export function stateTransitionMessage(from: ExtensionState, to: string, who: string): string {
  return `State transition from ${from} to ${to} failed for extension ${who}. Error: State transition is not allowed`;
}

/**
 * Answers an API error as RAPID renders it and logs `entry`, whose status and error type are the ones sent, so the
 * emulator's log always says what the extension was told.
 */
export function refuse(
  res: ServerResponse,
  host: Pick<ExtensionsApiHost, 'log'>,
  entry: LogInput & { statusCode: number; errorType: string },
  errorMessage: string,
): void {
  sendError(res, entry.statusCode, entry.errorType, errorMessage);
  host.log(entry);
}

/**
 * Resolves the `Lambda-Extension-Identifier` like RAPID's `AgentUniqueIdentifierHeaderValidator`; answers the 403
 * itself and returns undefined when the header is missing or not a UUID.
 */
export function requireIdentifier(
  req: IncomingMessage,
  res: ServerResponse,
  host: Pick<ExtensionsApiHost, 'log'>,
  kind: LogInput['kind'],
): string | undefined {
  const raw = req.headers[HEADER_ID];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) {
    refuse(
      res,
      host,
      { kind, statusCode: 403, errorType: 'Extension.MissingExtensionIdentifier' },
      'Missing Lambda-Extension-Identifier header',
    );
    return undefined;
  }
  const id = parseUuid(value);
  if (!id) {
    refuse(
      res,
      host,
      { kind, statusCode: 403, errorType: 'Extension.InvalidExtensionIdentifier' },
      'Invalid Lambda-Extension-Identifier',
    );
    return undefined;
  }
  return id;
}

function header(req: IncomingMessage, name: string): string {
  const raw = req.headers[name];
  return (Array.isArray(raw) ? raw[0] : raw) ?? '';
}

async function register(req: IncomingMessage, res: ServerResponse, host: ExtensionsApiHost) {
  const kind = 'extension.register';
  const name = header(req, HEADER_NAME);
  if (name === '') {
    refuse(
      res,
      host,
      { kind, statusCode: 403, errorType: 'Extension.InvalidExtensionName' },
      'Empty extension name',
    );
    return;
  }
  const features = header(req, HEADER_FEATURES)
    .split(',')
    .map((feature) => feature.trim());
  const wantsAccount = features.includes('accountId') && host.profile !== 'rie';
  let body: Buffer;
  try {
    body = await readBody(req, REGISTER_BODY_LIMIT);
  } catch (error) {
    const message =
      error instanceof BodyTooLargeError ? 'http: request body too large' : String(error);
    refuse(
      res,
      host,
      { kind, extension: name, statusCode: 403, errorType: 'InvalidRequestFormat' },
      message,
    );
    return;
  }
  const decoded = decodeRegisterBody(body);
  const refuseRegistration = (errorType: string, errorMessage: string) =>
    refuse(
      res,
      host,
      { kind, extension: name, statusCode: 403, errorType, errorMessage },
      errorMessage,
    );
  if (typeof decoded === 'string') return refuseRegistration('InvalidRequestFormat', decoded);
  if (decoded.configurationKeys.length > 0) {
    return refuseRegistration(
      'InvalidRequestFormat',
      'configurationKeys are deprecated; use environment variables instead',
    );
  }
  const registry = host.registry;
  const external = registry?.external.get(name);
  if (host.managedInstances) {
    // Managed Instances run many invokes at once and send no INVOKE to extensions (README "Modes").
    if (external) {
      const refused = decoded.events.find((event) => event !== 'SHUTDOWN');
      if (refused !== undefined) {
        return refuseRegistration(
          'Extension.InvalidEventType',
          `${refused}: ErrorInvalidEventType`,
        );
      }
    } else if (decoded.events.length > 0) {
      return refuseRegistration(
        'Extension.InvalidEventType',
        'No events allowed for internal extensions',
      );
    }
  }
  for (const event of decoded.events) {
    if (event !== 'INVOKE' && event !== 'SHUTDOWN') {
      return refuseRegistration('Extension.InvalidEventType', `${event}: ErrorInvalidEventType`);
    }
    if (!external && event === 'SHUTDOWN') {
      return refuseRegistration(
        'Extension.InvalidEventType',
        'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension',
      );
    }
  }
  let agent: Agent;
  if (external && registry) {
    const refusal = registry.registerExternal(external, decoded.events);
    if (refusal?.kind === 'state') {
      return refuseRegistration(
        'Extension.InvalidExtensionState',
        stateTransitionMessage(refusal.from, 'Registered', name),
      );
    }
    agent = external;
  } else {
    const created = registry
      ? registry.registerInternal(name, decoded.events)
      : { kind: 'closed' as const };
    if (!('id' in created)) {
      if (created.kind === 'closed') {
        return refuseRegistration(
          'Extension.RegistrationClosed',
          'Extension registration closed already',
        );
      }
      if (created.kind === 'name-collision') {
        return refuseRegistration(
          'Extension.InvalidExtensionState',
          'Extension with this name already registered',
        );
      }
      return refuseRegistration(
        'Extension.TooManyExtensions',
        `Extension limit (${MAX_EXTENSIONS}) reached`,
      );
    }
    agent = created;
  }
  const { functionName, functionVersion, handler, accountId } = host.metadata;
  const response: Record<string, string> = { functionName, functionVersion, handler };
  if (wantsAccount) response.accountId = accountId;
  sendJson(res, 200, response, { 'Lambda-Extension-Identifier': agent.id! });
  host.log({
    kind,
    extension: name,
    extensionId: agent.id,
    external: agent.external,
    events: [...agent.events],
    statusCode: 200,
    state: agent.state,
  });
  host.registered(agent);
}

function next(req: IncomingMessage, res: ServerResponse, host: ExtensionsApiHost) {
  const kind = 'extension.next';
  const id = requireIdentifier(req, res, host, kind);
  if (!id) return;
  const agent = host.registry?.byId(id);
  if (!agent) {
    refuse(
      res,
      host,
      { kind, extensionId: id, statusCode: 403, errorType: 'Extension.UnknownExtensionIdentifier' },
      `Unknown extension ${id}`,
    );
    return;
  }
  if (agent.state !== 'Registered' && agent.state !== 'Running') {
    const errorMessage = stateTransitionMessage(agent.state, 'Ready', id);
    refuse(
      res,
      host,
      {
        kind,
        extension: agent.name,
        extensionId: id,
        statusCode: 403,
        errorType: 'Extension.InvalidExtensionState',
        errorMessage,
        state: agent.state,
      },
      errorMessage,
    );
    return;
  }
  agent.state = 'Ready';
  agent.readyAt = Date.now();
  agent.parked = res;
  res.on('close', () => {
    if (!res.writableFinished && agent.parked === res) {
      // Like production, the request stays parked: the next event is written to the dead connection and lost.
      host.log({
        kind: 'extension.next-abandoned',
        extension: agent.name,
        extensionId: id,
        message: 'client closed its pending /next; the request stays parked',
      });
    }
  });
  host.log({ kind, extension: agent.name, extensionId: id, state: 'Ready' });
  host.ready(agent);
}

async function errorCall(
  req: IncomingMessage,
  res: ServerResponse,
  host: ExtensionsApiHost,
  which: 'init' | 'exit',
) {
  const kind = which === 'init' ? 'extension.init-error' : 'extension.exit-error';
  // Drain the optional body; RAPID does not parse it.
  await readBody(req, REGISTER_BODY_LIMIT).catch(() => Buffer.alloc(0));
  const id = requireIdentifier(req, res, host, kind);
  if (!id) return;
  const errorType = header(req, HEADER_ERROR_TYPE);
  if (errorType === '') {
    refuse(
      res,
      host,
      { kind, extensionId: id, statusCode: 403, errorType: 'Extension.MissingHeader' },
      'Lambda-Extension-Function-Error-Type not found',
    );
    return;
  }
  const agent = host.registry?.byId(id);
  if (!agent) {
    refuse(
      res,
      host,
      { kind, extensionId: id, statusCode: 403, errorType: 'Extension.UnknownExtensionIdentifier' },
      'Unknown Lambda-Extension-Identifier',
    );
    return;
  }
  const target = which === 'init' ? 'InitError' : 'ExitError';
  const allowed =
    which === 'init'
      ? agent.state === 'Registered' || agent.state === 'InitError'
      : agent.state === 'Registered' ||
        agent.state === 'Ready' ||
        agent.state === 'Running' ||
        agent.state === 'ExitError';
  if (!allowed) {
    const errorMessage = stateTransitionMessage(
      agent.state,
      which === 'init' ? 'InitError' : 'Exited',
      id,
    );
    refuse(
      res,
      host,
      {
        kind,
        extension: agent.name,
        extensionId: id,
        statusCode: 403,
        errorType: 'Extension.InvalidExtensionState',
        errorMessage,
      },
      errorMessage,
    );
    return;
  }
  const repeated = agent.state === target;
  agent.state = target;
  agent.errorType ??= errorType;
  sendAccepted(res);
  host.log({
    kind,
    extension: agent.name,
    extensionId: id,
    statusCode: 202,
    errorType,
    state: target,
  });
  if (repeated) return;
  if (which === 'init') host.initError(agent, errorType);
  else host.exitError(agent, errorType);
}

/**
 * Serves `/2020-01-01/extension/*`. Returns false when the path is not part of this API.
 */
export async function handleExtensionsApi(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  host: ExtensionsApiHost,
): Promise<boolean> {
  if (!pathname.startsWith(`${EXTENSIONS_API_PREFIX}/`)) return false;
  const route = pathname.slice(EXTENSIONS_API_PREFIX.length);
  const method = req.method ?? 'GET';
  const expect = (wanted: string) => {
    if (method === wanted) return true;
    res.writeHead(405, { 'Content-Length': '0' }).end();
    return false;
  };
  switch (route) {
    case '/register':
      if (expect('POST')) await register(req, res, host);
      return true;
    case '/event/next':
      if (expect('GET')) next(req, res, host);
      return true;
    case '/init/error':
      if (expect('POST')) await errorCall(req, res, host, 'init');
      return true;
    case '/exit/error':
      if (expect('POST')) await errorCall(req, res, host, 'exit');
      return true;
    default:
      return false;
  }
}
