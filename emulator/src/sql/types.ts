/**
 * Snowflake data types and how the emulator stores them in DuckDB.
 *
 * | Snowflake | DuckDB |
 * |---|---|
 * | NUMBER, INT, INTEGER, BIGINT, SMALLINT, TINYINT, BYTEINT (= NUMBER(38,0)) | DECIMAL(38,0) (38 digits, not int64) |
 * | NUMBER(p,s), DECIMAL(p,s), NUMERIC(p,s) | DECIMAL(p,s) |
 * | FLOAT, FLOAT4, FLOAT8, DOUBLE [PRECISION], REAL | DOUBLE |
 * | VARCHAR(n), STRING, TEXT, CHAR(n), CHARACTER, NCHAR, NVARCHAR | VARCHAR (declared length kept in the emulator catalog, default 16777216) |
 * | BINARY, VARBINARY | BLOB |
 * | BOOLEAN, DATE, TIME | BOOLEAN, DATE, TIME |
 * | TIMESTAMP_NTZ, DATETIME, TIMESTAMP | TIMESTAMP (microseconds; Snowflake keeps nanoseconds, the 3 extra digits are lost) |
 * | TIMESTAMP_LTZ | TIMESTAMPTZ (DuckDB session TimeZone is UTC, like the emulator's TIMEZONE parameter) |
 * | TIMESTAMP_TZ | STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT): the instant plus the offset it was written with |
 * | VARIANT, OBJECT, ARRAY | JSON |
 *
 * GEOGRAPHY, GEOMETRY and VECTOR are refused (unsupported feature 002040).
 */
import { SfErrors } from '../errors.js';
import type { Token } from './tokenizer.js';

/** The DuckDB type that stores a Snowflake TIMESTAMP_TZ (recognised structurally by the encoder). */
export const TSTZ_DUCKDB = 'STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT)';

/** Default VARCHAR length, as Snowflake reports it. */
export const MAX_VARCHAR = 16777216;
/** Default BINARY length. */
export const MAX_BINARY = 8388608;

/** A parsed Snowflake type: its canonical Snowflake spelling and its DuckDB storage type. */
export interface ParsedType {
  /** Canonical Snowflake type, e.g. `NUMBER(38,0)`, `VARCHAR(100)`, `TIMESTAMP_TZ(9)`, `OBJECT`. */
  snowflake: string;
  duckdb: string;
  /** Index of the first token after the type. */
  next: number;
}

