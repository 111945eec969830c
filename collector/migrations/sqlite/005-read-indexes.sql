-- Windowed reads: environments by activity (time ranges), ids for search.
CREATE INDEX environments_by_last_activity ON environments (lastActivityAt);
CREATE INDEX environments_by_sandbox ON environments (sandboxId) WHERE sandboxId IS NOT NULL;
CREATE INDEX invocations_by_request ON invocations (requestId);
CREATE INDEX invocations_by_trace ON invocations (traceId) WHERE traceId IS NOT NULL;
-- seq, type and time are in the stored JSON body and no query reads them: stored twice, they cost ~40 bytes an
-- event (column values plus record header).
ALTER TABLE events DROP COLUMN seq;
ALTER TABLE events DROP COLUMN type;
ALTER TABLE events DROP COLUMN time;
