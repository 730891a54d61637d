/**
 * Snowflake internal stages, as floe uses them to move query results out of Snowflake: create the
 * stage, unload a SELECT to a stage path as Parquet (COPY INTO <location>), LIST it, GET its files to
 * a local directory and REMOVE it. Every statement follows the Snowflake documentation of CREATE
 * STAGE, COPY INTO <location>, LIST, GET and REMOVE; stage paths come from `snowflakeStagePath`
 * (src/sql/quote.ts), which quotes the stage name and admits only `[A-Za-z0-9._-]` path segments.
 *
 * The functions take an open {@link SnowflakeSession}; credentials stay in the session factory.
 * All are idempotent except {@link unloadToStage}, which overwrites the files under its path
 * (OVERWRITE = TRUE), so re-running it after a failure leaves the same files.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SnowflakeSession } from './snowflake.js';
import { quoteSnowflakeName, snowflakeLiteral } from '../sql/quote.js';

/** Default size of each unloaded file: 64 MiB (Snowflake's MAX_FILE_SIZE, bytes). */
export const DEFAULT_UNLOAD_FILE_BYTES = 64 * 1024 * 1024;

/** Default number of threads GET downloads with (Snowflake's PARALLEL, 1–99). */
export const DEFAULT_GET_PARALLEL = 8;

/**
 * A stage path segment (and local directory name) for a job id: the id with every character outside
 * `[A-Za-z0-9._-]` replaced by `_`, cut to 80 characters, plus `-` and 8 hex digits of the id's SHA-1
 * when anything was changed, so two ids never share a segment.
 */
export function jobSegment(jobId: string): string {
  const safe = jobId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  return safe === jobId ? safe : `${safe}-${createHash('sha1').update(jobId).digest('hex').slice(0, 8)}`;
}

/** `CREATE STAGE IF NOT EXISTS "DB"."S"."NAME"` (an internal named stage); `stage` is [database, schema, name]. */
export function createStageSql(stage: readonly string[]): string {
  return `CREATE STAGE IF NOT EXISTS ${quoteSnowflakeName(...stage)}`;
}

/**
 * Unload `select` to Parquet under a stage path. HEADER=TRUE keeps column names in the files
 * (Snowflake docs, COPY INTO <location>: without it Parquet columns are named _COL_0, ...).
 * `maxFileSize` is in bytes.
 */
export function unloadSql(stagePath: string, select: string, maxFileSize: number): string {
  return `COPY INTO ${stagePath} FROM (${select}) FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE OVERWRITE = TRUE MAX_FILE_SIZE = ${Math.floor(maxFileSize)}`;
}

/** `LIST @stage/path/`. */
export function listSql(stagePath: string): string {
  return `LIST ${stagePath}`;
}

/** `GET @stage/path/ 'file:///local/dir/' PARALLEL = n` (the local dir must exist and be absolute; n clamped to 1–99). */
export function getSql(stagePath: string, localDir: string, parallel: number): string {
  const dir = localDir.endsWith('/') ? localDir : `${localDir}/`;
  return `GET ${stagePath} ${snowflakeLiteral(`file://${dir}`)} PARALLEL = ${Math.max(1, Math.min(99, Math.floor(parallel)))}`;
}

/** `REMOVE @stage/path/`. */
export function removeSql(stagePath: string): string {
  return `REMOVE ${stagePath}`;
}

/** Create the internal stage `[database, schema, name]` if it does not exist. */
export async function createStage(sf: SnowflakeSession, stage: readonly string[]): Promise<void> {
  await sf.query(createStageSql(stage));
}

/** Outcome of COPY INTO <location>: rows unloaded and bytes written (Parquet, compressed). */
export interface UnloadOutcome {
  rowsUnloaded: number;
  outputBytes: number;
}

/**
 * Unload `select` to `stagePath` as Parquet files of at most `maxFileSizeBytes` each. Sums the result
 * rows: Snowflake returns one row in total, or one per file with DETAILED_OUTPUT, each with
 * rows_unloaded, input_bytes and output_bytes. Throws the driver's error on SQL failures.
 */
export async function unloadToStage(
  sf: SnowflakeSession,
  stagePath: string,
  select: string,
  maxFileSizeBytes = DEFAULT_UNLOAD_FILE_BYTES,
): Promise<UnloadOutcome> {
  const rows = await sf.query(unloadSql(stagePath, select, maxFileSizeBytes));
  let rowsUnloaded = 0;
  let outputBytes = 0;
  for (const r of rows) {
    const get = (k: string) => Number(r[k] ?? r[k.toUpperCase()] ?? 0);
    rowsUnloaded += get('rows_unloaded');
    outputBytes += get('output_bytes');
  }
  return { rowsUnloaded, outputBytes };
}

/** A file on a stage, as LIST reports it: name (with the stage's own prefix) and size in bytes. */
export interface StageFile {
  name: string;
  size: number;
}

/** Files under a stage path (LIST). */
export async function listStage(sf: SnowflakeSession, stagePath: string): Promise<StageFile[]> {
  const rows = await sf.query(listSql(stagePath));
  return rows.map((r) => ({ name: String(r.name ?? r.NAME), size: Number(r.size ?? r.SIZE ?? 0) }));
}

/**
 * Download the files under `stagePath` into `localDir` (absolute; emptied and created first) with GET
 * ... PARALLEL = `parallel`. Returns the absolute paths of the downloaded files, sorted (hidden files,
 * such as the driver's temporaries, left out). Callers that know the path holds no file (an unload of
 * no rows) skip it: floe does not LIST a path it has just unloaded to, since COPY INTO's output_bytes
 * already gives the files' size and GET fetches whatever is there. Throws the driver's error when GET
 * fails; the caller removes `localDir` when done.
 */
export async function getFromStage(
  sf: SnowflakeSession,
  stagePath: string,
  localDir: string,
  parallel = DEFAULT_GET_PARALLEL,
): Promise<string[]> {
  await rm(localDir, { recursive: true, force: true });
  await mkdir(localDir, { recursive: true });
  await sf.query(getSql(stagePath, localDir, parallel));
  return (await readdir(localDir))
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => path.join(localDir, f));
}

/** REMOVE every file under `stagePath` (nothing there is not an error). */
export async function removeFromStage(sf: SnowflakeSession, stagePath: string): Promise<void> {
  await sf.query(removeSql(stagePath));
}
