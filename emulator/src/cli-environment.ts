import { RESERVED_VARIABLES } from './environment.ts';

/**
 * The function's environment from the command line: `--env KEY=VALUE` and `--env-file FILE`, where FILE is SAM's
 * JSON shape (`{"Parameters": {...}}` for every function, `{"<FunctionName>": {...}}` for one) or `KEY=VALUE` lines.
 */

/** Thrown for a bad `--env` or `--env-file`; the CLI prints the message and exits 2. */
export class EnvironmentInputError extends Error {
  override readonly name = 'EnvironmentInputError';
}

// Lambda's own rule for variable names: a letter, then letters, digits and underscores.
const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

function checkKey(key: string, where: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new EnvironmentInputError(
      `${where}: "${key}" is not a valid variable name (a letter, then letters, digits or _)`,
    );
  }
  if (RESERVED_VARIABLES.has(key)) {
    throw new EnvironmentInputError(
      `${where}: ${key} is set by Lambda itself and cannot be given (the emulator sets it)`,
    );
  }
}

/** Parses one `KEY=VALUE` (the value may be empty and may contain `=`). */
export function parseAssignment(text: string, where: string): [string, string] {
  const equals = text.indexOf('=');
  if (equals <= 0) {
    throw new EnvironmentInputError(`${where}: expected KEY=VALUE, got "${text}"`);
  }
  const key = text.slice(0, equals);
  checkKey(key, where);
  return [key, text.slice(equals + 1)];
}

function variablesOf(value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EnvironmentInputError(`${where} must be an object of variables`);
  }
  const variables: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value)) {
    checkKey(key, where);
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw new EnvironmentInputError(
        `${where}.${key} must be a string, number or boolean, got ${raw === null ? 'null' : typeof raw}`,
      );
    }
    variables[key] = String(raw);
  }
  return variables;
}

/**
 * SAM's `--env-vars` JSON: `Parameters` apply to every function, an entry named after the function overrides them.
 * A file that names other functions only is refused, so a mistyped function name does not pass silently.
 */
function parseSamJson(text: string, path: string, functionName: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EnvironmentInputError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EnvironmentInputError(
      `${path}: expected {"Parameters": {...}} or {"${functionName}": {...}}`,
    );
  }
  const sections = parsed as Record<string, unknown>;
  const names = Object.keys(sections).filter((name) => name !== 'Parameters');
  if (sections.Parameters === undefined && !(functionName in sections)) {
    throw new EnvironmentInputError(
      `${path}: no "Parameters" and no entry for function ${functionName}` +
        (names.length > 0 ? ` (it has ${names.join(', ')}; see --function-name)` : ''),
    );
  }
  return {
    ...(sections.Parameters === undefined
      ? {}
      : variablesOf(sections.Parameters, `${path}: Parameters`)),
    ...(functionName in sections
      ? variablesOf(sections[functionName], `${path}: ${functionName}`)
      : {}),
  };
}

/** `KEY=VALUE` lines; blank lines and `#` comments are skipped, one pair of surrounding quotes is removed. */
function parseLines(text: string, path: string): Record<string, string> {
  const variables: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [key, value] = parseAssignment(trimmed, `${path}:${index + 1}`);
    const quoted = /^(["'])(.*)\1$/.exec(value);
    variables[key] = quoted ? quoted[2]! : value;
  });
  return variables;
}

/** The variables of an env file's `text`: SAM JSON when it starts with `{` or `[`, else `KEY=VALUE` lines. */
export function parseEnvFile(
  text: string,
  path: string,
  functionName: string,
): Record<string, string> {
  return /^\s*[[{]/.test(text) ? parseSamJson(text, path, functionName) : parseLines(text, path);
}
