const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;

/** A log level name, from `LIFELINE_LOG_LEVEL`. */
export type LogLevel = keyof typeof LEVELS;

/** JSON-lines logger. One line per problem, never one per event. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Logs `msg` at warn the first time `key` is seen, then stays quiet about that key until {@link Logger.resolve}. */
  once(key: string, msg: string, fields?: Record<string, unknown>): void;
  /** Ends a problem started with {@link Logger.once}; logs at info how often it was suppressed. */
  resolve(key: string, msg: string): void;
  /** Masks `secret` in every line from now on (a token known only at run time). */
  mask(secret: string): void;
}

/** Whether `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

/** Secrets shorter than this are masked only as whole values: as substrings they would garble every line. */
export const MIN_SUBSTRING_SECRET = 8;

/**
 * Creates a logger writing to `write` (stdout by default). Every string in `secrets` is masked in every line: in its
 * raw and its JSON-encoded form (a token with a quote or backslash is escaped in the line); one shorter than
 * {@link MIN_SUBSTRING_SECRET} characters only where it is a whole message or field value.
 */
export function createLogger(
  level: LogLevel,
  options: { secrets?: readonly string[]; write?: (line: string) => void } = {},
): Logger {
  const min = LEVELS[level];
  /** Forms to replace in the encoded line, longest first, so a secret containing another is masked whole. */
  const forms: string[] = [];
  const short = new Set<string>();
  const known = new Set<string>();
  const add = (secret: string) => {
    if (secret.length === 0 || known.has(secret)) return;
    known.add(secret);
    if (secret.length < MIN_SUBSTRING_SECRET) {
      short.add(secret);
      return;
    }
    forms.push(secret);
    const encoded = JSON.stringify(secret).slice(1, -1);
    if (encoded !== secret) forms.push(encoded);
    forms.sort((a, b) => b.length - a.length);
  };
  for (const secret of options.secrets ?? []) add(secret);
  const whole = (value: unknown) => (typeof value === 'string' && short.has(value) ? '***' : value);
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const open = new Map<string, number>();
  const log = (
    name: Exclude<LogLevel, 'silent'>,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (LEVELS[name] < min) return;
    let shown = fields;
    if (short.size > 0 && fields !== undefined)
      shown = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, whole(value)]));
    let line = JSON.stringify({
      time: new Date().toISOString(),
      level: name,
      msg: whole(msg),
      ...shown,
    });
    for (const form of forms) line = line.replaceAll(form, '***');
    write(`${line}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    once(key, msg, fields) {
      const seen = open.get(key);
      open.set(key, (seen ?? 0) + 1);
      if (seen === undefined) log('warn', msg, fields);
    },
    resolve(key, msg) {
      const seen = open.get(key);
      if (seen === undefined) return;
      open.delete(key);
      log('info', msg, { occurrences: seen });
    },
    mask: add,
  };
}
