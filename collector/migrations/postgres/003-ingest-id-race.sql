-- Raised by the ingest statement that takes cursors when an event it was about to insert was stored meanwhile by
-- another transaction (one event id sent under two environment ids at once): SQLSTATE 40001, so the collector runs
-- the transaction again. It must fail inside that statement, because the COMMIT is sent with it in one round trip
-- (src/storage/postgres/ingest-store.ts).
CREATE FUNCTION lifeline_ingest_id_race() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'an event id was stored by another transaction meanwhile' USING ERRCODE = 'serialization_failure';
END
$$;
