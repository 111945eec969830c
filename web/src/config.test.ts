// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { loadToken, saveToken, TOKEN_STORAGE_KEY } from './config.ts';

afterEach(() => {
  window.localStorage.clear();
  window.sessionStorage.clear();
});

describe('read token storage', () => {
  it('keeps the token in this tab’s sessionStorage, never in localStorage', () => {
    saveToken('read-token-1');
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('read-token-1');
    expect(window.localStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(loadToken()).toBe('read-token-1');
    saveToken(null);
    expect(loadToken()).toBeNull();
  });

  it('moves a token an older version left in localStorage into the session and deletes it there', () => {
    window.localStorage.setItem(TOKEN_STORAGE_KEY, 'old-token-1');
    expect(loadToken()).toBe('old-token-1');
    expect(window.localStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(window.sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('old-token-1');
  });
});
