import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogInput } from './event-log.ts';
import type { ExtensionRegistry } from './extension-registry.ts';
import { refuse, requireIdentifier } from './extensions-api.ts';
import { readBody, sendJson } from './http-json.ts';
import type {
  Buffering,
  Destination,
  Subscription,
  TelemetryCategory,
  TelemetryDispatcher,
} from './telemetry-dispatcher.ts';

/** Path of the Telemetry API subscription. */
export const TELEMETRY_API_PATH = '/2022-07-01/telemetry';
/** Path of the legacy Logs API subscription. */
export const LOGS_API_PATH = '/2020-08-15/logs';

/** Accepted schema versions of the Telemetry API. */
export const TELEMETRY_SCHEMA_VERSIONS = ['2022-07-01', '2022-12-13', '2025-01-29'] as const;
/** The only schema version Lambda Managed Instances accept. */
export const MANAGED_INSTANCES_SCHEMA_VERSION = '2025-01-29';
/** Destination hosts Managed Instances accept (no loopback aliases). */
const MANAGED_INSTANCES_HOSTS = new Set(['sandbox.localdomain', 'sandbox']);
/** Accepted schema versions of the legacy Logs API. */
export const LOGS_SCHEMA_VERSIONS = ['2020-08-15', '2021-03-18'] as const;

/** Buffering limits and defaults of a subscription (README "Things to know"). */
export const BUFFERING_LIMITS = {
  maxItems: { min: 1000, max: 10_000, default: 10_000 },
  maxBytes: { min: 262_144, max: 1_048_576, default: 262_144 },
  timeoutMs: { min: 25, max: 30_000, default: 1000 },
} as const;

const CATEGORIES: readonly TelemetryCategory[] = ['platform', 'function', 'extension'];
/** Hosts a listener inside the sandbox can use; all map to loopback. */
const SANDBOX_HOSTS = new Set([
  'sandbox.localdomain',
  'sandbox',
  'localhost',
  '127.0.0.1',
  '0.0.0.0',
]);
const BODY_LIMIT = 64 * 1024;

/** What the subscription endpoints need from the sandbox. */
export interface TelemetryApiHost {
  readonly registry: ExtensionRegistry | undefined;
  readonly dispatcher: TelemetryDispatcher | undefined;
  /** Subscriptions are accepted only during Init. */
  readonly subscriptionsOpen: boolean;
  /** False: answer like the RIE (202 "not supported"). */
  readonly telemetryEnabled: boolean;
  /** Lambda Managed Instances: schema 2025-01-29 only, `sandbox.localdomain` only, no Logs API. */
  readonly managedInstances: boolean;
  /** Which API each extension id used (the two are exclusive). */
  readonly subscribedApi: Map<string, 'telemetry' | 'logs'>;
  log(entry: LogInput): void;
}

type Validated =
  | { ok: true; subscription: Omit<Subscription, 'extension' | 'extensionId'> }
  | { ok: false; message: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a subscription body; returns every problem joined with `; ` (like the documented 400 example). With
 * `managedInstances` only the Managed Instances schema version and `sandbox.localdomain` are accepted.
 */
export function validateSubscription(
  body: unknown,
  api: 'telemetry' | 'logs',
  managedInstances = false,
): Validated {
  if (!isObject(body)) return { ok: false, message: 'request body must be a JSON object' };
  if (managedInstances && body.schemaVersion !== MANAGED_INSTANCES_SCHEMA_VERSION) {
    // Managed Instances validate against a JSON schema whose enum holds one version; its validator says so first.
    const schema = 'telemetry-subscription-schema.json';
    return {
      ok: false,
      message:
        body.schemaVersion === undefined
          ? `schema validation error: jsonschema: '' does not validate with ${schema}#/required: missing properties: 'schemaVersion'`
          : `schema validation error: jsonschema: '/schemaVersion' does not validate with ${schema}#/properties/schemaVersion/enum: value must be "${MANAGED_INSTANCES_SCHEMA_VERSION}"`,
    };
  }
  const problems: string[] = [];
  const versions: readonly string[] =
    api === 'telemetry' ? TELEMETRY_SCHEMA_VERSIONS : LOGS_SCHEMA_VERSIONS;
  const schemaVersion = body.schemaVersion;
  if (schemaVersion === undefined) problems.push('schemaVersion is required');
  else if (typeof schemaVersion !== 'string' || !versions.includes(schemaVersion)) {
    problems.push(`schemaVersion must be one of ${versions.join(', ')}`);
  }
  const types: TelemetryCategory[] = [];
  if (!Array.isArray(body.types) || body.types.length === 0) {
    problems.push('types should not be empty');
  } else {
    for (const type of body.types) {
      if (typeof type !== 'string' || !CATEGORIES.includes(type as TelemetryCategory)) {
        problems.push(`types contains an invalid value: ${JSON.stringify(type)}`);
      } else if (!types.includes(type as TelemetryCategory)) {
        types.push(type as TelemetryCategory);
      }
    }
  }
  let destination: Destination | undefined;
  const rawDestination = body.destination;
  if (!isObject(rawDestination)) {
    problems.push('destination is required');
  } else if (rawDestination.protocol === 'HTTP') {
    const uri = rawDestination.URI;
    let url: URL | undefined;
    try {
      url = typeof uri === 'string' ? new URL(uri) : undefined;
    } catch {
      url = undefined;
    }
    if (!url) problems.push('URI is not a valid URL');
    else if (url.protocol !== 'http:') problems.push('URI scheme must be http');
    else if (!(managedInstances ? MANAGED_INSTANCES_HOSTS : SANDBOX_HOSTS).has(url.hostname)) {
      problems.push('URI host must be sandbox.localdomain (inside the execution environment)');
    } else if (url.port === '') problems.push('URI port is not provided');
    else {
      const mapped = new URL(url.href);
      mapped.hostname = '127.0.0.1';
      destination = { protocol: 'HTTP', url: mapped };
    }
  } else if (rawDestination.protocol === 'TCP' && api === 'telemetry') {
    const port = rawDestination.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
      problems.push('port must be an integer between 1 and 65535');
    } else {
      destination = { protocol: 'TCP', port };
    }
  } else {
    problems.push('destination protocol must be HTTP or TCP');
  }
  const buffering: Buffering = {
    maxItems: BUFFERING_LIMITS.maxItems.default,
    maxBytes: BUFFERING_LIMITS.maxBytes.default,
    timeoutMs: BUFFERING_LIMITS.timeoutMs.default,
  };
  if (body.buffering !== undefined) {
    if (!isObject(body.buffering)) problems.push('buffering must be an object');
    else {
      for (const key of ['maxItems', 'maxBytes', 'timeoutMs'] as const) {
        const value = body.buffering[key];
        if (value === undefined) continue;
        const { min, max } = BUFFERING_LIMITS[key];
        if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
          problems.push(`buffering.${key} must be an integer between ${min} and ${max}`);
        } else {
          buffering[key] = value;
        }
      }
    }
  }
  if (problems.length > 0 || !destination) {
    return { ok: false, message: problems.join('; ') };
  }
  return {
    ok: true,
    subscription: { api, types, buffering, destination, schemaVersion: schemaVersion as string },
  };
}

