/** COPY INTO <table> (load), see copy.ts. */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { StatementContext, StatementOutcome } from './contract.js';
import { SfErrors } from './errors.js';
import { parseTransform, transformSource, type Transform } from './copy-transform.js';
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
  queryRows,
  type FileFormat,
  type JsonFormat,
  type ParquetFormat,
} from './stage-format.js';
import type { Options, TokenStream } from './stage-lexer.js';
import {
  compilePattern,
  fileMd5,
  matchStageFiles,
  removeStageFile,
  resolveStageLocation,
  type StageFile,
  type StageLocation,
} from './stage-store.js';
import { fixedColumn, textColumn } from './columns.js';
import { isTimestampTzStruct } from './sql/macros.js';
import { fromDuckdbName, identValue, significant, tokenize } from './sql/tokenizer.js';
/** Cast a loaded value to a target column type (TIMESTAMP_TZ structs through the `__SF_TSTZ` macro, sql/macros.ts). */
function castTo(expr: string, duckdbType: string): string {
  return isTimestampTzStruct(duckdbType) ? `__SF_TSTZ(${expr})` : `CAST(${expr} AS ${duckdbType})`;
}

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
 * COPY INTO <table> [(columns)] FROM @stage[/path]. Options: FILES, PATTERN (matched against the path after the
 * location's path), FILE_FORMAT (CSV, or PARQUET or JSON with MATCH_BY_COLUMN_NAME), MATCH_BY_COLUMN_NAME,
 * PURGE, FORCE, ON_ERROR = ABORT_STATEMENT (the default for COPY; others are refused),
 * LOAD_UNCERTAIN_FILES. Returns one row per loaded file (LOAD_COLUMNS), or Snowflake's single
 * `status` row "Copy executed with 0 files processed." when nothing is new.
 */
export async function load(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  const rawTable = ts.objectName();
  const columnList = ts.acceptPunct('(') ? ts.parenthesisedText() : null;
  ts.expectWords('FROM');
  const transform = ts.acceptPunct('(') ? parseTransform(ts.parenthesisedText()) : null;
  const loc = await resolveStageLocation(transform?.location ?? stageLocationText(ts), ctx);
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
  const tableColumns = await targetColumns(ctx, table.duckdbName, `${table.database}.${table.schema}.${table.name}`);
  const columns = columnList === null ? tableColumns : listedColumns(columnList, tableColumns);
  if (transform && match !== 'NONE') throw SfErrors.unsupported('MATCH_BY_COLUMN_NAME with a COPY transformation');
  if (format.type !== 'CSV' && match === 'NONE' && !transform) throw SfErrors.semiStructuredNeedsMatch(format.type);
  if (format.type === 'JSON' && transform) throw SfErrors.unsupported('a COPY transformation of JSON files');
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
    transform,
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

/** The stage location of `FROM @stage[/path]` (a quoted location is an external one, refused). */
function stageLocationText(ts: TokenStream): string {
  const locTok = ts.next();
  if (locTok.kind === 'string') throw SfErrors.unsupported('COPY INTO <table> from an external location');
  if (locTok.kind !== 'stage') {
    ts.pos--;
    ts.fail();
  }
  return locTok.text;
}

async function targetColumns(ctx: StatementContext, duckdbName: string, display: string): Promise<TargetColumn[]> {
  let rows: unknown[][];
  try {
    rows = await queryRows(ctx.session.conn, `DESCRIBE ${duckdbName}`);
  } catch {
    throw SfErrors.objectDoesNotExist(display);
  }
  return rows.map((r) => ({ name: String(r[0]), duckdbType: String(r[1]) }));
}

/**
 * `COPY INTO t (c1, c2, ...)`: the listed columns, in the list's order, take the files' fields by
 * position (CSV) or by name (Parquet); the others get their defaults. Throws 000904 for a name the
 * table does not have.
 */
function listedColumns(list: string, columns: TargetColumn[]): TargetColumn[] {
  return significant(tokenize(list))
    .filter((t) => t.kind === 'word' || t.kind === 'qident')
    .map((t) => {
      const name = identValue(t);
      const found = columns.find((c) => fromDuckdbName(c.name) === name);
      if (!found) throw SfErrors.invalidIdentifier(name);
      return found;
    });
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
  transform: Transform | null,
): Promise<Map<string, number>> {
  const conn = ctx.session.conn;
  const fileList = `[${files.map(sqlString).join(', ')}]`;
  const parquetReader = (f: ParquetFormat) =>
    `read_parquet(${fileList}, filename = true, union_by_name = true, binary_as_string = ${f.binaryAsText})`;
  let source: string;
  let exprs: string[];
  if (transform && format.type !== 'JSON') {
    const reader = (fields: number) =>
      format.type === 'CSV' ? csvReader(fileList, fields, format) : parquetReader(format);
    source = await transformSource(ctx, transform, reader, format.type !== 'CSV', columns.length);
    exprs = columns.map((c, i) => castTo(`__v${i}`, c.duckdbType));
  } else if (format.type === 'CSV') {
    source = csvReader(fileList, columns.length, format);
    exprs = columns.map((c, i) => castText(`${sqlIdent(`c${i}`)}`, c.duckdbType, format));
  } else if (format.type === 'JSON') {
    source = jsonRecords(fileList, format);
    const keys = (await queryRows(conn, `SELECT DISTINCT unnest(json_keys(json)) FROM ${source}`)).map((r) =>
      String(r[0]),
    );
    exprs = matchedColumns(columns, keys, caseSensitive, format, (key, c) => jsonField(key, c.duckdbType, format));
  } else {
    source = parquetReader(format);
    const fileColumns = (await queryRows(conn, `DESCRIBE SELECT * FROM ${source}`))
      .map((r) => String(r[0]))
      .filter((n) => n !== 'filename');
    exprs = matchedColumns(columns, fileColumns, caseSensitive, format, (name) => sqlIdent(name));
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
      (await queryRows(conn, `SELECT __file, count(*) FROM ${tmp} GROUP BY __file`)).map((r) => [
        String(r[0]),
        Number(r[1]),
      ]),
    );
    const names = columns.map((c) => sqlIdent(c.name)).join(', ');
    await conn.run(`INSERT INTO ${duckdbTable} (${names}) SELECT ${names} FROM ${tmp}`);
    return counts;
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${tmp}`);
  }
}

/**
 * MATCH_BY_COLUMN_NAME: each target column takes the file field of its name (exactly, or ignoring case: the first
 * non-NULL of the fields so spelled), NULL when the files have none; TRIM_SPACE and NULL_IF apply to the field's text, then the value is cast.
 */
function matchedColumns(
  columns: TargetColumn[],
  fields: string[],
  caseSensitive: boolean,
  format: ParquetFormat | JsonFormat,
  fieldExpr: (field: string, column: TargetColumn) => string,
): string[] {
  return columns.map((c) => {
    const name = fromDuckdbName(c.name);
    const found = fields.filter((f) => (caseSensitive ? f === name : f.toUpperCase() === name.toUpperCase()));
    if (found.length === 0) return `CAST(NULL AS ${c.duckdbType})`;
    // Ignoring case, fields spelled differently in different records or files all feed the column.
    let e = found.length === 1 ? fieldExpr(found[0], c) : `COALESCE(${found.map((f) => fieldExpr(f, c)).join(', ')})`;
    if (format.trimSpace) e = `(CASE WHEN typeof(${e}) = 'VARCHAR' THEN trim(${e}::VARCHAR) ELSE ${e} END)`;
    if (format.nullIf.length > 0)
      e = `(CASE WHEN ${e}::VARCHAR IN (${format.nullIf.map(sqlString).join(', ')}) THEN NULL ELSE ${e} END)`;
    return castTo(e, c.duckdbType);
  });
}

/** The files' JSON records, one row each (`json`, `filename`): one object per line, or the elements of one outer array. */
function jsonRecords(fileList: string, f: JsonFormat): string {
  const compression = { AUTO: 'auto_detect', GZIP: 'gzip', ZSTD: 'zstd', NONE: 'uncompressed' }[f.compression];
  const layout = f.stripOuterArray ? 'array' : 'newline_delimited';
  return `read_json_objects(${fileList}, format = '${layout}', compression = '${compression}', filename = true)`;
}

/**
 * A record's field for a column of `duckdbType`: JSON (VARIANT, OBJECT, ARRAY) as it is, BINARY decoded as
 * BINARY_FORMAT says, anything else as the field's text (a JSON string unquoted), which the load then casts.
 */
function jsonField(key: string, duckdbType: string, f: JsonFormat): string {
  const path = sqlString(`$.${JSON.stringify(key)}`);
  if (duckdbType === 'JSON') return `(json -> ${path})`;
  const text = `(json ->> ${path})`;
  if (duckdbType !== 'BLOB') return text;
  return f.binaryFormat === 'BASE64'
    ? `from_base64(${text})`
    : f.binaryFormat === 'HEX'
      ? `unhex(${text})`
      : `encode(${text})`;
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
