import { describe, expect, it } from 'vitest';
import { storageError, toApiError } from '../src/errors.ts';

function sqliteError(code: string): Error {
  return Object.assign(new Error(`sqlite says ${code}`), { code });
}

describe('toApiError', () => {
  it('maps a full database to a retryable 507 when SQLite reports SQLITE_FULL', () => {
    const body = toApiError(sqliteError('SQLITE_FULL'), 1024);
    expect(body).toMatchObject({
      statusCode: 507,
      code: 'COLLECTOR_ERR_STORAGE_FULL',
      error: 'Insufficient Storage',
    });
    expect(body.message).toMatch(/database is full.*not stored.*retry/);
  });

  it('maps transient storage failures to a retryable 503 when SQLite reports I/O or busy errors', () => {
    for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_BUSY', 'SQLITE_READONLY']) {
      expect(toApiError(sqliteError(code), 1024), code).toMatchObject({
        statusCode: 503,
        code: 'COLLECTOR_ERR_STORAGE_UNAVAILABLE',
      });
    }
  });

  it('keeps a hidden 500 when the SQLite error is a bug rather than the storage', () => {
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_MISMATCH', 'SQLITE_ERROR']) {
      expect(toApiError(sqliteError(code), 1024), code).toEqual({
        statusCode: 500,
        code: 'COLLECTOR_ERR_INTERNAL',
        error: 'Internal Server Error',
        message: 'internal error',
      });
    }
  });
});

describe('storageError', () => {
  it('returns undefined when the cause is not a storage failure', () => {
    expect(storageError(new Error('plain'), 'x')).toBeUndefined();
    expect(storageError(null, 'x')).toBeUndefined();
    expect(storageError('SQLITE_FULL', 'x')).toBeUndefined();
  });

  it('keeps the cause when it wraps a storage failure', () => {
    const cause = sqliteError('SQLITE_FULL');
    expect(storageError(cause, 'the batch was not stored')?.cause).toBe(cause);
  });
});
