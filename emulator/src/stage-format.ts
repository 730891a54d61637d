/**
 * File format options (`FILE_FORMAT = (TYPE = CSV ...)`) for stages and COPY, following Snowflake's
 * "Format type options" in CREATE FILE FORMAT. Only what the emulator can honour is accepted;
 * any other option, or a value it cannot reproduce, is refused with 002040 rather than ignored.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SfErrors } from './errors.js';
import type { OptionValue, Options } from './stage-lexer.js';
import type { FormatOptions } from './stage-store.js';

/** Options accepted inside FILE_FORMAT, per type. */
const CSV_KEYS = new Set([
  'TYPE',
  'COMPRESSION',
  'FIELD_DELIMITER',
  'RECORD_DELIMITER',
  'SKIP_HEADER',
  'FIELD_OPTIONALLY_ENCLOSED_BY',
  'NULL_IF',
  'EMPTY_FIELD_AS_NULL',
  'ESCAPE',
  'ESCAPE_UNENCLOSED_FIELD',
  'ERROR_ON_COLUMN_COUNT_MISMATCH',
  'TRIM_SPACE',
  'DATE_FORMAT',
  'TIME_FORMAT',
  'TIMESTAMP_FORMAT',
  'ENCODING',
  'SKIP_BLANK_LINES',
  'PARSE_HEADER',
]);
const PARQUET_KEYS = new Set([
  'TYPE',
  'COMPRESSION',
  'SNAPPY_COMPRESSION',
  'BINARY_AS_TEXT',
  'USE_LOGICAL_TYPE',
  'NULL_IF',
  'TRIM_SPACE',
  'USE_VECTORIZED_SCANNER',
]);
const JSON_KEYS = new Set([
  'TYPE',
  'COMPRESSION',
  'BINARY_FORMAT',
  'STRIP_OUTER_ARRAY',
  'NULL_IF',
  'TRIM_SPACE',
  'DATE_FORMAT',
  'TIME_FORMAT',
  'TIMESTAMP_FORMAT',
]);
const KEYS: Record<string, Set<string>> = { CSV: CSV_KEYS, PARQUET: PARQUET_KEYS, JSON: JSON_KEYS };

/** Turn a parsed `FILE_FORMAT = (...)` group into stored options. FORMAT_NAME (named file formats) is refused. */
export function formatOptionsFrom(value: OptionValue | undefined): FormatOptions {
  if (value === undefined) return {};
  if (value.kind !== 'group') throw SfErrors.unsupported('FILE_FORMAT = <named file format>');
  const out: FormatOptions = {};
  for (const [key, v] of value.options) {
    if (key === 'FORMAT_NAME') throw SfErrors.unsupported('FILE_FORMAT = (FORMAT_NAME = ...)');
    out[key] = v.kind === 'list' ? v.items : v.kind === 'scalar' ? v.text : '';
  }
  return out;
}

/**
 * Statement options over stage options, key by key (Snowflake's precedence: COPY statement, then
 * stage definition). A statement TYPE different from the stage's discards the stage's options.
 */
export function mergeFormats(statement: FormatOptions, stage: FormatOptions): FormatOptions {
  const st = typeOf(statement);
  if (statement.TYPE !== undefined && st !== typeOf(stage)) return statement;
  return { ...stage, ...statement };
}

function typeOf(f: FormatOptions): string {
  return scalar(f, 'TYPE')?.toUpperCase() ?? 'CSV';
}

