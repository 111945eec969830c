-- Lifeline on PostgreSQL. Column names are the camelCase fact field names of the shared derivation, so they are
-- quoted everywhere ("envId"); a migration that adds a fact adds a quoted column here and in migrations/sqlite/.
-- Numbers are double precision (JavaScript numbers), cursors and row ids bigint.

-- The event log, partitioned by the day of the event's own time (extension clock, ms / 86,400,000): retention
-- drops whole days. The idempotency key is (day, id): a re-delivered event has the same time, so the same day.
-- Days without their own partition (far past or future clocks, or before the maintenance created it) land in
-- the default partition, which retention prunes row by row.
CREATE SEQUENCE events_cursor_seq;
CREATE TABLE events (
  cursor bigint NOT NULL DEFAULT nextval('events_cursor_seq'),
  id text NOT NULL,
  day integer NOT NULL,
  "envId" text NOT NULL,
  "receivedAt" bigint NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (day, id)
) PARTITION BY RANGE (day);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_by_cursor ON events (cursor);
CREATE INDEX events_by_env ON events ("envId", cursor);

-- The commit-ordered head: written by every ingest transaction while it holds the ordering lock (see the ingest
-- store), so a reader that sees head N sees every event with cursor <= N.
CREATE TABLE log_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), cursor bigint NOT NULL);
INSERT INTO log_head (cursor) VALUES (0);

CREATE TABLE environments (
  "rowId" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "envId" text NOT NULL UNIQUE,
  "lastCursor" bigint NOT NULL DEFAULT 0,
  "functionName" text,
  "functionVersion" text,
  handler text,
  "memorySizeMb" double precision,
  runtime text,
  architecture text,
  region text,
  "accountId" text,
  "initializationType" text,
  "sandboxId" text,
  "previousEnvId" text,
  telemetry text,
  "registeredAt" double precision,
  "startToRegisteredMs" double precision,
  "initStartAt" double precision,
  "initRuntimeDoneAt" double precision,
  "initRuntimeDoneStatus" text,
  "initReportAt" double precision,
  "initReportStatus" text,
  "initReportDurationMs" double precision,
  "reportInitDurationMs" double precision,
  "initPhase" text,
  "invokeCount" double precision NOT NULL,
  "errorCount" double precision NOT NULL,
  "timeoutCount" double precision NOT NULL,
  "firstActivityAt" double precision NOT NULL,
  "lastActivityAt" double precision NOT NULL,
  "lastSeq" double precision NOT NULL,
  "eventCount" double precision NOT NULL,
  "droppedEvents" double precision NOT NULL,
  "lastInvokeSeq" double precision,
  "lastInvokeRequestId" text,
  "lastInvokeStatus" text,
  "lastInvokeEndAt" double precision,
  "shutdownReason" text,
  "shutdownAt" double precision,
  "shutdownDeadlineMs" double precision,
  "shutdownReceivedAt" double precision,
  "exitedAt" double precision,
  "exitShutdownMs" double precision,
  "firstReceivedAt" double precision NOT NULL,
  "lastReceivedAt" double precision NOT NULL
);
CREATE INDEX environments_by_function ON environments ("functionName", "rowId");
CREATE INDEX environments_by_last_activity ON environments ("lastActivityAt");
CREATE INDEX environments_shutdowns ON environments ("shutdownAt") WHERE "shutdownAt" IS NOT NULL;
CREATE INDEX environments_by_sandbox ON environments ("sandboxId") WHERE "sandboxId" IS NOT NULL;

CREATE TABLE invocations (
  "rowId" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "envId" text NOT NULL,
  "requestId" text NOT NULL,
  seq double precision,
  "startedAt" double precision,
  "deadlineMs" double precision,
  "invokedFunctionArn" text,
  "traceId" text,
  "platformStartAt" double precision,
  "runtimeDoneAt" double precision,
  "runtimeDoneStatus" text,
  "runtimeDoneDurationMs" double precision,
  "runtimeDoneErrorType" text,
  "reportAt" double precision,
  "reportStatus" text,
  "reportDurationMs" double precision,
  "billedDurationMs" double precision,
  "memorySizeMb" double precision,
  "maxMemoryUsedMb" double precision,
  "initDurationMs" double precision,
  "extensionOverheadMs" double precision,
  "reportErrorType" text,
  status text NOT NULL,
  UNIQUE ("envId", "requestId")
);
CREATE INDEX invocations_by_started ON invocations ("startedAt");
CREATE INDEX invocations_by_request ON invocations ("requestId");
CREATE INDEX invocations_by_trace ON invocations ("traceId") WHERE "traceId" IS NOT NULL;
