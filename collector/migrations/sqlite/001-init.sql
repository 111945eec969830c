-- Append-only event log. `cursor` is the commit order (AUTOINCREMENT: never reused, even after retention deletes the
-- newest rows), `id` the idempotency key.
CREATE TABLE events (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  envId TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  time REAL NOT NULL,
  receivedAt INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX events_by_env ON events (envId, cursor);

-- Derived per environment; rewritten in the same transaction as the events it comes from. Column names are the
-- camelCase fields of EnvironmentFacts (src/derive/facts.ts) so rows map to facts one to one.
CREATE TABLE environments (
  rowId INTEGER PRIMARY KEY AUTOINCREMENT,
  envId TEXT NOT NULL UNIQUE,
  functionName TEXT,
  functionVersion TEXT,
  handler TEXT,
  memorySizeMb INTEGER,
  runtime TEXT,
  architecture TEXT,
  region TEXT,
  accountId TEXT,
  initializationType TEXT,
  sandboxId TEXT,
  previousEnvId TEXT,
  telemetry TEXT,
  registeredAt REAL,
  startToRegisteredMs REAL,
  initStartAt REAL,
  initRuntimeDoneAt REAL,
  initRuntimeDoneStatus TEXT,
  initReportAt REAL,
  initReportStatus TEXT,
  initReportDurationMs REAL,
  reportInitDurationMs REAL,
  initPhase TEXT,
  invokeCount INTEGER NOT NULL,
  errorCount INTEGER NOT NULL,
  timeoutCount INTEGER NOT NULL,
  firstActivityAt REAL NOT NULL,
  lastActivityAt REAL NOT NULL,
  lastSeq INTEGER NOT NULL,
  eventCount INTEGER NOT NULL,
  droppedEvents INTEGER NOT NULL,
  lastInvokeSeq INTEGER,
  lastInvokeRequestId TEXT,
  lastInvokeStatus TEXT,
  lastInvokeEndAt REAL,
  shutdownReason TEXT,
  shutdownAt REAL,
  shutdownDeadlineMs REAL,
  shutdownReceivedAt INTEGER,
  exitedAt REAL,
  exitShutdownMs REAL,
  firstReceivedAt INTEGER NOT NULL,
  lastReceivedAt INTEGER NOT NULL
);
CREATE INDEX environments_by_function ON environments (functionName, rowId);
CREATE INDEX environments_by_last_received ON environments (lastReceivedAt);
CREATE INDEX environments_shutdowns ON environments (shutdownAt) WHERE shutdownAt IS NOT NULL;

-- Derived per invocation (joined by requestId within its environment, whatever order its events arrive in).
CREATE TABLE invocations (
  rowId INTEGER PRIMARY KEY AUTOINCREMENT,
  envId TEXT NOT NULL,
  requestId TEXT NOT NULL,
  seq INTEGER,
  startedAt REAL,
  deadlineMs REAL,
  invokedFunctionArn TEXT,
  traceId TEXT,
  platformStartAt REAL,
  runtimeDoneAt REAL,
  runtimeDoneStatus TEXT,
  runtimeDoneDurationMs REAL,
  reportAt REAL,
  reportStatus TEXT,
  reportDurationMs REAL,
  billedDurationMs REAL,
  memorySizeMb REAL,
  maxMemoryUsedMb REAL,
  initDurationMs REAL,
  extensionOverheadMs REAL,
  runtimeDoneErrorType TEXT,
  reportErrorType TEXT,
  status TEXT NOT NULL,
  UNIQUE (envId, requestId)
);
CREATE INDEX invocations_by_started ON invocations (startedAt);
