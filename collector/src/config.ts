import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Everything the collector needs to run; built once at boot by {@link loadConfig} and never mutated. */
export interface CollectorConfig {
  /** Interface to listen on. Non-loopback hosts require {@link CollectorConfig.token}. */
  host: string;
  /** TCP port; 0 picks a free one (the real URL is logged as `"msg":"listening"`). */
  port: number;
  /** SQLite database file, or a `postgres://` / `postgresql://` URL (several collectors may share it). */
  dbPath: string;
  /** Ingest token (`Authorization: Bearer`). Absent: ingest is open (demo mode, loopback only). */
  token: string | undefined;
  /** Read token for every `/v1` GET and the live socket. Absent: reads are open. */
  readToken: string | undefined;
  /** Built dashboard served at `/`. */
  webDir: string;
  /** Largest accepted `POST /v1/events` body, bytes. */
  bodyLimit: number;
  /** Environments silent for longer than this (collector clock) are deleted with their events. */
  retentionHours: number;
  /** When the database holds more than this, the oldest environments are deleted until it fits. */
  retentionMaxMb: number;
  /** An environment without shutdown that sent nothing for this long is reported `lost`. */
  lostAfterMs: number;
  /** pino level. */
  logLevel: string;
  /** How often retention runs, ms. */
  retentionIntervalMs: number;
  /** Heartbeat period of the live socket, ms. */
  liveHeartbeatMs: number;
  /** A live client whose socket holds more unsent bytes than this is closed with 4408. */
  liveMaxBufferedBytes: number;
  /** A live client that has more live events waiting while it replays than this is closed with 4408. */
  liveMaxPendingEvents: number;
  /** Stored events per replay page on the live socket. */
  liveReplayPageSize: number;
  /** A replaying live client whose page stays unwritten this long (it stopped reading) is closed with 4408. */
  liveReplayStallMs: number;
  /**
   * Origins (besides the collector's own) whose pages may open the live socket or send `/v1` requests, e.g. a
   * separately hosted dashboard. A browser request from any other origin is refused with 403.
   */
  allowedOrigins: readonly string[];
  /**
   * Host names (the `Host` header, port ignored) the collector answers besides the loopback names. On a loopback
   * bind only loopback names are answered unless listed here (a reverse proxy's name), so a DNS-rebinding page
   * cannot reach it; on another bind, an empty list answers any name.
   */
  allowedHosts: readonly string[];
  /** A request whose headers and body have not fully arrived after this long is answered 408 and closed, ms. */
  requestTimeoutMs: number;
  /** A connection with no traffic for this long is closed (live sockets excepted: they have heartbeats), ms. */
  connectionTimeoutMs: number;
  /** Open TCP connections beyond this are closed at once (counted in `/metrics`). */
  maxConnections: number;
  /** Live sockets beyond this are refused with 503 before the upgrade (counted in `/metrics`). */
  maxLiveClients: number;
}

