/**
 * Snowflake → DuckDB type mapping from `INFORMATION_SCHEMA.COLUMNS` rows.
 *
 * Decisions (each pinned by test/typemap.test.ts):
 * - NUMBER(p,0), p ≤ 18 → BIGINT (10^18−1 < 2^63).
 * - NUMBER(p,0), 18 < p ≤ 38 → DECIMAL(p,0), not HUGEINT: it keeps the declared precision (a
 *   round-trip back to Snowflake or PostgreSQL recreates NUMBER(p,0)/NUMERIC(p,0)), DuckDB stores it in
 *   a 128-bit integer anyway, and Snowflake unloads it to Parquet as DECIMAL(p,0), so the load is a
 *   no-op cast. Never DOUBLE (the seed's NUMBER → DOUBLE loses digits above 2^53).
 * - NUMBER(p,s), s > 0 → DECIMAL(p,s). NUMBER without precision (Snowflake reports 38,0) → DECIMAL(38,0).
 * - FLOAT/DOUBLE/REAL → DOUBLE; TEXT/VARCHAR/CHAR/STRING → VARCHAR; BINARY/VARBINARY → BLOB.
 * - TIMESTAMP_NTZ → TIMESTAMP (microseconds). DuckDB's TIMESTAMP_NS is an int64 of nanoseconds and only
 *   spans 1677-09-21 … 2262-04-11, while Snowflake allows years 0001–9999; so sub-microsecond digits are
 *   truncated rather than refusing extreme dates (verified: `'0001-01-01'::TIMESTAMP_NS` is a
 *   Conversion Error in DuckDB 1.5).
 * - TIMESTAMP_LTZ/TZ → TIMESTAMPTZ: the instant is kept (the offset is not; DuckDB has no per-value
 *   offset). The unload converts to UTC NTZ first because Snowflake refuses to unload TZ/LTZ to
 *   Parquet, and the load turns those UTC microseconds back into TIMESTAMPTZ.
 * - VARIANT/OBJECT/ARRAY → JSON (unloaded as JSON text with TO_JSON so nothing is re-parsed lossily).
 * - GEOGRAPHY/GEOMETRY/VECTOR (and anything unknown) → {@link UnsupportedTypeError}, non-retryable.
 */
import { duckDbLiteral, quoteDuckDbIdent, quoteSnowflakeIdent } from './quote.js';

/** One `INFORMATION_SCHEMA.COLUMNS` row as snowflake-sdk returns it (numbers fetched as strings). */
export interface SnowflakeColumnRow {
  COLUMN_NAME: string;
  DATA_TYPE: string;
  NUMERIC_PRECISION?: string | number | null;
  NUMERIC_SCALE?: string | number | null;
  CHARACTER_MAXIMUM_LENGTH?: string | number | null;
  DATETIME_PRECISION?: string | number | null;
  IS_NULLABLE?: string | null;
  ORDINAL_POSITION?: string | number | null;
}

/** Normalised Snowflake type family of a column. */
export type SnowflakeFamily =
  | 'NUMBER'
  | 'FLOAT'
  | 'TEXT'
  | 'BINARY'
  | 'BOOLEAN'
  | 'DATE'
  | 'TIME'
  | 'TIMESTAMP_NTZ'
  | 'TIMESTAMP_LTZ'
  | 'TIMESTAMP_TZ'
  | 'VARIANT'
  | 'OBJECT'
  | 'ARRAY';

/** How one source column is unloaded, streamed and loaded. */
export interface ColumnPlan {
  /** Column name exactly as Snowflake stores it (also the DuckDB column name). */
  name: string;
  family: SnowflakeFamily;
  /** Declared Snowflake type, e.g. `NUMBER(38,0)`, for messages. */
  sourceType: string;
  /** DuckDB column type, e.g. `DECIMAL(38,0)`, `BIGINT`, `TIMESTAMPTZ`. */
  duckdbType: string;
  nullable: boolean;
}

