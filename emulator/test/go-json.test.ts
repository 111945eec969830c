import { describe, expect, it } from 'vitest';
import { decodeRegisterBody, goJsonSyntaxError } from '../src/go-json.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('goJsonSyntaxError', () => {
  it.each([
    ['', 'unexpected end of JSON input'],
    ['   ', 'unexpected end of JSON input'],
    ['no', "invalid character 'o' in literal null (expecting 'u')"],
    ['tru', 'unexpected end of JSON input'],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['x', "invalid character 'x' looking for beginning of value"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ['"a\\q"', "invalid character 'q' in string escape code"],
    ['"\u0001"', "invalid character '\\x01' in string literal"],
    ['{}}', "invalid character '}' after top-level value"],
  ])('reports Go text for %j', (input, message) => {
    expect(goJsonSyntaxError(bytes(input))).toBe(message);
  });

  it('returns undefined when the input is valid JSON', () => {
    expect(
      goJsonSyntaxError(bytes(' {"events":["INVOKE"],"n":-1.5e3,"s":"\\u00e9"} ')),
    ).toBeUndefined();
  });
});

describe('decodeRegisterBody', () => {
  it('matches keys case-insensitively and ignores unknown ones like encoding/json', () => {
    expect(decodeRegisterBody(bytes('{"EVENTS":["SHUTDOWN"],"other":1}'))).toEqual({
      events: ['SHUTDOWN'],
      configurationKeys: [],
    });
  });

  it('accepts null and {} as no events', () => {
    expect(decodeRegisterBody(bytes('null'))).toEqual({ events: [], configurationKeys: [] });
    expect(decodeRegisterBody(bytes('{}'))).toEqual({ events: [], configurationKeys: [] });
  });

  it('reports Go type errors when fields have the wrong type', () => {
    expect(decodeRegisterBody(bytes('{"events":"INVOKE"}'))).toBe(
      'json: cannot unmarshal string into Go struct field .events of type []core.Event',
    );
    expect(decodeRegisterBody(bytes('{"events":[1]}'))).toBe(
      'json: cannot unmarshal number into Go struct field .events of type core.Event',
    );
    expect(decodeRegisterBody(bytes('[]'))).toMatch(
      /^json: cannot unmarshal array into Go value of type struct/,
    );
  });
});
