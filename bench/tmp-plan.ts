import Database from 'better-sqlite3';
const db = new Database(process.argv[2]!, { readonly: true });
const IN_RANGE = `e.lastActivityAt >= @from - @lostAfterMs
  AND e.firstActivityAt <= @to
  AND e.lastActivityAt + CASE WHEN e.shutdownAt IS NULL AND e.exitedAt IS NULL THEN @lostAfterMs ELSE 0 END >= @from
  AND (@functionName IS NULL OR e.functionName = @functionName)
  AND (@tenant IS NULL OR e.tenantId = @tenant)`;
const sql = `SELECT e.* FROM environments e WHERE ${IN_RANGE} AND (@before IS NULL OR e.rowId < @before) ORDER BY e.rowId DESC LIMIT @limit`;
console.log(db.prepare('EXPLAIN QUERY PLAN ' + sql).all({ from: 0, to: 1, lostAfterMs: 1, functionName: null, tenant: null, before: null, limit: 501 }));
console.log(db.prepare('EXPLAIN QUERY PLAN SELECT COUNT(*) FROM environments e WHERE ' + IN_RANGE).all({ from: 0, to: 1, lostAfterMs: 1, functionName: null, tenant: null }));
const max = db.prepare('SELECT MAX(lastActivityAt) m, COUNT(*) c FROM environments').get() as { m: number; c: number };
console.log(max);
const now = max.m;
for (const span of [15 * 60e3, 3600e3, 86400e3, 7 * 86400e3]) {
  const t = performance.now();
  const rows = db.prepare(sql).all({ from: now - span, to: now, lostAfterMs: 7200e3, functionName: null, tenant: null, before: null, limit: 501 });
  const t2 = performance.now();
  const n = db.prepare('SELECT COUNT(*) FROM environments e WHERE ' + IN_RANGE).pluck().get({ from: now - span, to: now, lostAfterMs: 7200e3, functionName: null, tenant: null });
  console.log(span / 60e3, 'min: page', rows.length, (t2 - t).toFixed(1), 'ms; count', n, (performance.now() - t2).toFixed(1), 'ms');
}
const recent = `SELECT e.* FROM environments e
     WHERE e.rowId IN (SELECT rowId FROM environments INDEXED BY environments_by_last_activity
                       WHERE lastActivityAt >= @from - @lostAfterMs)
       AND ${IN_RANGE} AND (@before IS NULL OR e.rowId < @before)
     ORDER BY e.rowId DESC LIMIT @limit`;
console.log(db.prepare('EXPLAIN QUERY PLAN ' + recent).all({ from: 0, to: 1, lostAfterMs: 1, functionName: null, tenant: null, before: null, limit: 501 }).map((r: any) => r.detail));
for (const span of [15 * 60e3, 3600e3, 86400e3]) {
  const t = performance.now();
  const rows = db.prepare(recent).all({ from: now - span, to: now, lostAfterMs: 7200e3, functionName: null, tenant: null, before: null, limit: 501 });
  console.log('recent', span / 60e3, 'min: page', rows.length, (performance.now() - t).toFixed(1), 'ms');
}
