/** COPY INTO <location> (unload), see copy.ts. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { StatementContext, StatementOutcome } from './contract.js';
import { SfErrors } from './errors.js';
import {
  assertKnownOptions,
  copyBool,
  copyOption,
  formatOptionsFrom,
  interpretFormat,
  mergeFormats,
  sqlIdent,
  sqlString,
  queryRows,
  type FileFormat,
} from './stage-format.js';
import type { TokenStream } from './stage-lexer.js';
import { resolveStageLocation, stagesRoot, type StageFile } from './stage-store.js';
import { fixedColumn } from './columns.js';
import { isTimestampTzStruct } from './sql/macros.js';

/** Snowflake's default MAX_FILE_SIZE for unloads: 16 MB. */
const DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024;
/** Snowflake's upper bound for MAX_FILE_SIZE: 5 GB. */
const MAX_MAX_FILE_SIZE = 5 * 1024 * 1024 * 1024;

/**
 * COPY INTO <location>. Options: FILE_FORMAT = (TYPE = PARQUET | CSV ...), HEADER, MAX_FILE_SIZE
 * (bytes, default 16 MB; DuckDB starts a new file once a file passes it, so a file can exceed it by
 * up to a row group), SINGLE, OVERWRITE. Returns one row: rows_unloaded, input_bytes, output_bytes.
 * Throws 002102 for TIMESTAMP_TZ/LTZ columns in Parquet, and Snowflake's "Files already existing at
 * the unload destination" without OVERWRITE = TRUE.
 */
export async function unload(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
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
  if (format.type === 'JSON') throw SfErrors.unsupported('COPY INTO <location> with TYPE = JSON');
  if (format.type === 'PARQUET' && format.compression === 'GZIP')
    throw SfErrors.unsupported('PARQUET COMPRESSION = GZIP on unload');
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
    const [[count]] = await queryRows(
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

/** The formats the emulator unloads to. */
type UnloadFormat = Exclude<FileFormat, { type: 'JSON' }>;

/** Snowflake's unload file extensions. */
function extensionFor(format: UnloadFormat): string {
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
  format: UnloadFormat,
  header: boolean,
): Promise<{ sql: string; textColumns: string[] }> {
  const columns = await ctx.describe(duckdbSql);
  if (format.type === 'PARQUET') {
    const tz = columns.find((c) => c.type === 'timestamp_tz' || c.type === 'timestamp_ltz');
    if (tz) throw SfErrors.parquetTimezone(tz.name);
  }
  const duckTypes = (await queryRows(ctx.session.conn, `DESCRIBE SELECT * FROM (${duckdbSql}) AS __q`)).map((r) =>
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
function timestampTzText(e: string): string {
  const utc = `struct_extract(${e}, 'utc')`;
  const off = `struct_extract(${e}, 'offset_minutes')`;
  return (
    `(strftime(CAST(${utc} AS TIMESTAMP) + to_minutes(${off}), '%Y-%m-%d %H:%M:%S.%f') || ' ' || CASE WHEN ${off} < 0 THEN '-' ELSE '+' END` +
    ` || lpad(CAST(abs(${off}) // 60 AS VARCHAR), 2, '0') || lpad(CAST(abs(${off}) % 60 AS VARCHAR), 2, '0'))`
  );
}

/** DuckDB COPY TO options for a Snowflake file format. */
function duckdbFormatOptions(format: UnloadFormat, header: boolean, textColumns: string[]): string[] {
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
  format: UnloadFormat,
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
    (
      await queryRows(conn, `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlString(path.join(work, '*'))})`)
    ).map((r) => [String(r[0]), Number(r[1])]),
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
async function uncompressedBytes(conn: DuckDBConnection, format: UnloadFormat, files: StageFile[]): Promise<number> {
  if (files.length === 0) return 0;
  if (format.type === 'PARQUET') {
    const list = files.map((f) => sqlString(f.abs)).join(', ');
    const [[n]] = await queryRows(
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