/** Thrown for GEOGRAPHY/GEOMETRY/VECTOR or unknown types; names table and column. Non-retryable. */
export class UnsupportedTypeError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly sourceType: string,
  ) {
    super(`column ${column} of ${table} has type ${sourceType}, which floe cannot sync to DuckDB yet`);
    this.name = 'UnsupportedType';
  }
}

const ALIASES: Record<string, SnowflakeFamily> = {
  NUMBER: 'NUMBER',
  DECIMAL: 'NUMBER',
  NUMERIC: 'NUMBER',
  INT: 'NUMBER',
  INTEGER: 'NUMBER',
  BIGINT: 'NUMBER',
  SMALLINT: 'NUMBER',
  TINYINT: 'NUMBER',
  BYTEINT: 'NUMBER',
  FIXED: 'NUMBER',
  FLOAT: 'FLOAT',
  FLOAT4: 'FLOAT',
  FLOAT8: 'FLOAT',
  DOUBLE: 'FLOAT',
  'DOUBLE PRECISION': 'FLOAT',
  REAL: 'FLOAT',
  TEXT: 'TEXT',
  VARCHAR: 'TEXT',
  CHAR: 'TEXT',
  CHARACTER: 'TEXT',
  STRING: 'TEXT',
  NCHAR: 'TEXT',
  NVARCHAR: 'TEXT',
  BINARY: 'BINARY',
  VARBINARY: 'BINARY',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  TIME: 'TIME',
  TIMESTAMP_NTZ: 'TIMESTAMP_NTZ',
  DATETIME: 'TIMESTAMP_NTZ',
  TIMESTAMP: 'TIMESTAMP_NTZ',
  TIMESTAMPNTZ: 'TIMESTAMP_NTZ',
  'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP_NTZ',
  TIMESTAMP_LTZ: 'TIMESTAMP_LTZ',
  TIMESTAMPLTZ: 'TIMESTAMP_LTZ',
  'TIMESTAMP WITH LOCAL TIME ZONE': 'TIMESTAMP_LTZ',
  TIMESTAMP_TZ: 'TIMESTAMP_TZ',
  TIMESTAMPTZ: 'TIMESTAMP_TZ',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMP_TZ',
  VARIANT: 'VARIANT',
  OBJECT: 'OBJECT',
  ARRAY: 'ARRAY',
};

