/**
 * COPY INTO for internal stages, executed by DuckDB's own readers and writers:
 *
 * - Unload, `COPY INTO @stage[/path] FROM <table> | (<query>) ...` (Snowflake doc: COPY INTO <location>):
 *   the translated query runs in one DuckDB `COPY ... TO` that rotates files at MAX_FILE_SIZE; the
 *   files are then renamed the way Snowflake names them (`<prefix>_0_0_<n>.snappy.parquet`,
 *   `data_0_0_<n>.csv.gz`).
 * - Load, `COPY INTO <table> FROM @stage[/path] ...` (Snowflake doc: COPY INTO <table>): the files are
 *   read with `read_csv`/`read_parquet`, cast to the table's column types into a temporary table
 *   (so a bad value aborts before the target changes), then inserted in one statement. Load history
 *   (stage-history.ts) skips files already loaded with the same MD5 unless FORCE = TRUE.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { StatementContext, StatementOutcome } from './contract.js';
import { SfErrors } from './errors.js';
import { recordLoads, readLoadHistory, type LoadRecord } from './stage-history.js';
import {
  assertKnownOptions,
  copyBool,
  copyOption,
  formatOptionsFrom,
  interpretFormat,
  mergeFormats,
  sqlIdent,
  sqlString,
  type CsvFormat,
  type FileFormat,
} from './stage-format.js';
import type { Options, TokenStream } from './stage-lexer.js';
import {
  compilePattern,
  fileMd5,
  matchStageFiles,
  removeStageFile,
  resolveStageLocation,
  stagesRoot,
  type StageFile,
  type StageLocation,
} from './stage-store.js';
import { fixedColumn, textColumn } from './stage-columns.js';

/** Snowflake's default MAX_FILE_SIZE for unloads: 16 MB. */
const DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024;
/** Snowflake's upper bound for MAX_FILE_SIZE: 5 GB. */
const MAX_MAX_FILE_SIZE = 5 * 1024 * 1024 * 1024;

/** Dispatch `COPY INTO ...` (the stream is positioned on COPY). */
export async function executeCopy(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('COPY', 'INTO');
  const target = ts.peek();
  if (target?.kind === 'stage') return unload(ts, ctx);
  if (target?.kind === 'string') throw SfErrors.unsupported('COPY INTO an external location');
  return load(ts, ctx);
}

async function all(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRows() as unknown[][];
}

// ---------------------------------------------------------------------------------------------
// Unload

/**
 * COPY INTO <location>. Options: FILE_FORMAT = (TYPE = PARQUET | CSV ...), HEADER, MAX_FILE_SIZE
 * (bytes, default 16 MB; DuckDB starts a new file once a file passes it, so a file can exceed it by
 * up to a row group), SINGLE, OVERWRITE. Returns one row: rows_unloaded, input_bytes, output_bytes.
 * Throws 002102 for TIMESTAMP_TZ/LTZ columns in Parquet, and Snowflake's "Files already existing at
 * the unload destination" without OVERWRITE = TRUE.
 */
