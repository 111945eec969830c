import { describe, expect, it } from 'vitest';
import { parseAssignment, parseEnvFile } from '../src/cli-environment.ts';

describe('parseAssignment', () => {
  it('splits at the first = and keeps the rest of the value when it holds = itself', () => {
    expect(parseAssignment('LIFELINE_TOKEN=a=b=c', '--env')).toEqual(['LIFELINE_TOKEN', 'a=b=c']);
    expect(parseAssignment('EMPTY=', '--env')).toEqual(['EMPTY', '']);
  });

  it.each([
    ['NOVALUE', '--env: expected KEY=VALUE, got "NOVALUE"'],
    ['=value', '--env: expected KEY=VALUE, got "=value"'],
    ['1ABC=x', '--env: "1ABC" is not a valid variable name'],
    ['MY-VAR=x', '--env: "MY-VAR" is not a valid variable name'],
    [
      'AWS_LAMBDA_RUNTIME_API=1.2.3.4:9001',
      '--env: AWS_LAMBDA_RUNTIME_API is set by Lambda itself',
    ],
  ])('refuses %j with a message that names the problem', (text, message) => {
    expect(() => parseAssignment(text, '--env')).toThrow(message);
  });
});

describe('parseEnvFile', () => {
  it('merges SAM Parameters with the entry of the function, the function winning', () => {
    const text = JSON.stringify({
      Parameters: { LIFELINE_COLLECTOR_URL: 'http://shared', LEVEL: 'warn' },
      orders: { LEVEL: 'debug', PORT: 8080, ON: true },
      other: { LEVEL: 'error' },
    });
    expect(parseEnvFile(text, 'env.json', 'orders')).toEqual({
      LIFELINE_COLLECTOR_URL: 'http://shared',
      LEVEL: 'debug',
      PORT: '8080',
      ON: 'true',
    });
    expect(parseEnvFile(text, 'env.json', 'fn')).toEqual({
      LIFELINE_COLLECTOR_URL: 'http://shared',
      LEVEL: 'warn',
    });
  });

  it('reads KEY=VALUE lines, skipping blanks and comments and removing one pair of quotes', () => {
    const text =
      "# collector\nLIFELINE_COLLECTOR_URL=http://127.0.0.1:7460\n\nLIFELINE_TOKEN=\"s3cret\"\nQUOTE='it''s'\r\n";
    expect(parseEnvFile(text, '.env', 'fn')).toEqual({
      LIFELINE_COLLECTOR_URL: 'http://127.0.0.1:7460',
      LIFELINE_TOKEN: 's3cret',
      QUOTE: "it''s",
    });
  });

  it.each([
    ['{"Parameters": ', 'env.json: not valid JSON'],
    ['["A=1"]', 'env.json: expected {"Parameters": {...}} or {"fn": {...}}'],
    [
      '{"orders": {"A": "1"}}',
      'env.json: no "Parameters" and no entry for function fn (it has orders; see --function-name)',
    ],
    [
      '{"Parameters": {"A": null}}',
      'env.json: Parameters.A must be a string, number or boolean, got null',
    ],
    [
      '{"Parameters": {"A": {"nested": 1}}}',
      'env.json: Parameters.A must be a string, number or boolean',
    ],
    ['{"Parameters": ["A"]}', 'env.json: Parameters must be an object of variables'],
    ['{"fn": {"TZ": "Europe/Paris"}}', 'env.json: fn: TZ is set by Lambda itself'],
  ])('refuses the SAM file %j with a message that names the problem', (text, message) => {
    expect(() => parseEnvFile(text, 'env.json', 'fn')).toThrow(message);
  });

  it('names the line of a bad KEY=VALUE line', () => {
    expect(() => parseEnvFile('A=1\n\nnot a pair\n', '.env', 'fn')).toThrow(
      '.env:3: expected KEY=VALUE, got "not a pair"',
    );
  });
});
