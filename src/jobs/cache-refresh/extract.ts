/**
 * Extraction of a cache's query result from Snowflake and its replacement in DuckLake.
 *
 * - Columns: the driver's result metadata of `SELECT * FROM (<query>) LIMIT 0` (describeOnly), mapped
 *   with the table sync's type map (src/sql/typemap.ts: NUMBER keeps precision, TZ/LTZ keep the instant,
 *   semi-structured → JSON; GEOGRAPHY etc. refused).
 * - Rows: unloaded as Parquet (`COPY INTO @stage/cache/<job>/ FROM (SELECT <unloadExpr>… FROM (<query>))`,
 *   TZ/LTZ converted because Snowflake refuses to unload them) → GET with the stage helpers of
 *   src/connectors/snowflake-stage.ts → `read_parquet` with the table sync's load casts
 *   (src/sql/typemap.ts), as the table sync does.
 * - Replace: ONE DuckLake transaction `CREATE OR REPLACE TABLE lake.main.<cache> (...)` + INSERT, with the
 *   row count verified against the unload before COMMIT. Readers (routing, a user's DuckDB) see either
 *   the previous snapshot or the new one, never an empty or half-written table; a failure rolls back and
 *   the previous rows stay. A PostgreSQL advisory lock per cache serializes writers across processes
 *   (besides the per-cache workflow id), since concurrent replaces of one DuckLake table conflict. Under
 *   that lock, Parquet files of an earlier transaction of the cache that never committed (a killed
 *   process, a catalog connection lost during COMMIT) are deleted before the new one begins.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { SnowflakeSession } from '../../connectors/snowflake.js';
import { floeError, NonRetryable } from '../../errors.js';
import {
  createStage,
  getFromStage,
  removeFromStage,
  unloadToStage,
  DEFAULT_GET_PARALLEL,
} from '../../connectors/snowflake-stage.js';
import { quoteDuckDbIdent, snowflakeStagePath } from '../../sql/quote.js';
import {
  mapColumns,
  readParquetSource,
  typedSelect,
  unloadExpr,
  type ColumnPlan,
  type SnowflakeColumnRow,
} from '../../sql/typemap.js';
import {
  cacheTableName,
  currentSnapshot,
  removeUncommittedFiles,
  scrubSecret,
  withLake,
  type LakeSettings,
} from './storage.js';

/** Driver result-column types (snowflake-sdk's lower-case wire names) → INFORMATION_SCHEMA DATA_TYPE for {@link mapColumns}. */
const DRIVER_TYPES: Record<string, string> = { fixed: 'NUMBER', real: 'FLOAT', text: 'TEXT' };

/** Strip one trailing `;` and whitespace. */
export function trimQuery(q: string): string {
  return q.trim().replace(/;\s*$/, '').trim();
}

/**
 * Result columns of `query` without running it ({@link SnowflakeSession.describe}, the driver's
 * `describeOnly`), mapped to DuckDB types. Throws the driver's error (e.g. 002003 object does not
 * exist) or UnsupportedType / InvalidRequest (duplicate column names).
 */
export async function describeQuery(sf: SnowflakeSession, query: string, label: string): Promise<ColumnPlan[]> {
  const cols = await sf.describe(`SELECT * FROM (${trimQuery(query)}) LIMIT 0`);
  const rows: SnowflakeColumnRow[] = cols.map((c, i) => ({
    COLUMN_NAME: c.name,
    DATA_TYPE: DRIVER_TYPES[c.type] ?? c.type.toUpperCase(),
    NUMERIC_PRECISION: c.precision,
    NUMERIC_SCALE: c.scale,
    IS_NULLABLE: c.nullable ? 'YES' : 'NO',
    ORDINAL_POSITION: i + 1,
  }));
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.COLUMN_NAME.toLowerCase())) {
      throw floeError(
        NonRetryable.InvalidRequest,
        `the query of cache ${label} returns column ${r.COLUMN_NAME} twice; alias the columns so names are unique`,
      );
    }
    seen.add(r.COLUMN_NAME.toLowerCase());
  }
  return mapColumns(`cache ${label}`, rows);
}

