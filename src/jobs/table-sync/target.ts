/**
 * Reading the table-sync target (the DuckDB file at DUCKDB_PATH) for `POST /sample_data` and the
 * table status route.
 *
 * Access goes through `withDuckDb` (src/connectors/duckdb.ts): when the API runs in the worker's
 * process it shares the worker's instance; when another process holds the file (a sync is writing
 * it), DuckDB refuses the lock and {@link TargetBusyError} is thrown (the API answers 409).
 *
 * JSON samples keep exact values: BIGINT/HUGEINT/DECIMAL as decimal strings, timestamps as ISO-8601
 * (TIMESTAMPTZ in UTC with `Z`; TIMESTAMP without zone), BLOB as hex. CSV and Parquet are written by
 * DuckDB's COPY to a temporary file that is removed afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { withDuckDb } from '../../connectors/duckdb.js';
import { duckDbLiteral, quoteDuckDbIdent, quoteDuckDbName } from '../../sql/quote.js';

/** The target file is locked by another process (a sync is writing it). */
export class TargetBusyError extends Error {
  constructor() {
    super('the DuckDB target is being written by another process (a sync is running); retry when it finishes');
    this.name = 'TargetBusyError';
  }
}

/** The target table does not exist in the DuckDB file (not synced yet). */
export class TargetTableMissingError extends Error {
  constructor(readonly target: string) {
    super(`table ${target} does not exist in the DuckDB target (has it been synced?)`);
    this.name = 'TargetTableMissingError';
  }
}

/** Schema and table of a sync target inside the DuckDB file. */
export interface TargetName {
  schema: string;
  table: string;
}

/** Where tableSync writes a registered table: its recorded target (`allowed_tables.target_schema/target_table`). */
export function targetNameOf(t: { target_schema: string; target_table: string }): TargetName {
  return { schema: t.target_schema, table: t.target_table };
}

const LOCK_RE = /Could not set lock on file|Conflicting lock is held/i;

async function withTarget<T>(duckdbPath: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  try {
    return await withDuckDb(duckdbPath, fn);
  } catch (err) {
    if (LOCK_RE.test(String((err as Error)?.message ?? ''))) throw new TargetBusyError();
    throw err;
  }
}

interface TargetColumn {
  name: string;
  type: string;
}

async function targetColumns(conn: DuckDBConnection, t: TargetName): Promise<TargetColumn[]> {
  const r = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [t.schema, t.table],
  );
  return r.getRowObjectsJson().map((row) => ({ name: String(row.column_name), type: String(row.data_type) }));
}

/** State of a target table: whether it exists and its row count (decimal string). */
export interface TargetState {
  exists: boolean;
  row_count: string | null;
  columns: number | null;
}

/**
 * Does the target table exist, and how many rows has it? Returns `exists:false` when the file or the
 * table is missing. Throws {@link TargetBusyError} when another process holds the file.
 */
export async function targetState(duckdbPath: string, t: TargetName): Promise<TargetState> {
  if (!existsSync(duckdbPath)) return { exists: false, row_count: null, columns: null };
  return withTarget(duckdbPath, async (conn) => {
    const cols = await targetColumns(conn, t);
    if (cols.length === 0) return { exists: false, row_count: null, columns: null };
    const r = await conn.runAndReadAll(`SELECT count(*)::VARCHAR AS n FROM ${quoteDuckDbName(t.schema, t.table)}`);
    return { exists: true, row_count: String(r.getRowObjectsJson()[0]?.n ?? '0'), columns: cols.length };
  });
}

/**
 * The target as the table status route reports it: path, `SCHEMA.TABLE`, and {@link targetState};
 * while another process writes the file, `busy: true` with unknown counts and the reason.
 */
export async function targetReport(duckdbPath: string, t: TargetName): Promise<Record<string, unknown>> {
  const base = { path: duckdbPath, table: `${t.schema}.${t.table}` };
  try {
    return { ...base, busy: false, ...(await targetState(duckdbPath, t)) };
  } catch (err) {
    if (!(err instanceof TargetBusyError)) throw err;
    return { ...base, busy: true, exists: null, row_count: null, message: err.message };
  }
}