/**
 * Serves `PUT /2022-07-01/telemetry` and `PUT /2020-08-15/logs`. Returns false for other paths.
 */
export async function handleTelemetryApi(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  host: TelemetryApiHost,
): Promise<boolean> {
  const api =
    pathname === TELEMETRY_API_PATH ? 'telemetry' : pathname === LOGS_API_PATH ? 'logs' : undefined;
  // Managed Instances do not serve the legacy Logs API at all: the sandbox answers 404 like for any unknown path.
  if (!api || (api === 'logs' && host.managedInstances)) return false;
  const kind = api === 'telemetry' ? 'telemetry.subscribe' : 'logs.subscribe';
  const prefix = api === 'telemetry' ? 'Telemetry' : 'Logs';
  const apiName = api === 'telemetry' ? 'Telemetry API' : 'Logs API';
  const raw = await readBody(req, BODY_LIMIT).catch(() => undefined);
  if (req.method !== 'PUT') {
    res.writeHead(405, { 'Content-Length': '0' }).end();
    return true;
  }
  if (!host.telemetryEnabled) {
    sendJson(res, 202, {
      errorMessage: `${apiName} is not supported`,
      errorType: `${prefix}.NotSupported`,
    });
    host.log({ kind, statusCode: 202, errorType: `${prefix}.NotSupported` });
    return true;
  }
  const id = requireIdentifier(req, res, host, kind);
  if (!id) return true;
  const agent = host.registry?.byId(id);
  if (!agent) {
    refuse(
      res,
      host,
      { kind, extensionId: id, statusCode: 403, errorType: 'Extension.UnknownExtensionIdentifier' },
      `Unknown extension ${id}`,
    );
    return true;
  }
  const refuseSubscription = (statusCode: number, errorType: string, errorMessage: string) => {
    refuse(
      res,
      host,
      { kind, extension: agent.name, extensionId: id, statusCode, errorType, errorMessage },
      errorMessage,
    );
    return true;
  };
  if (!host.subscriptionsOpen || !host.dispatcher) {
    return refuseSubscription(
      403,
      `${prefix}.SubscriptionClosed`,
      `${apiName} subscription is closed`,
    );
  }
  const other = host.subscribedApi.get(id);
  if (other && other !== api) {
    return refuseSubscription(
      403,
      `${prefix}.SubscriptionConflict`,
      `Extension ${agent.name} already subscribed with the ${other === 'logs' ? 'Logs API' : 'Telemetry API'}; the Logs API and the Telemetry API are mutually exclusive`,
    );
  }
  if (!raw) return refuseSubscription(400, 'ValidationError', 'request body is too large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return refuseSubscription(400, 'ValidationError', 'request body is not valid JSON');
  }
  const validated = validateSubscription(parsed, api, host.managedInstances);
  if (!validated.ok) return refuseSubscription(400, 'ValidationError', validated.message);
  host.subscribedApi.set(id, api);
  const subscription: Subscription = {
    ...validated.subscription,
    extension: agent.name,
    extensionId: id,
  };
  sendJson(res, 200, 'OK');
  host.log({
    kind,
    extension: agent.name,
    extensionId: id,
    statusCode: 200,
    data: {
      types: subscription.types,
      buffering: subscription.buffering,
      destination:
        subscription.destination.protocol === 'HTTP'
          ? subscription.destination.url.href
          : `tcp:${subscription.destination.port}`,
      schemaVersion: subscription.schemaVersion,
    },
  });
  host.dispatcher.subscribe(subscription);
  return true;
}
