-- Invoke rollups (same table and rules as migrations/sqlite/008-invoke-rollups.sql; see
-- collector/src/storage/rollups.ts).
CREATE TABLE invoke_rollups (
  minute bigint NOT NULL,
  "functionName" text NOT NULL,
  "tenantId" text NOT NULL,
  invokes bigint NOT NULL,
  errors bigint NOT NULL,
  timeouts bigint NOT NULL,
  PRIMARY KEY (minute, "functionName", "tenantId")
);
INSERT INTO invoke_rollups (minute, "functionName", "tenantId", invokes, errors, timeouts)
SELECT floor(i."startedAt" / 60000)::bigint, e."functionName", COALESCE(e."tenantId", ''),
  COUNT(*), COUNT(*) FILTER (WHERE i.status IN ('error', 'failure')), COUNT(*) FILTER (WHERE i.status = 'timeout')
FROM invocations i JOIN environments e ON e."envId" = i."envId"
WHERE i."startedAt" IS NOT NULL AND e."functionName" IS NOT NULL
GROUP BY 1, 2, 3;
