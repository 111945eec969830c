-- Invoke rollups (collector/src/storage/rollups.ts): per minute of the invocations' start, per function and
-- tenant ('' = none), the invocations that started, and how many are errors and timeouts. Kept by every ingest
-- transaction; the Functions view reads the whole minutes of its range here and only the edges from invocations.
CREATE TABLE invoke_rollups (
  minute INTEGER NOT NULL,
  functionName TEXT NOT NULL,
  tenantId TEXT NOT NULL,
  invokes INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  timeouts INTEGER NOT NULL,
  PRIMARY KEY (minute, functionName, tenantId)
) WITHOUT ROWID;
-- Back-filled from the invocations stored so far, with the same rules.
INSERT INTO invoke_rollups (minute, functionName, tenantId, invokes, errors, timeouts)
SELECT CAST(i.startedAt / 60000 AS INTEGER), e.functionName, COALESCE(e.tenantId, ''),
  COUNT(*), SUM(i.status IN ('error', 'failure')), SUM(i.status = 'timeout')
FROM invocations i JOIN environments e ON e.envId = i.envId
WHERE i.startedAt IS NOT NULL AND e.functionName IS NOT NULL
GROUP BY 1, 2, 3;
