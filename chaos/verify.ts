/**
 * Verification shared by the scenarios: rows compared cell by cell against the source (lost,
 * duplicated, wrong cells), and leftovers found by comparing what exists after a trial with what
 * existed before it (files on floe's Snowflake stage, local temporary files).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChaosStack } from './stack.js';
import { CHAOS_DATABASE } from './stack.js';

/** One row, by column name (any case: names are compared lower-cased). */
export type Row = Record<string, unknown>;

/** What a trial's verification found. */
export interface Verification {
  /** Source rows (by key) missing from the target. */
  rowsLost: number;
  /** Target rows beyond one per source key: repeated keys plus keys the source does not have. */
  rowsDuplicated: number;
  /** Cells of matching keys whose values differ. */
  cellsWrong: number;
  /** Everything left behind, one line each (a stage file, a temporary file, a staging table, a lease). */
  leftovers: string[];
  /** Job state that does not match the data (a stored high-water mark or position, a row count). */
  stateWrong: string[];
  /** Runs that failed and were followed by another run (rerun or next scheduled run) before success. */
  failedRuns: number;
  /** Details for the report of a failed trial (first differences, counts). */
  notes: string[];
}

/** A verification that found nothing yet (to add findings to). */
export function cleanVerification(): Verification {
  return { rowsLost: 0, rowsDuplicated: 0, cellsWrong: 0, stateWrong: [], leftovers: [], failedRuns: 0, notes: [] };
}

function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s;
}

function sameCell(a: unknown, b: unknown): boolean {
  const x = cell(a);
  const y = cell(b);
  if (x === null || y === null) return x === y;
  if (x === y) return true;
  // Numbers print differently per engine (12.3 vs "12.30", 1 vs "1"): compare them as numbers.
  const nx = Number(x);
  const ny = Number(y);
  if (x.trim() !== '' && y.trim() !== '' && Number.isFinite(nx) && Number.isFinite(ny)) return nx === ny;
  // So do timestamps (ISO from a Date, Snowflake's `2024-01-01 00:00:01.000 +0000`): compare the instants.
  const tx = Date.parse(x);
  const ty = Date.parse(y);
  return Number.isFinite(tx) && Number.isFinite(ty) && tx === ty;
}

function lower(row: Row): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Compares `target` with `source` on every column of the source, matching rows on `key` (a column
 * name). Extra target columns are ignored (e.g. a soft-delete flag).
 */
export function compareRows(
  source: Row[],
  target: Row[],
  key: string,
): Pick<Verification, 'rowsLost' | 'rowsDuplicated' | 'cellsWrong' | 'notes'> {
  const k = key.toLowerCase();
  const want = new Map(source.map((r) => [cell(lower(r)[k]), lower(r)]));
  const seen = new Map<string | null, number>();
  let cellsWrong = 0;
  let rowsDuplicated = 0;
  const notes: string[] = [];
  for (const raw of target) {
    const row = lower(raw);
    const id = cell(row[k]);
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    const src = want.get(id);
    if (!src || n > 1) {
      rowsDuplicated++;
      if (notes.length < 5) notes.push(`${src ? 'duplicate' : 'unknown'} row ${k}=${id}`);
      continue;
    }
    for (const [col, v] of Object.entries(src)) {
      if (!sameCell(v, row[col])) {
        cellsWrong++;
        if (notes.length < 5) notes.push(`${k}=${id} ${col}: source ${cell(v)}, target ${cell(row[col])}`);
      }
    }
  }
  let rowsLost = 0;
  for (const id of want.keys())
    if (!seen.has(id)) {
      rowsLost++;
      if (notes.length < 5) notes.push(`lost row ${k}=${id}`);
    }
  return { rowsLost, rowsDuplicated, cellsWrong, notes };
}

/** The stage floe uses for unloads (table sync, cache refresh): `<SNOWFLAKE_DATABASE>.<SNOWFLAKE_SCHEMA>.FLOE_STAGE`. */
export const FLOE_STAGE = `${CHAOS_DATABASE}.FLOE.FLOE_STAGE`;

/**
 * Parquet files under the DuckLake data path that the DuckLake catalog (in PostgreSQL, schema
 * `floe_ducklake`) does not list as a data file, a delete file or a file scheduled for deletion: files
 * written by a refresh that never committed.
 */
async function unlistedLakeFiles(stack: ChaosStack): Promise<string[]> {
  const dataPath = path.join(stack.stateDir, 'ducklake');
  if (!fs.existsSync(dataPath)) return [];
  const listed = new Set<string>();
  for (const table of ['ducklake_data_file', 'ducklake_delete_file', 'ducklake_files_scheduled_for_deletion']) {
    const { rows } = await stack.pool
      .query<{ path: string }>(`SELECT path FROM floe_ducklake.${table}`)
      .catch(() => ({ rows: [] as { path: string }[] }));
    for (const r of rows) listed.add(path.basename(r.path));
  }
  return fs
    .readdirSync(dataPath, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !listed.has(e.name))
    .map((e) => `DuckLake file not in the catalog ${path.join(e.parentPath, e.name)}`);
}

/** Files on floe's stage, under its temporary directory and unlisted in the DuckLake data path now. */
export async function leftoverCandidates(stack: ChaosStack): Promise<Set<string>> {
  const found = new Set<string>();
  try {
    for (const r of await stack.snowflake.query<{ name: string }>(`LIST @${FLOE_STAGE}`))
      found.add(`stage file ${r.name}`);
  } catch (err) {
    // The stage exists once a job has used it.
    if (!/does not exist/i.test((err as Error).message)) throw err;
  }
  const tmp = path.join(stack.stateDir, 'tmp');
  if (fs.existsSync(tmp))
    for (const entry of fs.readdirSync(tmp, { recursive: true, withFileTypes: true }))
      if (!entry.isDirectory()) found.add(`temporary file ${path.join(entry.parentPath, entry.name)}`);
  for (const f of await unlistedLakeFiles(stack)) found.add(f);
  return found;
}

/** What `after` has that `before` had not. */
export function added(before: Set<string>, after: Set<string>): string[] {
  return [...after].filter((x) => !before.has(x));
}