/** Raised for a bad command-line flag or environment variable; the message says which and why. */
export class ConfigError extends Error {
  readonly code = 'COLLECTOR_ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The documented default port. */
export const DEFAULT_PORT = 7460;

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Defaults for every field; `dbPath` and `webDir` depend on the working directory and the package location. */
export function defaultConfig(cwd = process.cwd()): CollectorConfig {
  return {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    dbPath: resolve(cwd, 'data', 'lifeline.db'),
    token: undefined,
    readToken: undefined,
    webDir: resolve(packageRoot, '..', 'web', 'dist'),
    bodyLimit: 1024 * 1024,
    retentionHours: 24 * 7,
    retentionMaxMb: 1024,
    // Idle Lambda environments usually live minutes to about an hour before a spindown SHUTDOWN, and every
    // environment is recycled within a few hours; two silent hours without a SHUTDOWN is far beyond a healthy idle
    // life (a host failure sends none). Until then the dashboard says "silent since …".
    lostAfterMs: 2 * 60 * 60 * 1000,
    logLevel: 'info',
    retentionIntervalMs: 60_000,
    liveHeartbeatMs: 10_000,
    liveMaxBufferedBytes: 8 * 1024 * 1024,
    liveMaxPendingEvents: 50_000,
    liveReplayPageSize: 500,
    liveReplayStallMs: 30_000,
    allowedOrigins: [],
    allowedHosts: [],
    requestTimeoutMs: 30_000,
    connectionTimeoutMs: 120_000,
    maxConnections: 1024,
    maxLiveClients: 200,
  };
}

interface OptionSpec {
  flag: string;
  env: string;
  key: keyof CollectorConfig;
  /** `secret-file`: the value names a file holding the secret (read once here, never kept). */
  kind:
    | 'string'
    | 'secret-file'
    | 'port'
    | 'positive'
    | 'integer'
    | 'path'
    | 'database'
    | 'origins'
    | 'hosts';
  /** For a secret: the variable that holds the secret itself (there is no flag for it: see below). */
  secretEnv?: string;
}

const OPTIONS: readonly OptionSpec[] = [
  { flag: '--host', env: 'LIFELINE_HOST', key: 'host', kind: 'string' },
  { flag: '--port', env: 'LIFELINE_PORT', key: 'port', kind: 'port' },
  { flag: '--db', env: 'LIFELINE_DB', key: 'dbPath', kind: 'database' },
  {
    flag: '--token-file',
    env: 'LIFELINE_TOKEN_FILE',
    key: 'token',
    kind: 'secret-file',
    secretEnv: 'LIFELINE_TOKEN',
  },
  {
    flag: '--read-token-file',
    env: 'LIFELINE_READ_TOKEN_FILE',
    key: 'readToken',
    kind: 'secret-file',
    secretEnv: 'LIFELINE_READ_TOKEN',
  },
  { flag: '--web-dir', env: 'LIFELINE_WEB_DIR', key: 'webDir', kind: 'path' },
  { flag: '--body-limit', env: 'LIFELINE_BODY_LIMIT', key: 'bodyLimit', kind: 'integer' },
  {
    flag: '--retention-hours',
    env: 'LIFELINE_RETENTION_HOURS',
    key: 'retentionHours',
    kind: 'positive',
  },
  {
    flag: '--retention-max-mb',
    env: 'LIFELINE_RETENTION_MAX_MB',
    key: 'retentionMaxMb',
    kind: 'positive',
  },
  { flag: '--lost-after-ms', env: 'LIFELINE_LOST_AFTER_MS', key: 'lostAfterMs', kind: 'positive' },
  { flag: '--log-level', env: 'LIFELINE_LOG_LEVEL', key: 'logLevel', kind: 'string' },
  {
    flag: '--allowed-origins',
    env: 'LIFELINE_ALLOWED_ORIGINS',
    key: 'allowedOrigins',
    kind: 'origins',
  },
  { flag: '--allowed-hosts', env: 'LIFELINE_ALLOWED_HOSTS', key: 'allowedHosts', kind: 'hosts' },
  {
    flag: '--request-timeout-ms',
    env: 'LIFELINE_REQUEST_TIMEOUT_MS',
    key: 'requestTimeoutMs',
    kind: 'integer',
  },
  {
    flag: '--connection-timeout-ms',
    env: 'LIFELINE_CONNECTION_TIMEOUT_MS',
    key: 'connectionTimeoutMs',
    kind: 'integer',
  },
  {
    flag: '--max-connections',
    env: 'LIFELINE_MAX_CONNECTIONS',
    key: 'maxConnections',
    kind: 'integer',
  },
  {
    flag: '--max-live-clients',
    env: 'LIFELINE_MAX_LIVE_CLIENTS',
    key: 'maxLiveClients',
    kind: 'integer',
  },
];

/**
 * Secrets are never flags: a command line shows in `ps`, in shell history and in npm's `> lifeline@ start …` banner
 * (so in log files). They come from a file (`--token-file`) or the environment (`LIFELINE_TOKEN`).
 */
const SECRET_FLAGS: Record<string, string> = {
  '--token': '--token-file FILE or LIFELINE_TOKEN',
  '--read-token': '--read-token-file FILE or LIFELINE_READ_TOKEN',
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `--help` text: every flag with its environment variable and default, from the same table the parser uses. */
export function usage(cwd = process.cwd()): string {
  const defaults = defaultConfig(cwd);
  const shown = (option: OptionSpec): string => {
    if (option.kind === 'secret-file') return `none (or the token itself in ${option.secretEnv})`;
    if (option.key === 'dbPath') return '$LIFELINE_DATA_DIR/lifeline.db (data dir ./data)';
    if (option.key === 'allowedOrigins') return "none (the collector's own origin only)";
    if (option.key === 'allowedHosts') return 'none (loopback bind: loopback names only)';
    return String(defaults[option.key]);
  };
  const rows = OPTIONS.map(
    (option) => `  ${option.flag.padEnd(24)} ${option.env.padEnd(30)} ${shown(option)}`,
  );
  return [
    'usage: npm run collector -- [flags]   (or node collector/dist/server.js [flags])',
    '',
    'Each flag can also be set with its environment variable; flags win.',
    `  ${'flag'.padEnd(24)} ${'variable'.padEnd(30)} default`,
    ...rows,
    '',
    'A non-loopback --host needs an ingest token. Without one, ingest is open to this host only (demo mode).',
    "Tokens are never flags (a command line shows in ps and in npm's banner): use the *-file flags or variables.",
  ].join('\n');
}

/**
 * Builds the configuration from command-line flags (`--port 0` or `--port=0`), then `LIFELINE_*` environment
 * variables, then defaults. Flags win over variables. Throws {@link ConfigError} with a sentence naming the bad input.
 *
 * @example
 * const config = loadConfig(process.argv.slice(2), process.env);
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): CollectorConfig {
  const dataDir = env.LIFELINE_DATA_DIR ? resolve(cwd, env.LIFELINE_DATA_DIR) : undefined;
  const config = defaultConfig(cwd);
  if (dataDir) config.dbPath = resolve(dataDir, 'lifeline.db');
  const fromFlags = parseFlags(argv);
  for (const spec of OPTIONS) {
    const fromFlag = fromFlags.get(spec.flag);
    const raw = fromFlag ?? env[spec.env];
    if (spec.secretEnv !== undefined && fromFlag === undefined) {
      const secret = env[spec.secretEnv];
      if (secret !== undefined && secret !== '' && raw !== undefined && raw !== '') {
        throw new ConfigError(`set ${spec.env} or ${spec.secretEnv}, not both`);
      }
      if (secret !== undefined && secret !== '') {
        (config as unknown as Record<string, unknown>)[spec.key] = checkedSecret(
          secret,
          spec.secretEnv,
        );
        continue;
      }
    }
    if (raw === undefined || (fromFlag === undefined && raw === '')) continue;
    const source = fromFlag !== undefined ? spec.flag : spec.env;
    setOption(config, spec, raw, source, cwd);
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new ConfigError(
      `log level must be one of ${LOG_LEVELS.join(', ')}, got "${config.logLevel}"`,
    );
  }
  return Object.freeze(config);
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set(OPTIONS.map((option) => option.flag));
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const instead = SECRET_FLAGS[flag];
    if (instead !== undefined) {
      throw new ConfigError(
        `${flag} is not accepted: a secret on the command line shows in ps and in npm's banner; use ${instead}`,
      );
    }
    if (!known.has(flag)) {
      throw new ConfigError(`unknown option "${flag}"; known: ${[...known].join(', ')}`);
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    values.set(flag, value);
  }
  return values;
}

function setOption(
  config: CollectorConfig,
  spec: OptionSpec,
  raw: string,
  source: string,
  cwd: string,
): void {
  const target = config as unknown as Record<string, unknown>;
  switch (spec.kind) {
    case 'string':
      if (raw.trim() === '') throw new ConfigError(`${source} must not be empty`);
      target[spec.key] = raw.trim();
      return;
    case 'secret-file':
      target[spec.key] = checkedSecret(readSecretFile(raw, source, cwd), `the file of ${source}`);
      return;
    case 'origins':
      target[spec.key] = listOf(raw).map((origin) => parseOrigin(origin, source));
      return;
    case 'hosts':
      target[spec.key] = listOf(raw).map((host) => parseHostName(host, source));
      return;
    case 'database':
      // A PostgreSQL URL is never taken for a file name; the message leaves the URL (and its password) out.
      if (/^postgres(?:ql)?:/i.test(raw.trim())) {
        target[spec.key] = parsePostgresUrl(raw.trim(), source);
        return;
      }
      if (raw.trim() === '') throw new ConfigError(`${source} must not be empty`);
      target[spec.key] = isAbsolute(raw) ? raw : resolve(cwd, raw);
      return;
    case 'path':
      if (raw.trim() === '') throw new ConfigError(`${source} must not be empty`);
      target[spec.key] = isAbsolute(raw) ? raw : resolve(cwd, raw);
      return;
    case 'port': {
      const port = parseNumber(raw, source);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new ConfigError(`${source} must be an integer from 0 to 65535, got "${raw}"`);
      }
      target[spec.key] = port;
      return;
    }
    case 'integer': {
      const value = parseNumber(raw, source);
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new ConfigError(`${source} must be a positive integer, got "${raw}"`);
      }
      target[spec.key] = value;
      return;
    }
    case 'positive': {
      const value = parseNumber(raw, source);
      if (!(value > 0)) throw new ConfigError(`${source} must be a positive number, got "${raw}"`);
      target[spec.key] = value;
      return;
    }
  }
}

function checkedSecret(secret: string, source: string): string {
  if (secret.length < 8) throw new ConfigError(`${source} must be at least 8 characters long`);
  if (/\s/.test(secret)) throw new ConfigError(`${source} must not contain whitespace`);
  return secret;
}

/** The secret in `file`, without the line break an editor or `echo` leaves at its end. */
function readSecretFile(file: string, source: string, cwd: string): string {
  if (file.trim() === '') throw new ConfigError(`${source} must not be empty`);
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${source}: cannot read ${path} (${code})`);
  }
  return text.replace(/\r?\n$/, '');
}

function listOf(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `https://dash.example.com` (scheme, host and port only), lower-cased as browsers send it in `Origin`. */
function parseOrigin(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${source}: "${value}" is not an origin like https://dash.example.com`);
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.origin !== value.toLowerCase().replace(/\/$/, '')
  ) {
    throw new ConfigError(
      `${source}: "${value}" is not an origin like https://dash.example.com (scheme, host and port only)`,
    );
  }
  return url.origin;
}

function parseHostName(value: string, source: string): string {
  const host = value.toLowerCase();
  if (!/^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])$/.test(host)) {
    throw new ConfigError(
      `${source}: "${value}" is not a host name like lifeline.example.com (no port)`,
    );
  }
  return host.replace(/\.$/, '');
}

function parsePostgresUrl(raw: string, source: string): string {
  const shape = 'postgres://user[:password]@host[:port]/database';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${source} is not a valid PostgreSQL URL; expected ${shape}`);
  }
  if (!raw.includes('://') || (url.hostname === '' && !url.searchParams.has('host'))) {
    throw new ConfigError(`${source} names no PostgreSQL host; expected ${shape}`);
  }
  return raw;
}

function parseNumber(raw: string, source: string): number {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new ConfigError(`${source} must be a number, got "${raw}"`);
  }
  return value;
}

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts where an open ingest endpoint is acceptable. */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare);
}
