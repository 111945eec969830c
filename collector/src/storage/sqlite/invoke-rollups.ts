import type { EnvironmentModel } from '@lifeline/protocol';
import { type RollupKey, rollupChange, rollupKeyOf } from '../rollups.ts';
import type { SqliteDatabase } from './open.ts';

const ADD = `ON CONFLICT (minute, functionName, tenantId) DO UPDATE SET
  invokes = invokes + excluded.invokes, errors = errors + excluded.errors, timeouts = timeouts + excluded.timeouts`;

/** The invoke rollups on SQLite (rules in rollups.ts), written inside the caller's transaction. */
export function createSqliteInvokeRollups(db: SqliteDatabase): {
  /** Records one environment's ingest: as loaded before it, and as stored (after its rows were written). */
  record(before: EnvironmentModel | undefined, after: EnvironmentModel): void;
  /** Takes an environment's stored invocations out of the rollups (before they are deleted). */
  forget(envId: string): void;
} {
  const addDelta = db.prepare(
    `INSERT INTO invoke_rollups (minute, functionName, tenantId, invokes, errors, timeouts)
     VALUES (@minute, @functionName, @tenantId, @invokes, @errors, @timeouts) ${ADD}`,
  );
  const addStored = db.prepare(
    `INSERT INTO invoke_rollups (minute, functionName, tenantId, invokes, errors, timeouts)
     SELECT CAST(startedAt / 60000 AS INTEGER), @functionName, @tenantId,
       @sign * COUNT(*), @sign * SUM(status IN ('error', 'failure')), @sign * SUM(status = 'timeout')
     FROM invocations WHERE envId = @envId AND startedAt IS NOT NULL GROUP BY 1 ${ADD}`,
  );
  const selectKey = db.prepare('SELECT functionName, tenantId FROM environments WHERE envId = ?');
  const moveStored = (envId: string, key: RollupKey | null, sign: 1 | -1) => {
    if (key !== null) addStored.run({ envId, sign, ...key });
  };
  return {
    record(before, after) {
      const change = rollupChange(before, after);
      for (const delta of change.deltas) addDelta.run(delta);
      if (change.move !== null) {
        moveStored(change.move.envId, change.move.from, -1);
        moveStored(change.move.envId, change.move.to, 1);
      }
    },
    forget(envId) {
      const row = selectKey.get(envId) as Parameters<typeof rollupKeyOf>[0] | undefined;
      if (row !== undefined) moveStored(envId, rollupKeyOf(row), -1);
    },
  };
}
