-- lastInvokeEndAt moves to the extension clock: the last INVOKE time + its duration (report's, else runtimeDone's),
-- else the INVOKE time. It used to be platform.runtimeDone's time (platform clock), which idleMs mixed with the
-- SHUTDOWN time (extension clock).
UPDATE environments SET lastInvokeEndAt = (
  SELECT i.startedAt + COALESCE(i.reportDurationMs, i.runtimeDoneDurationMs, 0)
  FROM invocations i
  WHERE i.envId = environments.envId AND i.requestId = environments.lastInvokeRequestId
)
WHERE lastInvokeRequestId IS NOT NULL;