function num(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Map one column. `table` (qualified, for messages) is the table the column belongs to.
 * Throws {@link UnsupportedTypeError} for GEOGRAPHY, GEOMETRY, VECTOR and unknown types.
 */
export function mapColumn(table: string, row: SnowflakeColumnRow): ColumnPlan {
  const raw = String(row.DATA_TYPE ?? '')
    .trim()
    .toUpperCase();
  const base = raw.replace(/\s*\(.*$/, '');
  const family = ALIASES[base];
  const nullable = String(row.IS_NULLABLE ?? 'YES').toUpperCase() !== 'NO';
  if (!family) throw new UnsupportedTypeError(table, row.COLUMN_NAME, raw || 'UNKNOWN');
  let duckdbType: string;
  let sourceType: string = family;
  switch (family) {
    case 'NUMBER': {
      const p = num(row.NUMERIC_PRECISION) ?? 38;
      const s = num(row.NUMERIC_SCALE) ?? 0;
      if (p < 1 || p > 38 || s < 0 || s > p)
        throw new UnsupportedTypeError(table, row.COLUMN_NAME, `NUMBER(${p},${s})`);
      sourceType = `NUMBER(${p},${s})`;
      duckdbType = s === 0 ? (p <= 18 ? 'BIGINT' : `DECIMAL(${p},0)`) : `DECIMAL(${p},${s})`;
      break;
    }
    case 'FLOAT':
      duckdbType = 'DOUBLE';
      break;
    case 'TEXT':
      duckdbType = 'VARCHAR';
      break;
    case 'BINARY':
      duckdbType = 'BLOB';
      break;
    case 'BOOLEAN':
      duckdbType = 'BOOLEAN';
      break;
    case 'DATE':
      duckdbType = 'DATE';
      break;
    case 'TIME':
      duckdbType = 'TIME';
      break;
    case 'TIMESTAMP_NTZ':
      duckdbType = 'TIMESTAMP';
      break;
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      duckdbType = 'TIMESTAMPTZ';
      break;
    case 'VARIANT':
    case 'OBJECT':
    case 'ARRAY':
      duckdbType = 'JSON';
      break;
  }
  return { name: row.COLUMN_NAME, family, sourceType, duckdbType, nullable };
}

/** Map all columns, in `ORDINAL_POSITION` order. Throws {@link UnsupportedTypeError} on the first bad column. */
export function mapColumns(table: string, rows: readonly SnowflakeColumnRow[]): ColumnPlan[] {
  const sorted = [...rows].sort((a, b) => (num(a.ORDINAL_POSITION) ?? 0) - (num(b.ORDINAL_POSITION) ?? 0));
  return sorted.map((r) => mapColumn(table, r));
}

/**
 * Snowflake SELECT-list expression that unloads the column to Parquet without losing it:
 * TZ/LTZ become UTC TIMESTAMP_NTZ (`CONVERT_TIMEZONE('UTC', c)::TIMESTAMP_NTZ`, Snowflake docs
 * "CONVERT_TIMEZONE": the two-argument form returns the instant in the target zone), semi-structured
 * values become their JSON text (`TO_JSON`). Aliased to the column's own name.
 */
export function unloadExpr(col: ColumnPlan): string {
  const q = quoteSnowflakeIdent(col.name);
  switch (col.family) {
    case 'TIMESTAMP_TZ':
    case 'TIMESTAMP_LTZ':
      return `CONVERT_TIMEZONE('UTC', ${q})::TIMESTAMP_NTZ AS ${q}`;
    case 'VARIANT':
    case 'OBJECT':
    case 'ARRAY':
      return `TO_JSON(${q}) AS ${q}`;
    default:
      return q;
  }
}

/**
 * DuckDB expression turning a loaded value into the target type. `from` says what the value is:
 * `parquet` (a column of the unloaded files, typed by Parquet) or `text` (the stream method's VARCHAR
 * landing column: the driver's text, see src/sql/values.ts). TZ/LTZ arrive as UTC wall-clock timestamps
 * and become TIMESTAMPTZ through epoch microseconds (independent of the session time zone); DuckDB's
 * casts of text to TIME/TIMESTAMP keep microseconds and drop further fraction digits. Text bound for
 * a wide DECIMAL goes through {@link wideDecimalFromText}.
 */
export function loadExpr(
  col: ColumnPlan,
  from: 'parquet' | 'text',
  source: string = quoteDuckDbIdent(col.name),
): string {
  switch (col.family) {
    case 'TIMESTAMP_TZ':
    case 'TIMESTAMP_LTZ':
      return `make_timestamptz(epoch_us(CAST(${source} AS TIMESTAMP)))`;
    case 'BINARY':
      return from === 'text' ? `unhex(${source})` : `CAST(${source} AS BLOB)`;
    default: {
      const wide = from === 'text' ? decimalParts(col.duckdbType) : null;
      return wide && wide[0] > MAX_NARROW_DECIMAL_WIDTH && wide[1] <= MAX_NARROW_DECIMAL_WIDTH
        ? wideDecimalFromText(source, wide[0], wide[1])
        : `CAST(${source} AS ${col.duckdbType})`;
    }
  }
}

/** Widest DECIMAL that DuckDB stores in a 64-bit integer (wider ones are 128-bit, DuckDB docs "Numeric Types"). */
const MAX_NARROW_DECIMAL_WIDTH = 18;

/**
 * DuckDB expression for `CAST(source AS DECIMAL(p,s))` of decimal text, p > 18, with the same values
 * and the same errors, without DuckDB's slow path: its VARCHAR → 128-bit DECIMAL cast does 128-bit
 * arithmetic per digit and costs about 100× the VARCHAR → HUGEINT or VARCHAR → DECIMAL(18,s) casts
 * (measured on DuckDB 1.5: 300,000 six-digit keys, 2.6 s against 0.02 s; a stream sync of LINEITEM spent
 * half its CPU there). Scale 0 parses as HUGEINT (every 38-digit integer fits; a wider value fails
 * the HUGEINT → DECIMAL(p,0) cast as it fails the plain one). Scale s > 0 parses as DECIMAL(18,s) when
 * the value fits (TRY_CAST; the same parser rounds extra fraction digits the same way) and falls back
 * to the plain cast for the rest, which COALESCE evaluates only for the rows still NULL. Needs
 * s ≤ 18 (DECIMAL(18,s) must exist).
 */
export function wideDecimalFromText(source: string, precision: number, scale: number): string {
  const target = `DECIMAL(${precision},${scale})`;
  if (scale === 0) return `CAST(CAST(${source} AS HUGEINT) AS ${target})`;
  return `COALESCE(CAST(TRY_CAST(${source} AS DECIMAL(${MAX_NARROW_DECIMAL_WIDTH},${scale})) AS ${target}), CAST(${source} AS ${target}))`;
}

/** Canonical DuckDB type text as `duckdb_columns().data_type` reports it, for schema comparison. */
export function canonicalDuckDbType(t: string): string {
  const u = t.trim().toUpperCase().replace(/\s+/g, ' ');
  if (u === 'TIMESTAMPTZ') return 'TIMESTAMP WITH TIME ZONE';
  if (u === 'INT8' || u === 'LONG') return 'BIGINT';
  if (u === 'FLOAT8') return 'DOUBLE';
  if (u === 'TEXT' || u === 'STRING') return 'VARCHAR';
  return u.replace(/\s*,\s*/g, ',');
}

/** One column of an existing DuckDB target. */
export interface ExistingColumn {
  name: string;
  /** Type as `duckdb_columns().data_type` reports it. */
  type: string;
}

/** What must change on an existing target so it can take the source's columns. */
export interface SchemaEvolution {
  /** Source columns missing from the target: `ALTER TABLE ... ADD COLUMN`. */
  add: ColumnPlan[];
  /** Safe widenings (BIGINT → DECIMAL(p,0), DECIMAL(p1,s) → DECIMAL(p2,s) with p2 > p1). */
  widen: ColumnPlan[];
  /** Incompatible changes, as human-readable lines; non-empty → SchemaMismatch. */
  conflicts: string[];
}

function decimalParts(t: string): [number, number] | null {
  if (t === 'BIGINT') return [18, 0];
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(t);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Compare a target's columns with the planned ones. Target-only columns are kept (incremental rows
 * leave them NULL). Incompatible type changes are reported in `conflicts`, never applied.
 */
export function planEvolution(existing: readonly ExistingColumn[], planned: readonly ColumnPlan[]): SchemaEvolution {
  const byName = new Map(existing.map((c) => [c.name, canonicalDuckDbType(c.type)]));
  const out: SchemaEvolution = { add: [], widen: [], conflicts: [] };
  for (const col of planned) {
    const have = byName.get(col.name);
    const want = canonicalDuckDbType(col.duckdbType);
    if (have === undefined) out.add.push(col);
    else if (have !== want) {
      const a = decimalParts(have);
      const b = decimalParts(want);
      if (a && b && b[1] === a[1] && b[0] >= a[0]) out.widen.push(col);
      else out.conflicts.push(`${col.name}: target has ${have}, source ${col.sourceType} needs ${want}`);
    }
  }
  return out;
}

/** `read_parquet([...files])` over absolute local paths. */
export function readParquetSource(files: readonly string[]): string {
  return `read_parquet([${files.map(duckDbLiteral).join(', ')}])`;
}

/** SELECT of typed target columns from a source relation (`read_parquet(...)` or a landing table). */
export function typedSelect(cols: readonly ColumnPlan[], from: 'parquet' | 'text', relation: string): string {
  return `SELECT ${cols.map((c) => `${loadExpr(c, from)} AS ${quoteDuckDbIdent(c.name)}`).join(', ')} FROM ${relation}`;
}
