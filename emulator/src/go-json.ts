/**
 * Go `encoding/json` error texts for the register body, so the emulator's 403 `InvalidRequestFormat` messages match
 * RAPID's byte for byte. A compact port of the syntax checker in Go's `scanner.go`, plus the type errors
 * `json.Unmarshal` reports for RAPID's register request struct.
 */

const REGISTER_TYPE =
  'struct { handler.RegisterRequest; ConfigurationKeys []string "json:\\"configurationKeys\\"" }';

function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const quoted = JSON.stringify(String.fromCharCode(c));
  let inner = quoted.slice(1, -1);
  if (/^\\u00[0-9a-f]{2}$/.test(inner)) inner = `\\x${inner.slice(4)}`;
  return `'${inner}'`;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class SyntaxError_ extends Error {}

/** Returns Go's syntax error message for `data`, or undefined when it is valid JSON. */
export function goJsonSyntaxError(data: Uint8Array): string | undefined {
  let i = 0;
  const fail = (context: string): never => {
    throw new SyntaxError_(`invalid character ${quoteChar(data[i] ?? 0)} ${context}`);
  };
  const eof = (): never => {
    throw new SyntaxError_('unexpected end of JSON input');
  };
  const peek = (): number | undefined => data[i];
  const skipSpace = () => {
    while (i < data.length && isSpace(data[i]!)) i++;
  };
  const literal = (word: string) => {
    // First character already matched.
    for (let k = 1; k < word.length; k++) {
      i++;
      const c = peek();
      if (c === undefined) eof();
      if (c !== word.charCodeAt(k)) fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const c = peek();
      if (c === undefined) eof();
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        i++;
        const e = peek();
        if (e === undefined) eof();
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            const h = peek();
            if (h === undefined) eof();
            if (!isHex(h!)) fail('in \\u hexadecimal character escape');
          }
          i++;
          continue;
        }
        if (!'bfnrt\\/"'.includes(String.fromCharCode(e!))) fail('in string escape code');
        i++;
        continue;
      }
      if (c! < 0x20) fail('in string literal');
      i++;
    }
  };
  const number = () => {
    if (peek() === 0x2d) {
      i++;
      const c = peek();
      if (c === undefined) eof();
      if (!isDigit(c!)) fail('in numeric literal');
    }
    if (peek() === 0x30) i++;
    else while (i < data.length && isDigit(data[i]!)) i++;
    if (peek() === 0x2e) {
      i++;
      const c = peek();
      if (c === undefined) eof();
      if (!isDigit(c!)) fail('after decimal point in numeric literal');
      while (i < data.length && isDigit(data[i]!)) i++;
    }
    if (peek() === 0x65 || peek() === 0x45) {
      i++;
      if (peek() === 0x2b || peek() === 0x2d) i++;
      const c = peek();
      if (c === undefined) eof();
      if (!isDigit(c!)) fail('in exponent of numeric literal');
      while (i < data.length && isDigit(data[i]!)) i++;
    }
  };
  const value = (depth: number) => {
    if (depth > 10_000) throw new SyntaxError_('exceeded max depth');
    skipSpace();
    const c = peek();
    if (c === undefined) eof();
    switch (c) {
      case 0x7b: {
        i++;
        skipSpace();
        if (peek() === undefined) eof();
        if (peek() === 0x7d) {
          i++;
          return;
        }
        for (;;) {
          skipSpace();
          if (peek() === undefined) eof();
          if (peek() !== 0x22) fail('looking for beginning of object key string');
          string();
          skipSpace();
          if (peek() === undefined) eof();
          if (peek() !== 0x3a) fail('after object key');
          i++;
          value(depth + 1);
          skipSpace();
          if (peek() === undefined) eof();
          if (peek() === 0x2c) {
            i++;
            continue;
          }
          if (peek() === 0x7d) {
            i++;
            return;
          }
          fail('after object key:value pair');
        }
      }
      case 0x5b: {
        i++;
        skipSpace();
        if (peek() === undefined) eof();
        if (peek() === 0x5d) {
          i++;
          return;
        }
        for (;;) {
          value(depth + 1);
          skipSpace();
          if (peek() === undefined) eof();
          if (peek() === 0x2c) {
            i++;
            continue;
          }
          if (peek() === 0x5d) {
            i++;
            return;
          }
          fail('after array element');
        }
      }
      case 0x22:
        string();
        return;
      case 0x74:
        literal('true');
        return;
      case 0x66:
        literal('false');
        return;
      case 0x6e:
        literal('null');
        return;
      default:
        if (c === 0x2d || isDigit(c!)) {
          number();
          return;
        }
        fail('looking for beginning of value');
    }
  };
  try {
    value(0);
    skipSpace();
    if (i < data.length) fail('after top-level value');
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxError_) return error.message;
    throw error;
  }
}

/** The register request as RAPID decodes it. */
export interface RegisterRequestBody {
  events: string[];
  configurationKeys: string[];
}

function goKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}

function stringArray(value: unknown, field: string, elementType: string): string[] | string {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    return `json: cannot unmarshal ${goKind(value)} into Go struct field .${field} of type []${elementType}`;
  }
  const out: string[] = [];
  for (const item of value) {
    if (item === null) {
      out.push('');
      continue;
    }
    if (typeof item !== 'string') {
      return `json: cannot unmarshal ${goKind(item)} into Go struct field .${field} of type ${elementType}`;
    }
    out.push(item);
  }
  return out;
}

/**
 * Decodes a register body like `json.Unmarshal` into RAPID's request struct: keys match case-insensitively, unknown
 * keys are ignored, `null` leaves fields empty. Returns the decoded body or Go's error text.
 */
export function decodeRegisterBody(data: Uint8Array): RegisterRequestBody | string {
  const syntax = goJsonSyntaxError(data);
  if (syntax !== undefined) return syntax;
  const parsed: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
  if (parsed === null) return { events: [], configurationKeys: [] };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return `json: cannot unmarshal ${goKind(parsed)} into Go value of type ${REGISTER_TYPE}`;
  }
  let eventsRaw: unknown;
  let keysRaw: unknown;
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const lower = key.toLowerCase();
    if (lower === 'events') eventsRaw = value;
    else if (lower === 'configurationkeys') keysRaw = value;
  }
  const events = stringArray(eventsRaw, 'events', 'core.Event');
  if (typeof events === 'string') return events;
  const configurationKeys = stringArray(keysRaw, 'configurationKeys', 'string');
  if (typeof configurationKeys === 'string') return configurationKeys;
  return { events, configurationKeys };
}
