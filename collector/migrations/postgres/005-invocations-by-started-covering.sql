-- The index of invocations by start also carries envId and status, so the fleet's invoke buckets (the timeline's
-- strip) can be counted by an index-only scan (query-store.ts, fleetBuckets). Same name, same key.
DROP INDEX invocations_by_started;
CREATE INDEX invocations_by_started ON invocations ("startedAt") INCLUDE ("envId", status);
