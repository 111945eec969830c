-- Lifecycle facts of the shared derivation (Managed Instances, SnapStart, tenants, proactive init, streaming, the
-- live invoke end). New columns start empty; rows derived before this migration get them from new events only.
ALTER TABLE environments ADD COLUMN registeredEvents TEXT;
ALTER TABLE environments ADD COLUMN restoredFrom TEXT;
ALTER TABLE environments ADD COLUMN tenantId TEXT;
ALTER TABLE environments ADD COLUMN restoreStartAt REAL;
ALTER TABLE environments ADD COLUMN restoreRuntimeDoneAt REAL;
ALTER TABLE environments ADD COLUMN restoreReportAt REAL;
ALTER TABLE environments ADD COLUMN restoreStatus TEXT;
ALTER TABLE environments ADD COLUMN restoreDurationMs REAL;
ALTER TABLE environments ADD COLUMN firstInvokeStartAt REAL;
ALTER TABLE environments ADD COLUMN lastStartSeq INTEGER;
ALTER TABLE environments ADD COLUMN lastStartRequestId TEXT;
ALTER TABLE environments ADD COLUMN lastInvokeExpiresAt REAL;
ALTER TABLE invocations ADD COLUMN receivedAt REAL;
ALTER TABLE invocations ADD COLUMN responseLatencyMs REAL;
ALTER TABLE invocations ADD COLUMN responseDurationMs REAL;
ALTER TABLE invocations ADD COLUMN producedBytes REAL;
