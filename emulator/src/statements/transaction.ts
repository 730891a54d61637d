/**
 * Transactions of a session. Each session has its own DuckDB connection, so a Snowflake transaction
 * is a DuckDB transaction on it. Tables changed inside one are recorded as pending and touched
 * (LAST_ALTERED, counts) at COMMIT: Snowflake shows committed changes only.
 */
import type { EngineContext } from '../contract.js';
import type { Session } from '../session.js';

/** Opens a transaction; Snowflake ignores a BEGIN inside an open transaction. */
export async function begin(s: Session): Promise<void> {
  if (s.inTransaction) return;
  await s.conn.run('BEGIN TRANSACTION');
  s.inTransaction = true;
}

/** Commits the open transaction (no-op without one) and touches the tables it changed. */
export async function commit(e: EngineContext, s: Session): Promise<void> {
  if (!s.inTransaction) return;
  try {
    await s.conn.run('COMMIT');
    for (const [db, schema, table] of s.pendingTouches.values()) e.catalog.touch(db, schema, table);
  } finally {
    s.inTransaction = false;
    s.pendingTouches.clear();
  }
}

/** Rolls the open transaction back (no-op without one). */
export async function rollback(s: Session): Promise<void> {
  if (!s.inTransaction) return;
  s.inTransaction = false;
  s.pendingTouches.clear();
  await s.conn.run('ROLLBACK');
}

/** Runs DDL: an open transaction is committed first, as in Snowflake. */
export async function ddl(e: EngineContext, s: Session, duckdbSql: string): Promise<void> {
  await commit(e, s);
  await s.conn.run(duckdbSql);
}

/**
 * Runs `work` atomically: in the session's open transaction if there is one (the caller's COMMIT or
 * ROLLBACK decides), else in a transaction of its own, committed on success and rolled back on failure.
 */
export async function withTransaction<T>(e: EngineContext, s: Session, work: () => Promise<T>): Promise<T> {
  if (s.inTransaction) return work();
  await begin(s);
  try {
    const out = await work();
    await commit(e, s);
    return out;
  } catch (err) {
    await rollback(s);
    throw err;
  }
}
