import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

describe('createLogger', () => {
  it('writes JSON lines at or above the level only', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line) => lines.push(line) });
    logger.debug('d');
    logger.info('i');
    logger.warn('w', { n: 1 });
    logger.error('e');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['w', 'e']);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', n: 1 });
    expect(lines.every((line) => line.endsWith('\n'))).toBe(true);
  });

  it('masks secrets when a line contains them', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', {
      secrets: ['s3cr3t-token'],
      write: (line) => lines.push(line),
    });
    logger.error('failed with s3cr3t-token', { detail: 'Bearer s3cr3t-token' });
    expect(lines[0]).not.toContain('s3cr3t-token');
    expect(lines[0]).toContain('***');
  });

  it('masks a secret learned later, the longest first, when one contains another', () => {
    const lines: string[] = [];
    const logger = createLogger('info', {
      secrets: ['abcdefgh'],
      write: (line) => lines.push(line),
    });
    logger.mask('abcdefghijk');
    logger.mask('');
    logger.info('token abcdefghijk and abcdefgh');
    expect(lines[0]).toContain('token *** and ***');
    expect(lines[0]).not.toContain('ijk');
  });

  it('masks a secret whose JSON encoding differs from its raw form when it holds quotes or backslashes', () => {
    const lines: string[] = [];
    const secret = 'ab"cd\\ef\ngh';
    const logger = createLogger('warn', { secrets: [secret], write: (line) => lines.push(line) });
    logger.warn(`token ${secret}`, { detail: `x${secret}y` });
    expect(lines[0]).not.toContain('cd');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'token ***', detail: 'x***y' });
  });

  it('masks a short secret only as a whole value, never inside other text, when it has fewer than 8 characters', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { secrets: ['t'], write: (line) => lines.push(line) });
    logger.warn('the token was rejected', { token: 't' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'the token was rejected', token: '***' });
    expect(lines[0]).toContain('"time"');
  });

  it('logs a repeated problem once until it is resolved', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line) => lines.push(line) });
    for (let i = 0; i < 50; i++) logger.once('collector', 'down');
    logger.resolve('collector', 'back');
    logger.resolve('collector', 'back');
    logger.once('collector', 'down');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['down', 'back', 'down']);
    expect(JSON.parse(lines[1]!).occurrences).toBe(50);
  });

  it('writes nothing when the level is silent', () => {
    const lines: string[] = [];
    const logger = createLogger('silent', { write: (line) => lines.push(line) });
    logger.error('e');
    logger.once('k', 'm');
    expect(lines).toEqual([]);
  });
});