/** Parameters of {@link extractAndReplace}. */
export interface ExtractParams {
  sf: SnowflakeSession;
  lake: LakeSettings;
  pool: pg.Pool;
  cacheName: string;
  query: string;
  /** Stage as [database, schema, name]. */
  stage: [string, string, string];
  /** Job-scoped stage sub-path and local directory name ([A-Za-z0-9._-]). */
  segment: string;
  tmpDir: string;
  getParallel?: number;
  /** Called after download, before the DuckLake transaction (tests inject faults/changes here). */
  beforeLoad?: () => Promise<void>;
}

/** Stage path of a job segment. */
export function cacheStagePath(stage: [string, string, string], segment: string): string {
  return snowflakeStagePath(stage, 'cache', segment);
}

/** Local download directory of a job segment under `tmpDir`. */
export function cacheLocalDir(tmpDir: string, segment: string): string {
  return path.join(tmpDir, `cache-${segment}`);
}

/**
 * Extract the query result and replace the cache's DuckLake table in one transaction.
 * Returns rows, snapshot and Parquet bytes. Always removes the stage path and local files.
 * Throws VerificationFailed when the loaded count differs from the unloaded one (previous rows kept).
 */
export async function extractAndReplace(
  p: ExtractParams,
): Promise<{ rows: number; snapshotId: number; bytes: number }> {
  const cols = await describeQuery(p.sf, p.query, p.cacheName);
  const stagePath = cacheStagePath(p.stage, p.segment);
  const localDir = cacheLocalDir(p.tmpDir, p.segment);
  try {
    await createStage(p.sf, p.stage);
    await removeFromStage(p.sf, stagePath);
    const select = `SELECT ${cols.map(unloadExpr).join(', ')} FROM (${trimQuery(p.query)})`;
    const out = await unloadToStage(p.sf, stagePath, select);
    const local =
      out.rowsUnloaded > 0 ? await getFromStage(p.sf, stagePath, localDir, p.getParallel ?? DEFAULT_GET_PARALLEL) : [];
    if (p.beforeLoad) await p.beforeLoad();
    const r = await replaceInLake(p.lake, p.pool, p.cacheName, cols, local, out.rowsUnloaded);
    return { ...r, bytes: out.outputBytes };
  } finally {
    await rm(localDir, { recursive: true, force: true }).catch(() => undefined);
    await removeFromStage(p.sf, stagePath).catch(() => undefined);
  }
}

/**
 * The replacing DuckLake transaction (see module comment). `files` are local Parquet files with the
 * unloaded columns; `expectedRows` is the unload's row count.
 */
export async function replaceInLake(
  lake: LakeSettings,
  pool: pg.Pool,
  cacheName: string,
  cols: ColumnPlan[],
  files: string[],
  expectedRows: number,
): Promise<{ rows: number; snapshotId: number }> {
  const table = cacheTableName(lake, cacheName);
  const lock = await pool.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('floe-cache:' || $1))`, [cacheName]);
    return await withLake(lake, async (conn) => {
      await removeUncommittedFiles(conn, lake, cacheName);
      await conn.run('BEGIN TRANSACTION');
      try {
        await conn.run(
          `CREATE OR REPLACE TABLE ${table} (${cols.map((c) => `${quoteDuckDbIdent(c.name)} ${c.duckdbType}`).join(', ')})`,
        );
        if (files.length) {
          await conn.run(`INSERT INTO ${table} ${typedSelect(cols, 'parquet', readParquetSource(files))}`);
        }
        const n = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]?.[0] ?? 0);
        if (n !== expectedRows) {
          throw floeError(
            NonRetryable.VerificationFailed,
            `cache ${cacheName}: loaded ${n} rows but Snowflake unloaded ${expectedRows}; previous rows kept`,
          );
        }
        await conn.run('COMMIT');
        // A concurrent commit of another cache may land in between: the snapshot read is then a later one,
        // which holds this cache's rows just the same (refreshes of one cache are serialized).
        return { rows: n, snapshotId: await currentSnapshot(conn, lake) };
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        if (err instanceof Error) err.message = scrubSecret(err.message, lake);
        throw err;
      }
    });
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(hashtext('floe-cache:' || $1))`, [cacheName]).catch(() => undefined);
    lock.release();
  }
}

/** Drop a cache's DuckLake table (idempotent). */
export async function dropFromLake(lake: LakeSettings, cacheName: string): Promise<void> {
  await withLake(lake, (conn) =>
    conn.run(`DROP TABLE IF EXISTS ${cacheTableName(lake, cacheName)}`).then(() => undefined),
  );
}