function scalar(f: FormatOptions, key: string): string | undefined {
  const v = f[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

function bool(f: FormatOptions, key: string, dflt: boolean): boolean {
  const v = scalar(f, key);
  if (v === undefined) return dflt;
  const u = v.toUpperCase();
  if (u === 'TRUE') return true;
  if (u === 'FALSE') return false;
  throw SfErrors.syntax(`invalid value '${v}' for option ${key}.`);
}

/**
 * A character option: NONE (or an empty string) means "not set"; a single byte may also be written as a hex
 * value (`0x22`, `\x22`) or an octal one (`\042`), as Snowflake's format type options accept.
 */
function charOption(f: FormatOptions, key: string, dflt: string | null): string | null {
  const v = scalar(f, key);
  if (v === undefined) return dflt;
  if (v === '' || v.toUpperCase() === 'NONE') return null;
  const hex = /^(?:0x|\\x)([0-9a-f]{2})$/i.exec(v);
  if (hex) return String.fromCharCode(parseInt(hex[1], 16));
  const octal = /^\\([0-7]{3})$/.exec(v);
  return octal ? String.fromCharCode(parseInt(octal[1], 8)) : v;
}

function requireDefault(f: FormatOptions, key: string, allowed: string[]): void {
  const v = scalar(f, key);
  if (v !== undefined && !allowed.includes(v.toUpperCase())) throw SfErrors.unsupported(`${key} = '${v}'`);
}

/** A CSV format as the emulator applies it. */
export interface CsvFormat {
  type: 'CSV';
  /** Upper-case COMPRESSION: AUTO (GZIP on unload, detect on load), GZIP, ZSTD or NONE. */
  compression: 'AUTO' | 'GZIP' | 'ZSTD' | 'NONE';
  fieldDelimiter: string;
  skipHeader: number;
  /** FIELD_OPTIONALLY_ENCLOSED_BY; null when NONE (Snowflake's default). */
  enclosedBy: string | null;
  /** NULL_IF strings; on unload the first one is written for NULL (default `\N`). */
  nullIf: string[];
  errorOnColumnCountMismatch: boolean;
  trimSpace: boolean;
}

/** A Parquet format as the emulator applies it. */
export interface ParquetFormat {
  type: 'PARQUET';
  /**
   * AUTO and SNAPPY write Snappy; NONE writes uncompressed. GZIP (what the Python connector's write_pandas
   * declares for its gzip-compressed Parquet files) is accepted for loads only: a load reads any codec a file names.
   */
  compression: 'AUTO' | 'SNAPPY' | 'GZIP' | 'NONE';
  nullIf: string[];
  trimSpace: boolean;
  /** BINARY_AS_TEXT (default TRUE): binary columns without a logical type are read as UTF-8 text. */
  binaryAsText: boolean;
}

/** A JSON format as the emulator applies it: loads only (each record an object, or one array of them). */
export interface JsonFormat {
  type: 'JSON';
  /** AUTO detects gzip and zstd from the file name; NONE reads plain text. */
  compression: 'AUTO' | 'GZIP' | 'ZSTD' | 'NONE';
  nullIf: string[];
  trimSpace: boolean;
  /** How text loaded into BINARY columns is encoded (BINARY_FORMAT, default HEX). */
  binaryFormat: 'HEX' | 'BASE64' | 'UTF8';
  /** STRIP_OUTER_ARRAY: a file is one JSON array whose elements are the records. */
  stripOuterArray: boolean;
}

export type FileFormat = CsvFormat | ParquetFormat | JsonFormat;

/**
 * Validate and interpret merged format options. Throws 002040 for types other than CSV/PARQUET,
 * unknown options and values the emulator cannot reproduce (e.g. DATE_FORMAT other than AUTO).
 */
export function interpretFormat(f: FormatOptions): FileFormat {
  const type = typeOf(f);
  const keys = KEYS[type];
  if (!keys) throw SfErrors.unsupported(`FILE_FORMAT TYPE = ${type}`);
  for (const key of Object.keys(f)) if (!keys.has(key)) throw SfErrors.unsupported(`${type} file format option ${key}`);
  const nullIfRaw = f.NULL_IF;
  const nullIf =
    nullIfRaw === undefined ? (type === 'CSV' ? ['\\N'] : []) : Array.isArray(nullIfRaw) ? nullIfRaw : [nullIfRaw];
  const trimSpace = bool(f, 'TRIM_SPACE', false);
  if (type === 'PARQUET') {
    // Snowflake's Parquet COMPRESSION values; a load reads whatever codec the file names (LZO aside).
    const compression = (scalar(f, 'COMPRESSION') ?? 'AUTO').toUpperCase();
    if (compression !== 'AUTO' && compression !== 'SNAPPY' && compression !== 'GZIP' && compression !== 'NONE')
      throw SfErrors.unsupported(`PARQUET COMPRESSION = ${compression}`);
    if (!bool(f, 'SNAPPY_COMPRESSION', true)) throw SfErrors.unsupported('SNAPPY_COMPRESSION = FALSE');
    return { type: 'PARQUET', compression, nullIf, trimSpace, binaryAsText: bool(f, 'BINARY_AS_TEXT', true) };
  }
  const compression = (scalar(f, 'COMPRESSION') ?? 'AUTO').toUpperCase();
  if (compression !== 'AUTO' && compression !== 'GZIP' && compression !== 'ZSTD' && compression !== 'NONE')
    throw SfErrors.unsupported(`${type} COMPRESSION = ${compression}`);
  for (const key of ['DATE_FORMAT', 'TIME_FORMAT', 'TIMESTAMP_FORMAT']) requireDefault(f, key, ['AUTO']);
  if (type === 'JSON') {
    const binaryFormat = (scalar(f, 'BINARY_FORMAT') ?? 'HEX').toUpperCase().replace('UTF-8', 'UTF8');
    if (binaryFormat !== 'HEX' && binaryFormat !== 'BASE64' && binaryFormat !== 'UTF8')
      throw SfErrors.syntax(`invalid value '${binaryFormat}' for option BINARY_FORMAT.`);
    const stripOuterArray = bool(f, 'STRIP_OUTER_ARRAY', false);
    return { type: 'JSON', compression, nullIf, trimSpace, binaryFormat, stripOuterArray };
  }
  const recordDelimiter = scalar(f, 'RECORD_DELIMITER');
  if (recordDelimiter !== undefined && recordDelimiter !== '\n')
    throw SfErrors.unsupported('RECORD_DELIMITER other than newline');
  requireDefault(f, 'ENCODING', ['UTF8', 'UTF-8']);
  requireDefault(f, 'EMPTY_FIELD_AS_NULL', ['TRUE']);
  requireDefault(f, 'PARSE_HEADER', ['FALSE']);
  requireDefault(f, 'ESCAPE', ['NONE']);
  const fieldDelimiter = charOption(f, 'FIELD_DELIMITER', ',');
  if (fieldDelimiter === null) throw SfErrors.unsupported('FIELD_DELIMITER = NONE');
  const skip = scalar(f, 'SKIP_HEADER') ?? '0';
  if (!/^\d+$/.test(skip)) throw SfErrors.syntax(`invalid value '${skip}' for option SKIP_HEADER.`);
  return {
    type: 'CSV',
    compression,
    fieldDelimiter,
    skipHeader: Number(skip),
    enclosedBy: charOption(f, 'FIELD_OPTIONALLY_ENCLOSED_BY', null),
    nullIf,
    errorOnColumnCountMismatch: bool(f, 'ERROR_ON_COLUMN_COUNT_MISMATCH', true),
    trimSpace,
  };
}

/** Copy options (outside FILE_FORMAT) as raw scalars by key; lists kept for FILES. */
export function copyOption(options: Options, key: string): string | undefined {
  const v = options.get(key);
  if (v === undefined) return undefined;
  if (v.kind !== 'scalar') throw SfErrors.syntax(`invalid value for option ${key}.`);
  return v.text;
}

/** A TRUE/FALSE copy option. */
export function copyBool(options: Options, key: string, dflt: boolean): boolean {
  const v = copyOption(options, key);
  if (v === undefined) return dflt;
  const u = v.toUpperCase();
  if (u === 'TRUE') return true;
  if (u === 'FALSE') return false;
  throw SfErrors.syntax(`invalid value '${v}' for option ${key}.`);
}

/** Refuse options outside `allowed` (Snowflake rejects unknown options; the emulator also rejects ones it cannot honour). */
export function assertKnownOptions(options: Options, allowed: string[], what: string): void {
  for (const key of options.keys()) if (!allowed.includes(key)) throw SfErrors.unsupported(`${what} option ${key}`);
}

/** SQL string literal for DuckDB. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Double-quoted identifier for DuckDB. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Runs emulator-built SQL (never client text) and returns its rows. */
export async function queryRows(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRows() as unknown[][];
}
