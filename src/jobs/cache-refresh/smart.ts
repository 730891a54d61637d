/**
 * The smart check: whether a cache needs a refresh.
 * 1. forced → refresh; never filled → refresh;
 * 2. TTL: `expires_at <= now` → refresh;
 * 3. LAST_ALTERED of every monitored table, FULLY QUALIFIED (db.schema.table, so same-named tables in two
 *    schemas are never confused), read from `<DB>.INFORMATION_SCHEMA.TABLES` BEFORE any extraction, hashed
 *    and compared with the hash stored by the last successful refresh → refresh when different.
 * Because the stored hash is the one read *before* the extraction that produced the current rows, a
 * change committed during a refresh leaves a hash that differs from the next read: the next check
 * refreshes again (hashing after the refresh would miss that change). Snowflake moves LAST_ALTERED also
 * on zero-row DML and maintenance: that only costs a redundant refresh, never a missed change.
 */
import { createHash } from 'node:crypto';
import type { SnowflakeSession } from '../../connectors/snowflake.js';
import { floeError, NonRetryable } from '../../errors.js';
import { quoteSnowflakeIdent, snowflakeLiteral } from '../../sql/quote.js';
import { formatQualified, parseQualifiedName, type QualifiedTable } from './sqlRefs.js';

/** The INFORMATION_SCHEMA query of one database's monitored tables (LAST_ALTERED as UTC text with ns). */
export function lastAlteredQuery(database: string, tables: QualifiedTable[]): string {
  const where = tables
    .map((t) => `(TABLE_SCHEMA = ${snowflakeLiteral(t.schema)} AND TABLE_NAME = ${snowflakeLiteral(t.table)})`)
    .join(' OR ');
  return (
    `SELECT TABLE_SCHEMA, TABLE_NAME, TO_VARCHAR(CONVERT_TIMEZONE('UTC', LAST_ALTERED), 'YYYY-MM-DD"T"HH24:MI:SS.FF9"Z"') AS LAST_ALTERED ` +
    `FROM ${quoteSnowflakeIdent(database)}.INFORMATION_SCHEMA.TABLES WHERE ${where}`
  );
}

/**
 * LAST_ALTERED of each monitored table (keys: `DB.SCHEMA.TABLE` as stored in `caches.monitor_tables`).
 * One query per database. Throws TableNotFound (non-retryable) naming any monitored table that is missing.
 */
export async function readLastAltered(sf: SnowflakeSession, monitorTables: string[]): Promise<Record<string, string>> {
  const byDb = new Map<string, { key: string; t: QualifiedTable }[]>();
  for (const key of monitorTables) {
    const t = parseQualifiedName(key);
    const list = byDb.get(t.database) ?? [];
    list.push({ key, t });
    byDb.set(t.database, list);
  }
  const out: Record<string, string> = {};
  for (const [db, list] of byDb) {
    const rows = await sf.query(
      lastAlteredQuery(
        db,
        list.map((x) => x.t),
      ),
    );
    const found = new Map(
      rows.map((r) => [`${String(r.TABLE_SCHEMA)}\u0000${String(r.TABLE_NAME)}`, String(r.LAST_ALTERED)]),
    );
    const missing: string[] = [];
    for (const { key, t } of list) {
      const v = found.get(`${t.schema}\u0000${t.table}`);
      if (v === undefined) missing.push(formatQualified(t));
      else out[key] = v;
    }
    if (missing.length)
      throw floeError(
        NonRetryable.TableNotFound,
        `monitored table(s) ${missing.join(', ')} do not exist or are not visible`,
      );
  }
  return out;
}

/** SHA-256 (hex) of the sorted `DB.SCHEMA.TABLE=LAST_ALTERED` lines. */
export function stateHash(lastAltered: Record<string, string>): string {
  const lines = Object.keys(lastAltered)
    .sort()
    .map((k) => `${k}=${lastAltered[k]}`);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Inputs of {@link decide}. */
export interface DecideInput {
  force: boolean;
  /** The cache has rows (a snapshot) from an earlier refresh. */
  filled: boolean;
  expiresAt: Date | null;
  storedHash: string | null;
  currentHash: string;
  now: Date;
}

/** The decision: refresh or skip, and why. Pure. */
export function decide(i: DecideInput): { refresh: boolean; reason: string } {
  if (i.force) return { refresh: true, reason: 'forced' };
  if (!i.filled || i.storedHash === null) return { refresh: true, reason: 'never refreshed' };
  if (i.expiresAt && i.expiresAt.getTime() <= i.now.getTime()) return { refresh: true, reason: 'TTL expired' };
  if (i.storedHash !== i.currentHash) return { refresh: true, reason: 'source tables changed (LAST_ALTERED)' };
  return { refresh: false, reason: 'source tables unchanged and TTL not expired' };
}
