import { Type } from 'typebox';

/** Page size: default 100, at most 1000. */
export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100 });
/** The opaque `nextCursor` of the previous page. */
export const PageCursor = Type.String({ minLength: 1, maxLength: 2000 });
/** Epoch ms on the event (extension) clock. */
export const EpochMs = Type.Number({ minimum: 0, maximum: 8.64e15 });
/** A function name, as registered. */
export const FunctionName = Type.String({ minLength: 1, maxLength: 256 });