const INT_NAMES = ['INT', 'INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'BYTEINT'];
const NUM_NAMES = ['NUMBER', 'DECIMAL', 'NUMERIC', 'DEC'];
const FLOAT_NAMES = ['FLOAT', 'FLOAT4', 'FLOAT8', 'DOUBLE', 'REAL'];
const TEXT_NAMES = [
  'VARCHAR',
  'STRING',
  'TEXT',
  'CHAR',
  'CHARACTER',
  'NCHAR',
  'NVARCHAR',
  'NVARCHAR2',
  'CHAR_VARYING',
  'NCHAR_VARYING',
];

/**
 * Parses a Snowflake type starting at `tokens[i]` (significant tokens only).
 * Throws 002040 for types the emulator cannot store, 001003 for a malformed type.
 */
export function parseType(tokens: Token[], i: number): ParsedType {
  const t = tokens[i];
  if (!t || (t.kind !== 'word' && t.kind !== 'qident')) throw SfErrors.syntax(`unexpected '${t?.text ?? '<EOF>'}'.`);
  let name = t.text.toUpperCase();
  let next = i + 1;
  // Multi-word spellings.
  if (name === 'DOUBLE' && tokens[next]?.text.toUpperCase() === 'PRECISION') next++;
  if ((name === 'CHARACTER' || name === 'CHAR' || name === 'NCHAR') && tokens[next]?.text.toUpperCase() === 'VARYING') {
    next++;
    name = 'VARCHAR';
  }
  const args: number[] = [];
  if (tokens[next]?.text === '(') {
    next++;
    while (tokens[next] && tokens[next].text !== ')') {
      if (tokens[next].kind === 'number') args.push(Number(tokens[next].text));
      else if (tokens[next].text !== ',') throw SfErrors.syntax(`unexpected '${tokens[next].text}'.`);
      next++;
    }
    next++;
  }
  const done = (snowflake: string, duckdb: string): ParsedType => ({ snowflake, duckdb, next });
  if (INT_NAMES.includes(name)) return done('NUMBER(38,0)', 'DECIMAL(38,0)');
  if (NUM_NAMES.includes(name)) {
    const p = args[0] ?? 38;
    const s = args[1] ?? 0;
    if (p < 1 || p > 38 || s < 0 || s > p) throw SfErrors.syntax(`invalid precision/scale (${p},${s}) for ${name}.`);
    return done(`NUMBER(${p},${s})`, `DECIMAL(${p},${s})`);
  }
  if (FLOAT_NAMES.includes(name)) return done('FLOAT', 'DOUBLE');
  if (TEXT_NAMES.includes(name)) {
    const isChar = (name === 'CHAR' || name === 'CHARACTER' || name === 'NCHAR') && args.length === 0;
    const len = args[0] ?? (isChar ? 1 : MAX_VARCHAR);
    return done(`VARCHAR(${len})`, 'VARCHAR');
  }
  if (name === 'BINARY' || name === 'VARBINARY') return done(`BINARY(${args[0] ?? MAX_BINARY})`, 'BLOB');
  if (name === 'BOOLEAN' || name === 'BOOL') return done('BOOLEAN', 'BOOLEAN');
  if (name === 'DATE') return done('DATE', 'DATE');
  if (name === 'TIME') return done(`TIME(${args[0] ?? 9})`, 'TIME');
  if (name === 'TIMESTAMP_NTZ' || name === 'DATETIME' || name === 'TIMESTAMP' || name === 'TIMESTAMPNTZ')
    return done(`TIMESTAMP_NTZ(${args[0] ?? 9})`, 'TIMESTAMP');
  if (name === 'TIMESTAMP_LTZ' || name === 'TIMESTAMPLTZ') return done(`TIMESTAMP_LTZ(${args[0] ?? 9})`, 'TIMESTAMPTZ');
  if (name === 'TIMESTAMP_TZ' || name === 'TIMESTAMPTZ') return done(`TIMESTAMP_TZ(${args[0] ?? 9})`, TSTZ_DUCKDB);
  if (name === 'VARIANT' || name === 'OBJECT' || name === 'ARRAY') return done(name, 'JSON');
  if (['GEOGRAPHY', 'GEOMETRY', 'VECTOR', 'FILE'].includes(name)) throw SfErrors.unsupported(`data type ${name}`);
  throw SfErrors.syntax(`unexpected '${t.text}'.`);
}

/**
 * The Snowflake type a DuckDB column type shows as when the emulator has no declared type for it
 * (CREATE TABLE AS SELECT, tables made outside the emulator).
 */
export function snowflakeTypeOfDuckdb(duckType: string): string {
  const u = duckType.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(u);
  if (dec) return `NUMBER(${dec[1]},${dec[2]})`;
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(u))
    return 'NUMBER(38,0)';
  if (u === 'DOUBLE' || u === 'FLOAT') return 'FLOAT';
  if (u === 'VARCHAR' || u === 'UUID') return `VARCHAR(${MAX_VARCHAR})`;
  if (u === 'BLOB') return `BINARY(${MAX_BINARY})`;
  if (u === 'BOOLEAN' || u === 'DATE') return u;
  if (u === 'TIME') return 'TIME(9)';
  if (u.startsWith('TIMESTAMP WITH TIME ZONE')) return 'TIMESTAMP_LTZ(9)';
  if (u.startsWith('TIMESTAMP')) return 'TIMESTAMP_NTZ(9)';
  if (u.startsWith('STRUCT(UTC TIMESTAMP WITH TIME ZONE, OFFSET_MINUTES SMALLINT)')) return 'TIMESTAMP_TZ(9)';
  if (u === 'JSON') return 'VARIANT';
  if (u.endsWith('[]') || u.startsWith('STRUCT') || u.startsWith('MAP')) return 'VARIANT';
  return `VARCHAR(${MAX_VARCHAR})`;
}

/** INFORMATION_SCHEMA.COLUMNS / DESC facts of a canonical Snowflake type. */
export function typeFacts(sfType: string): {
  dataType: string;
  precision: number | null;
  scale: number | null;
  charLength: number | null;
  byteLength: number | null;
  datetimePrecision: number | null;
} {
  const m = /^([A-Z_]+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(sfType);
  const base = m?.[1] ?? sfType;
  const a = m?.[2] !== undefined ? Number(m[2]) : null;
  const b = m?.[3] !== undefined ? Number(m[3]) : null;
  const none = { precision: null, scale: null, charLength: null, byteLength: null, datetimePrecision: null };
  switch (base) {
    case 'NUMBER':
      return { ...none, dataType: 'NUMBER', precision: a, scale: b };
    case 'VARCHAR':
      return { ...none, dataType: 'TEXT', charLength: a, byteLength: Math.min((a ?? MAX_VARCHAR) * 4, MAX_VARCHAR) };
    case 'BINARY':
      return { ...none, dataType: 'BINARY', charLength: a, byteLength: a };
    case 'TIME':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return { ...none, dataType: base, datetimePrecision: a ?? 9 };
    default:
      return { ...none, dataType: base };
  }
}