/** What `POST /sample_data` asks for. */
export interface SampleRequest {
  type: 'first' | 'random';
  /** Rows, 1..10000 (validated by the route). */
  size: number;
  format: 'JSON' | 'CSV' | 'Parquet';
  /** Order of `first` rows (the registered primary key), so `first` is deterministic. */
  orderBy?: string[] | null;
}

/** A sample: JSON rows, or file bytes with their content type. */
export type SampleResult =
  | { format: 'JSON'; columns: TargetColumn[]; rows: Record<string, unknown>[] }
  | { format: 'CSV' | 'Parquet'; contentType: string; body: Buffer };

function isoTimestamp(v: unknown, type: string): unknown {
  if (typeof v !== 'string') return v;
  if (!/^\d{4,}-\d\d-\d\d \d/.test(v)) return v; // infinity, -infinity
  let s = v.replace(' ', 'T');
  if (type.includes('WITH TIME ZONE')) {
    s = s.replace(/([+-])(\d\d)(?::?(\d\d))?$/, (_m, sign: string, hh: string, mm?: string) =>
      hh === '00' && (mm ?? '00') === '00' ? 'Z' : `${sign}${hh}:${mm ?? '00'}`,
    );
  }
  return s;
}

/**
 * Read a sample of the target table in the requested format. Throws {@link TargetTableMissingError}
 * when the file or table is missing and {@link TargetBusyError} when another process holds the file.
 * `size` must already be validated (it is inlined as an integer literal).
 */
export async function sampleTarget(duckdbPath: string, t: TargetName, req: SampleRequest): Promise<SampleResult> {
  const qualified = quoteDuckDbName(t.schema, t.table);
  if (!existsSync(duckdbPath)) throw new TargetTableMissingError(qualified);
  const size = Math.trunc(req.size);
  if (!(size >= 1 && size <= 10_000)) throw new RangeError('sample size must be 1..10000');
  return withTarget(duckdbPath, async (conn) => {
    const cols = await targetColumns(conn, t);
    if (cols.length === 0) throw new TargetTableMissingError(qualified);
    const colNames = new Set(cols.map((c) => c.name));
    const projection = cols
      .map((c) =>
        req.format === 'JSON' && c.type === 'BLOB'
          ? `hex(${quoteDuckDbIdent(c.name)}) AS ${quoteDuckDbIdent(c.name)}`
          : quoteDuckDbIdent(c.name),
      )
      .join(', ');
    const order = (req.orderBy ?? []).filter((c) => colNames.has(c));
    const sql =
      req.type === 'random'
        ? `SELECT ${projection} FROM ${qualified} USING SAMPLE reservoir(${size} ROWS)`
        : `SELECT ${projection} FROM ${qualified}${order.length ? ` ORDER BY ${order.map(quoteDuckDbIdent).join(', ')}` : ''} LIMIT ${size}`;
    if (req.format === 'JSON') {
      const r = await conn.runAndReadAll(sql);
      const types = new Map(cols.map((c) => [c.name, c.type]));
      const rows = r.getRowObjectsJson().map((row) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) {
          const type = types.get(k) ?? '';
          out[k] = type.startsWith('TIMESTAMP') ? isoTimestamp(v, type) : v;
        }
        return out;
      });
      return { format: 'JSON', columns: cols, rows };
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-sample-'));
    const file = path.join(dir, req.format === 'CSV' ? 'sample.csv' : 'sample.parquet');
    try {
      const options = req.format === 'CSV' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet';
      await conn.run(`COPY (${sql}) TO ${duckDbLiteral(file)} (${options})`);
      const body = await readFile(file);
      return {
        format: req.format,
        contentType: req.format === 'CSV' ? 'text/csv; charset=utf-8' : 'application/vnd.apache.parquet',
        body,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
