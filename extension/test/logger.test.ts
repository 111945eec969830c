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
      secrets: ['s3cr3t'],
      write: (line) => lines.push(line),
    });
    logger.error('failed with s3cr3t', { detail: 'Bearer s3cr3t' });
    expect(lines[0]).not.toContain('s3cr3t');
    expect(lines[0]).toContain('***');
  });

  it('masks a secret learned later, the longest first, when one contains another', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { secrets: ['abc'], write: (line) => lines.push(line) });
    logger.mask('abcdef');
    logger.mask('');
    logger.info('token abcdef and abc');
    expect(lines[0]).toContain('token *** and ***');
    expect(lines[0]).not.toContain('def');
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
