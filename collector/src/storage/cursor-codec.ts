import { BadQueryError } from '../errors.ts';

/**
 * Page cursors of the read API: opaque strings the client passes back unchanged. A cursor this collector did not
 * issue is a 400, never a wrong page.
 */

const BAD_CURSOR = 'cursor is not one this collector issued; pass back nextCursor unchanged';

/** A row id (positive integer) as a cursor. */
export function encodeRowCursor(rowId: number): string {
  return String(rowId);
}

export function decodeRowCursor(cursor: string): number {
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new BadQueryError(BAD_CURSOR);
  return Number(cursor);
}

/** A text key (a function name) as a cursor. */
export function encodeTextCursor(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function decodeTextCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{2,2000}$/.test(cursor)) throw new BadQueryError(BAD_CURSOR);
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only the exact encoding of a valid UTF-8 name is one this collector issued (`abc` or `42` decode to garbage).
  if (
    text.length === 0 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
    /[\uFFFD\u0000-\u001F\u007F]/.test(text) ||
    encodeTextCursor(text) !== cursor
  ) {
    throw new BadQueryError(BAD_CURSOR);
  }
  return text;
}

/** A (sort key, row id) pair as a cursor, for lists ordered by a number then by row id (both descending). */
export function encodeKeyCursor(key: number, rowId: number): string {
  return `${key}_${rowId}`;
}

export function decodeKeyCursor(cursor: string): { key: number; rowId: number } {
  const match = /^(-?\d{1,16}(?:\.\d{1,20})?)_([1-9]\d{0,15})$/.exec(cursor);
  if (match === null) throw new BadQueryError(BAD_CURSOR);
  const key = Number(match[1]);
  if (!Number.isFinite(key) || encodeKeyCursor(key, Number(match[2])) !== cursor) {
    throw new BadQueryError(BAD_CURSOR);
  }
  return { key, rowId: Number(match[2]) };
}

/** One page out of `limit + 1` fetched rows: the extra row only says there is a next page. */
export function pageOf<T>(
  items: T[],
  limit: number,
  cursorOf: (item: T) => string,
): { items: T[]; nextCursor: string | null } {
  if (items.length <= limit) return { items, nextCursor: null };
  const kept = items.slice(0, limit);
  const last = kept[kept.length - 1];
  return { items: kept, nextCursor: last === undefined ? null : cursorOf(last) };
}