async function unload(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  const locText = ts.next().text;
  const loc = await resolveStageLocation(locText, ctx);
  ts.expectWords('FROM');
  const query = ts.acceptPunct('(') ? ts.parenthesisedText() : `SELECT * FROM ${ts.objectName()}`;
  if (ts.acceptWords('PARTITION', 'BY')) throw SfErrors.unsupported('COPY INTO <location> PARTITION BY');
  const options = ts.options();
  assertKnownOptions(
    options,
    ['FILE_FORMAT', 'HEADER', 'MAX_FILE_SIZE', 'SINGLE', 'OVERWRITE', 'INCLUDE_QUERY_ID', 'DETAILED_OUTPUT'],
    'COPY INTO <location>',
  );
  if (copyBool(options, 'INCLUDE_QUERY_ID', false)) throw SfErrors.unsupported('INCLUDE_QUERY_ID = TRUE');
  if (copyBool(options, 'DETAILED_OUTPUT', false)) throw SfErrors.unsupported('DETAILED_OUTPUT = TRUE');
  const format = interpretFormat(mergeFormats(formatOptionsFrom(options.get('FILE_FORMAT')), loc.stage.fileFormat));
  const header = copyBool(options, 'HEADER', false);
  const single = copyBool(options, 'SINGLE', false);
  const overwrite = copyBool(options, 'OVERWRITE', false);
  const maxFileSize = parseMaxFileSize(copyOption(options, 'MAX_FILE_SIZE'));

  const duckdbSql = await ctx.translateQuery(query);
  const select = await unloadSelect(ctx, duckdbSql, format, header);
  const ext = single ? '' : extensionFor(format);
  const { dir, prefix } = splitUnloadPath(loc.path);
  const destDir = path.join(loc.stage.filesDir, dir);
  const nameOf = (n: number): string => (single ? prefix : `${prefix}_0_0_${n}${ext}`);
  if (!overwrite && (await exists(path.join(destDir, nameOf(0))))) {
    throw SfErrors.unloadDestinationExists(locText);
  }

  const work = path.join(stagesRoot(ctx.dataDir), '.work', randomUUID());
  await fs.mkdir(work, { recursive: true });
  try {
    const to = single ? path.join(work, 'single') : work;
    const copyOptions = [...duckdbFormatOptions(format, header, select.textColumns)];
    if (!single) copyOptions.push(`FILE_SIZE_BYTES ${maxFileSize}`, `FILENAME_PATTERN 'part_{i}'`);
    const [[count]] = await all(
      ctx.session.conn,
      `COPY (${select.sql}) TO ${sqlString(to)} (${copyOptions.join(', ')})`,
    );
    const rowsUnloaded = Number(count);
    const written = await writtenFiles(ctx.session.conn, work, format, rowsUnloaded);
    if (single && written.length === 1 && written[0].size > maxFileSize) {
      throw SfErrors.singleFileTooLarge(maxFileSize);
    }
    const inputBytes = await uncompressedBytes(ctx.session.conn, format, written);
    await fs.mkdir(destDir, { recursive: true });
    let outputBytes = 0;
    for (const [n, f] of written.entries()) {
      await fs.rename(f.abs, path.join(destDir, nameOf(n)));
      outputBytes += f.size;
    }
    return {
      kind: 'rows',
      columns: [fixedColumn('rows_unloaded'), fixedColumn('input_bytes'), fixedColumn('output_bytes')],
      rows: [[String(rowsUnloaded), String(inputBytes), String(outputBytes)]],
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

function parseMaxFileSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_MAX_FILE_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > MAX_MAX_FILE_SIZE)
    throw SfErrors.syntax(`invalid value '${raw}' for option MAX_FILE_SIZE.`);
  return n;
}

/**
 * Where an unload writes: a path ending in `/` (or empty) is a folder and files are named `data...`;
 * otherwise the last segment is the file-name prefix (SINGLE: the whole file name).
 */
function splitUnloadPath(p: string): { dir: string; prefix: string } {
  if (p === '' || p.endsWith('/')) return { dir: p, prefix: 'data' };
  const slash = p.lastIndexOf('/');
  const dir = slash < 0 ? '' : p.slice(0, slash + 1);
  const name = p.slice(slash + 1);
  return { dir, prefix: name };
}

/** Snowflake's unload file extensions. */
function extensionFor(format: FileFormat): string {
  if (format.type === 'PARQUET') return format.compression === 'NONE' ? '.parquet' : '.snappy.parquet';
  return format.compression === 'NONE' ? '.csv' : format.compression === 'ZSTD' ? '.csv.zst' : '.csv.gz';
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * The SELECT DuckDB writes: columns renamed to the Snowflake names (Parquet without HEADER gets
 * Snowflake's generic `_COL_<i>`), HUGEINT cast to DECIMAL(38,0) (DuckDB would write it to Parquet as
 * DOUBLE and lose digits), BINARY as hex in CSV (Snowflake's BINARY_FORMAT = HEX).
 */
async function unloadSelect(
  ctx: StatementContext,
  duckdbSql: string,
  format: FileFormat,
  header: boolean,
): Promise<{ sql: string; textColumns: string[] }> {
  const columns = await ctx.describe(duckdbSql);
  if (format.type === 'PARQUET') {
    const tz = columns.find((c) => c.type === 'timestamp_tz' || c.type === 'timestamp_ltz');
    if (tz) throw SfErrors.parquetTimezone(tz.name);
  }
  const duckTypes = (await all(ctx.session.conn, `DESCRIBE SELECT * FROM (${duckdbSql}) AS __q`)).map((r) =>
    String(r[1]),
  );
  const textColumns: string[] = [];
  const exprs = columns.map((c, i) => {
    const type = duckTypes[i] ?? '';
    let e = `__u.${sqlIdent(`__c${i}`)}`;
    if (type === 'HUGEINT' || type === 'UHUGEINT') e = `CAST(${e} AS DECIMAL(38,0))`;
    if (format.type === 'CSV' && type === 'BLOB') e = `upper(hex(${e}))`;
    if (format.type === 'CSV' && isTimestampTzStruct(type)) e = timestampTzText(e);
    const name = format.type === 'PARQUET' && !header ? `_COL_${i}` : c.name;
    if (c.type === 'text') textColumns.push(name);
    return `${e} AS ${sqlIdent(name)}`;
  });
  const aliases = columns.map((_, i) => sqlIdent(`__c${i}`)).join(', ');
  return { sql: `SELECT ${exprs.join(', ')} FROM (${duckdbSql}) AS __u(${aliases})`, textColumns };
}

/** The core stores TIMESTAMP_TZ as `STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT)` (STATUS-core.md). */
function isTimestampTzStruct(duckdbType: string): boolean {
  return /^STRUCT\(utc TIMESTAMP WITH TIME ZONE, offset_minutes SMALLINT\)$/i.test(duckdbType);
}

/** A TIMESTAMP_TZ struct as text in its own offset: `2024-01-01 10:30:00.000000 +0130` (Snowflake's TZHTZM style; `__SF_TSTZ` parses it back). */
function timestampTzText(e: string): string {
  const utc = `struct_extract(${e}, 'utc')`;
  const off = `struct_extract(${e}, 'offset_minutes')`;
  return (
    `(strftime(CAST(${utc} AS TIMESTAMP) + to_minutes(${off}), '%Y-%m-%d %H:%M:%S.%f') || ' ' || CASE WHEN ${off} < 0 THEN '-' ELSE '+' END` +
    ` || lpad(CAST(abs(${off}) // 60 AS VARCHAR), 2, '0') || lpad(CAST(abs(${off}) % 60 AS VARCHAR), 2, '0'))`
  );
}

/** Cast a loaded value to a target column type (TIMESTAMP_TZ structs through the core's `__SF_TSTZ` macro). */
function castTo(expr: string, duckdbType: string): string {
  return isTimestampTzStruct(duckdbType) ? `__SF_TSTZ(${expr})` : `CAST(${expr} AS ${duckdbType})`;
}

/** DuckDB COPY TO options for a Snowflake file format. */
function duckdbFormatOptions(format: FileFormat, header: boolean, textColumns: string[]): string[] {
  if (format.type === 'PARQUET')
    return ['FORMAT parquet', `COMPRESSION ${format.compression === 'NONE' ? 'uncompressed' : 'snappy'}`];
  const out = [
    'FORMAT csv',
    `DELIMITER ${sqlString(format.fieldDelimiter)}`,
    `HEADER ${header}`,
    `NULLSTR ${sqlString(format.nullIf[0] ?? '')}`,
    `COMPRESSION ${format.compression === 'NONE' ? 'none' : format.compression === 'ZSTD' ? 'zstd' : 'gzip'}`,
  ];
  if (format.enclosedBy === null) {
    out.push("QUOTE ''");
  } else {
    // Snowflake encloses every string field when FIELD_OPTIONALLY_ENCLOSED_BY is set.
    out.push(`QUOTE ${sqlString(format.enclosedBy)}`, `ESCAPE ${sqlString(format.enclosedBy)}`);
    if (textColumns.length > 0) out.push(`FORCE_QUOTE (${textColumns.map(sqlIdent).join(', ')})`);
  }
  return out;
}

/** Files DuckDB wrote, in DuckDB's order; Parquet files without rows (and everything when 0 rows) are dropped, as Snowflake writes no empty files. */
async function writtenFiles(
  conn: DuckDBConnection,
  work: string,
  format: FileFormat,
  rows: number,
): Promise<StageFile[]> {
  const names = (await fs.readdir(work)).sort((a, b) => fileIndex(a) - fileIndex(b));
  const files: StageFile[] = [];
  for (const name of names) {
    const abs = path.join(work, name);
    const st = await fs.stat(abs);
    files.push({ rel: name, abs, size: st.size, mtime: st.mtime });
  }
  if (rows === 0) return [];
  if (format.type !== 'PARQUET') return files;
  const counts = new Map(
    (await all(conn, `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlString(path.join(work, '*'))})`)).map(
      (r) => [String(r[0]), Number(r[1])],
    ),
  );
  return files.filter((f) => (counts.get(f.abs) ?? 1) > 0);
}

function fileIndex(name: string): number {
  const m = /^part_(\d+)/.exec(name);
  return m ? Number(m[1]) : 0;
}

/**
 * Snowflake's input_bytes: the data size before compression. Parquet: the column chunks'
 * uncompressed size; gzip: the ISIZE trailer of each file; other CSV: the file size.
 */
async function uncompressedBytes(conn: DuckDBConnection, format: FileFormat, files: StageFile[]): Promise<number> {
  if (files.length === 0) return 0;
  if (format.type === 'PARQUET') {
    const list = files.map((f) => sqlString(f.abs)).join(', ');
    const [[n]] = await all(
      conn,
      `SELECT coalesce(sum(total_uncompressed_size), 0)::BIGINT FROM parquet_metadata([${list}])`,
    );
    return Number(n);
  }
  if (format.compression === 'AUTO' || format.compression === 'GZIP') {
    let total = 0;
    for (const f of files) {
      const fh = await fs.open(f.abs, 'r');
      try {
        const buf = Buffer.alloc(4);
        await fh.read(buf, 0, 4, f.size - 4);
        total += buf.readUInt32LE(0);
      } finally {
        await fh.close();
      }
    }
    return total;
  }
  return files.reduce((s, f) => s + f.size, 0);
}

// ---------------------------------------------------------------------------------------------
// Load

interface TargetColumn {
  name: string;
  duckdbType: string;
}

/** Per-file row of COPY INTO <table>'s result, in Snowflake's column order. */
const LOAD_COLUMNS = [
  textColumn('file'),
  textColumn('status'),
  fixedColumn('rows_parsed'),
  fixedColumn('rows_loaded'),
  fixedColumn('error_limit'),
  fixedColumn('errors_seen'),
  textColumn('first_error', true),
  fixedColumn('first_error_line', true),
  fixedColumn('first_error_character', true),
  textColumn('first_error_column_name', true),
];

/**
 * COPY INTO <table> FROM @stage[/path]. Options: FILES, PATTERN (matched against the path after the
 * location's path), FILE_FORMAT (CSV, or PARQUET with MATCH_BY_COLUMN_NAME), MATCH_BY_COLUMN_NAME,
 * PURGE, FORCE, ON_ERROR = ABORT_STATEMENT (the default for COPY; others are refused),
 * LOAD_UNCERTAIN_FILES. Returns one row per loaded file (LOAD_COLUMNS), or Snowflake's single
 * `status` row "Copy executed with 0 files processed." when nothing is new.
 */
async function load(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  const rawTable = ts.objectName();
  if (ts.acceptPunct('(')) throw SfErrors.unsupported('COPY INTO <table> with a column list');
  ts.expectWords('FROM');
  if (ts.peek()?.kind === 'punct' && ts.peek()!.text === '(')
    throw SfErrors.unsupported('COPY INTO <table> with a transformation query');
  const locTok = ts.next();
  if (locTok.kind === 'string') throw SfErrors.unsupported('COPY INTO <table> from an external location');
  if (locTok.kind !== 'stage') {
    ts.pos--;
    ts.fail();
  }
  const loc = await resolveStageLocation(locTok.text, ctx);
  const options = ts.options();
  assertKnownOptions(
    options,
    ['FILES', 'PATTERN', 'FILE_FORMAT', 'MATCH_BY_COLUMN_NAME', 'PURGE', 'FORCE', 'ON_ERROR', 'LOAD_UNCERTAIN_FILES'],
    'COPY INTO <table>',
  );
  const onError = (copyOption(options, 'ON_ERROR') ?? 'ABORT_STATEMENT').toUpperCase();
  if (onError !== 'ABORT_STATEMENT') throw SfErrors.unsupported(`ON_ERROR = ${onError}`);
  const format = interpretFormat(mergeFormats(formatOptionsFrom(options.get('FILE_FORMAT')), loc.stage.fileFormat));
  const match = (copyOption(options, 'MATCH_BY_COLUMN_NAME') ?? 'NONE').toUpperCase();
  if (!['NONE', 'CASE_SENSITIVE', 'CASE_INSENSITIVE'].includes(match))
    throw SfErrors.syntax(`invalid value '${match}' for option MATCH_BY_COLUMN_NAME.`);
  const force = copyBool(options, 'FORCE', false);
  const purge = copyBool(options, 'PURGE', false);

  const table = ctx.resolveName(rawTable);
  const columns = await targetColumns(ctx, table.duckdbName, `${table.database}.${table.schema}.${table.name}`);
  if (format.type === 'PARQUET' && match === 'NONE') {
    throw SfErrors.semiStructuredNeedsMatch('PARQUET');
  }
  if (format.type === 'CSV' && match !== 'NONE')
    throw SfErrors.unsupported('MATCH_BY_COLUMN_NAME for CSV (needs PARSE_HEADER = TRUE)');

  const candidates = await selectFiles(loc, options);
  const history = force ? {} : await readLoadHistory(ctx.dataDir, table.database, table.schema, table.name);
  const toLoad: { file: StageFile; key: string; md5: string }[] = [];
  for (const file of candidates) {
    const key = `${loc.stage.display}/${file.rel}`;
    const md5 = await fileMd5(file);
    if (history[key]?.md5 !== md5) toLoad.push({ file, key, md5 });
  }
  if (toLoad.length === 0) {
    return { kind: 'rows', columns: [textColumn('status')], rows: [['Copy executed with 0 files processed.']] };
  }

  const counts = await insertFiles(
    ctx,
    table.duckdbName,
    columns,
    toLoad.map((f) => f.file.abs),
    format,
    match === 'CASE_SENSITIVE',
  );
  await ctx.touchTable(table.database, table.schema, table.name);
  const loadedAt = new Date().toISOString();
  const records: Record<string, LoadRecord> = {};
  for (const f of toLoad) records[f.key] = { md5: f.md5, rows: counts.get(f.file.abs) ?? 0, loadedAt };
  await recordLoads(ctx.dataDir, table.database, table.schema, table.name, records);
  if (purge) for (const f of toLoad) await removeStageFile(loc.stage, f.file);

  const rows = toLoad.map((f) => {
    const n = String(counts.get(f.file.abs) ?? 0);
    return [loc.stage.listPrefix + f.file.rel, 'LOADED', n, n, '1', '0', null, null, null, null];
  });
  return { kind: 'rows', columns: LOAD_COLUMNS, rows };
}

async function targetColumns(ctx: StatementContext, duckdbName: string, display: string): Promise<TargetColumn[]> {
  let rows: unknown[][];
  try {
    rows = await all(ctx.session.conn, `DESCRIBE ${duckdbName}`);
  } catch {
    throw SfErrors.objectDoesNotExist(display);
  }
  return rows.map((r) => ({ name: String(r[0]), duckdbType: String(r[1]) }));
}

/** FILES = ('a', ...) names files relative to the location path; otherwise every file under it (filtered by PATTERN). */
async function selectFiles(loc: StageLocation, options: Options): Promise<StageFile[]> {
  const files = options.get('FILES');
  const pattern = compilePattern(copyOption(options, 'PATTERN'));
  if (files === undefined) return matchStageFiles(loc, pattern, 'location');
  const names = files.kind === 'list' ? files.items : files.kind === 'scalar' ? [files.text] : [];
  const all = await matchStageFiles({ stage: loc.stage, path: '' }, null);
  return names
    .map((name) => {
      const rel = path.posix.join(loc.path, name);
      const f = all.find((x) => x.rel === rel);
      if (!f) throw SfErrors.remoteFileNotFound(`${loc.stage.display}/${rel}`);
      return f;
    })
    .filter((f) => !pattern || pattern.test(f.rel.slice(loc.path.length)));
}

/**
 * Cast the files' rows into a temporary table (any conversion error aborts here, before the target
 * changes), insert them in one statement, and return the row count per file (absolute path).
 */
async function insertFiles(
  ctx: StatementContext,
  duckdbTable: string,
  columns: TargetColumn[],
  files: string[],
  format: FileFormat,
  caseSensitive: boolean,
): Promise<Map<string, number>> {
  const conn = ctx.session.conn;
  const fileList = `[${files.map(sqlString).join(', ')}]`;
  let source: string;
  let exprs: string[];
  if (format.type === 'CSV') {
    source = csvReader(fileList, columns.length, format);
    exprs = columns.map((c, i) => castText(`${sqlIdent(`c${i}`)}`, c.duckdbType, format));
  } else {
    source = `read_parquet(${fileList}, filename = true, union_by_name = true)`;
    const fileColumns = (await all(conn, `DESCRIBE SELECT * FROM ${source}`))
      .map((r) => String(r[0]))
      .filter((n) => n !== 'filename');
    exprs = columns.map((c) => {
      const found = fileColumns.find((f) => (caseSensitive ? f === c.name : f.toUpperCase() === c.name.toUpperCase()));
      if (found === undefined) return `CAST(NULL AS ${c.duckdbType})`;
      let e = sqlIdent(found);
      if (format.trimSpace) e = `(CASE WHEN typeof(${e}) = 'VARCHAR' THEN trim(${e}::VARCHAR) ELSE ${e} END)`;
      if (format.nullIf.length > 0)
        e = `(CASE WHEN ${e}::VARCHAR IN (${format.nullIf.map(sqlString).join(', ')}) THEN NULL ELSE ${e} END)`;
      return castTo(e, c.duckdbType);
    });
  }
  const tmp = sqlIdent(`__floe_copy_${randomUUID().replace(/-/g, '')}`);
  const projection = columns.map((c, i) => `${exprs[i]} AS ${sqlIdent(c.name)}`).join(', ');
  try {
    try {
      await conn.run(`CREATE TEMP TABLE ${tmp} AS SELECT filename AS __file, ${projection} FROM ${source}`);
    } catch (err) {
      throw SfErrors.conversion(`${(err as Error).message}`);
    }
    const counts = new Map(
      (await all(conn, `SELECT __file, count(*) FROM ${tmp} GROUP BY __file`)).map((r) => [String(r[0]), Number(r[1])]),
    );
    const names = columns.map((c) => sqlIdent(c.name)).join(', ');
    await conn.run(`INSERT INTO ${duckdbTable} (${names}) SELECT ${names} FROM ${tmp}`);
    return counts;
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${tmp}`);
  }
}

/** read_csv over the files with every field as text (`c0`, `c1`, ...), Snowflake's CSV options mapped to DuckDB's. */
function csvReader(fileList: string, n: number, f: CsvFormat): string {
  const cols = Array.from({ length: n }, (_, i) => `${sqlString(`c${i}`)}: 'VARCHAR'`).join(', ');
  const opts = [
    `columns = {${cols}}`,
    'header = false',
    'auto_detect = false',
    `skip = ${f.skipHeader}`,
    `delim = ${sqlString(f.fieldDelimiter)}`,
    `quote = ${sqlString(f.enclosedBy ?? '')}`,
    `escape = ${sqlString(f.enclosedBy ?? '')}`,
    // EMPTY_FIELD_AS_NULL = TRUE: an unenclosed empty field is NULL, an enclosed one ("") is ''.
    `nullstr = [${[...f.nullIf, ''].map(sqlString).join(', ')}]`,
    'allow_quoted_nulls = false',
    'filename = true',
    `null_padding = ${!f.errorOnColumnCountMismatch}`,
  ];
  if (f.compression !== 'AUTO')
    opts.push(`compression = ${sqlString(f.compression === 'NONE' ? 'none' : f.compression.toLowerCase())}`);
  return `read_csv(${fileList}, ${opts.join(', ')})`;
}

/** Text field → target type, as Snowflake converts CSV fields (BINARY from hex). */
function castText(expr: string, duckdbType: string, f: CsvFormat): string {
  const e = f.trimSpace ? `trim(${expr})` : expr;
  if (duckdbType === 'BLOB') return `unhex(${e})`;
  if (duckdbType === 'VARCHAR') return e;
  return castTo(e, duckdbType);
}
