-- The cursor at which an environment's function became known, when some of its events were stored before its
-- register: a function-filtered live stream sends those earlier events right before the row at this cursor.
-- NULL when the function was known from the environment's first batch.
ALTER TABLE environments ADD COLUMN functionCursor INTEGER;
