-- The index of invocations by start also holds envId and status, so the fleet's invoke buckets (the timeline's
-- strip: invokes, errors, timeouts and distinct environments per bucket) are counted from the index alone, without
-- reading each invocation's row (range-rows.ts, selectFleetBuckets). Same name, same leading column: every other
-- read by start uses it as before.
DROP INDEX invocations_by_started;
CREATE INDEX invocations_by_started ON invocations (startedAt, envId, status);
