-- Lifecycle facts of the shared derivation (same columns as migrations/sqlite/006-lifecycle-facts.sql).
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "registeredEvents" text;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "restoredFrom" text;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "tenantId" text;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "restoreStartAt" double precision;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "restoreRuntimeDoneAt" double precision;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "restoreReportAt" double precision;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "restoreStatus" text;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "restoreDurationMs" double precision;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "firstInvokeStartAt" double precision;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "lastStartSeq" double precision;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "lastStartRequestId" text;
ALTER TABLE environments ADD COLUMN IF NOT EXISTS "lastInvokeExpiresAt" double precision;
ALTER TABLE invocations ADD COLUMN IF NOT EXISTS "receivedAt" double precision;
ALTER TABLE invocations ADD COLUMN IF NOT EXISTS "responseLatencyMs" double precision;
ALTER TABLE invocations ADD COLUMN IF NOT EXISTS "responseDurationMs" double precision;
ALTER TABLE invocations ADD COLUMN IF NOT EXISTS "producedBytes" double precision;
