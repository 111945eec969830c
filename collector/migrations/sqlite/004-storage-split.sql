-- The function-filtered live stream is gone, and with it the cursor it needed.
ALTER TABLE environments DROP COLUMN functionCursor;
-- The highest event cursor applied to the environment's derived rows: a windowed snapshot carries it so a client
-- following live skips the events already in the snapshot. Filled from the events stored so far.
ALTER TABLE environments ADD COLUMN lastCursor INTEGER NOT NULL DEFAULT 0;
UPDATE environments SET lastCursor = COALESCE(
  (SELECT MAX(cursor) FROM events WHERE events.envId = environments.envId), 0);
