/**
 * Statement handler for internal stages: CREATE/DROP STAGE, CREATE/DROP FILE FORMAT (file-formats.ts), PUT,
 * GET, LIST, REMOVE and COPY INTO (unload and load, in copy.ts). Stages are directories under `<dataDir>/stages/` (stage-store.ts).
 *
 * PUT and GET return the `transfer` outcome; the server (queries.ts) turns it into the query-response `data` that
 * snowflake-sdk's file transfer agent reads, and the driver copies the files itself with its
 * LOCAL_FS storage client ({@link transferResponseData} lists the fields it reads).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StatementContext, StatementHandler, StatementOutcome } from './contract.js';
import { SfErrors } from './errors.js';
import { executeCopy } from './copy.js';
import { createFileFormat, dropFileFormat, isFileFormatStatement } from './file-formats.js';
import { s3StageInfo } from './s3-endpoint.js';
import { fixedColumn, status as statusRow, StatementType, textColumn } from './columns.js';
import { forgetTableLoadHistory } from './stage-history.js';
import { assertKnownOptions, copyBool, copyOption, formatOptionsFrom, interpretFormat } from './stage-format.js';
import { TokenStream, type Token } from './stage-lexer.js';
import {
  compilePattern,
  deleteSessionStages,
  deleteStageDir,
  fileMd5,
  findNamedStage,
  matchStageFiles,
  removeStageFile,
  resolveStageLocation,
  writeNamedStage,
  type StageLocation,
} from './stage-store.js';

const LEADING = /^(?:\s+|--[^\n]*(?:\n|$)|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
const MINE =
  /^(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:STAGE|FILE\s+FORMAT)\b|DROP\s+(?:STAGE|FILE\s+FORMAT)\b|PUT\b|GET\b|LIST\b|LS\b|REMOVE\b|RM\b|COPY\s+INTO\b)/i;

/**
 * The stage statement handler (contract.ts). Returns null for statements it does not own.
 * Throws SnowflakeError: 002003 for missing stages/tables, 001003 for syntax errors, 002040 for
 * options the emulator cannot honour.
 */
export const handleStageStatement: StatementHandler = async (sqlText, ctx) => {
  const body = sqlText.replace(LEADING, '');
  if (!MINE.test(body)) return null;
  const ts = TokenStream.of(body);
  const verb = ts.peek()!.text.toUpperCase();
  switch (verb) {
    case 'CREATE':
      return isFileFormatStatement(ts) ? createFileFormat(ts, ctx) : createStage(ts, ctx);
    case 'DROP':
      return isFileFormatStatement(ts) ? dropFileFormat(ts, ctx) : dropStage(ts, ctx);
    case 'PUT':
      return put(ts, ctx);
    case 'GET':
      return get(ts, ctx);
    case 'LIST':
    case 'LS':
      return list(ts, ctx);
    case 'REMOVE':
    case 'RM':
      return remove(ts, ctx);
    default:
      return executeCopy(ts, ctx);
  }
};

/**
 * Delete a session's temporary stages with their files, and its temporary file formats. The core calls it when a session ends
 * (`POST /session?delete=true` or expiry), as Snowflake drops temporary stages with their session.
 */
export async function dropSessionStages(dataDir: string, sessionId: string): Promise<void> {
  await deleteSessionStages(dataDir, sessionId);
}

/**
 * Forget a table's load history. The core calls it on DROP TABLE and CREATE OR REPLACE TABLE:
 * Snowflake keeps load metadata with the table object, so a new table loads every file again.
 */
export async function forgetLoadHistory(
  dataDir: string,
  database: string,
  schema: string,
  table: string,
): Promise<void> {
  await forgetTableLoadHistory(dataDir, database, schema, table);
}

/** The transfer outcome of PUT/GET. */
export type TransferOutcome = Extract<StatementOutcome, { kind: 'transfer' }>;

/**
 * Where a PUT/GET moves files when its client cannot use a LOCAL_FS stage for it (s3EndpointFormFor): the emulator's
 * S3-compatible endpoint (s3-endpoint.ts).
 */
export interface S3Transfer {
  /** The `endPoint` handed to the client (s3EndPoint). */
  endpoint: string;
  /** The session's token: the `AWS_TOKEN` the endpoint accepts. */
  sessionToken: string;
  dataDir: string;
}

/**
 * The query-response `data` snowflake-sdk 3.x's file transfer agent reads for PUT/GET on a
 * LOCAL_FS stage (file_transfer_agent.js, local_util.js); the server adds queryId and the like.
 * `encryptionMaterial: null` (LOCAL_FS does no encryption), `presignedUrls: []` (read only for GCS);
 * the driver builds the statement's result rows itself, so `rowtype`/`rowset` are empty. With `s3`, the
 * stage is described as an S3 location on the emulator's endpoint instead.
 */
export function transferResponseData(o: TransferOutcome, s3?: S3Transfer): Record<string, unknown> {
  return {
    command: o.command,
    src_locations: o.srcLocations,
    ...(o.localLocation === undefined ? {} : { localLocation: o.localLocation }),
    stageInfo: s3
      ? s3StageInfo(o.stageLocation, s3.dataDir, s3.endpoint, s3.sessionToken)
      : {
          locationType: 'LOCAL_FS',
          location: o.stageLocation,
          path: '',
          region: null,
          storageAccount: null,
          isClientSideEncrypted: false,
          creds: {},
        },
    parallel: o.parallel,
    overwrite: o.overwrite,
    autoCompress: o.autoCompress,
    sourceCompression: o.sourceCompression,
    encryptionMaterial: null,
    presignedUrls: [],
    rowtype: [],
    rowset: [],
  };
}

/** Next token must be a stage reference (`@...` or `'@...'`). */
function stageToken(ts: TokenStream): Token {
  const t = ts.next();
  if (t.kind !== 'stage') {
    ts.pos--;
    ts.fail();
  }
  return t;
}

/**
 * `CREATE [OR REPLACE] [TEMP[ORARY]] STAGE [IF NOT EXISTS] name [FILE_FORMAT = (...)] [COMMENT = '...']
 * [ENCRYPTION = (...)]` — internal stages only (URL=... external stages are refused). Snowflake doc: CREATE STAGE.
 */
async function createStage(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('CREATE');
  const orReplace = ts.acceptWords('OR', 'REPLACE');
  const temporary = ts.acceptWords('TEMPORARY') || ts.acceptWords('TEMP');
  ts.expectWords('STAGE');
  const ifNotExists = ts.acceptWords('IF', 'NOT', 'EXISTS');
  if (orReplace && ifNotExists) throw SfErrors.syntax("line 1 at position 0 unexpected 'IF'.");
  const rawName = ts.objectName();
  const options = ts.options();
  assertKnownOptions(options, ['FILE_FORMAT', 'COMMENT', 'ENCRYPTION'], 'CREATE STAGE');
  const fileFormat = formatOptionsFrom(options.get('FILE_FORMAT'));
  interpretFormat(fileFormat);
  const r = ctx.resolveName(rawName);
  const existing = await findNamedStage(ctx, rawName);
  // A temporary stage may shadow a permanent one of the same name; only a same-kind stage conflicts.
  if (existing && existing.def.temporary === temporary) {
    if (ifNotExists) return status(`${r.name} already exists, statement succeeded.`);
    if (!orReplace) throw SfErrors.alreadyExists(r.name);
  }
  await writeNamedStage(ctx, {
    database: r.database,
    schema: r.schema,
    name: r.name,
    temporary,
    fileFormat,
    comment: copyOption(options, 'COMMENT') ?? null,
    createdOn: new Date().toISOString(),
  });
  return status(`Stage area ${r.name} successfully created.`);
}

/** `DROP STAGE [IF EXISTS] name` — deletes the stage and its files. */
async function dropStage(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('DROP', 'STAGE');
  const ifExists = ts.acceptWords('IF', 'EXISTS');
  const rawName = ts.objectName();
  if (!ts.atEnd()) ts.fail();
  const r = ctx.resolveName(rawName);
  const found = await findNamedStage(ctx, rawName);
  if (!found) {
    if (ifExists) return status(`Drop statement executed successfully (${r.name} already dropped).`);
    throw SfErrors.stageDoesNotExist(`${r.database}.${r.schema}.${r.name}`);
  }
  await deleteStageDir(found.dir);
  return status(`${r.name} successfully dropped.`);
}

/** `file:///abs/path` → `/abs/path`; `file://rel` → `rel` (the driver resolves it against its cwd). */
function localPath(t: Token, ts: TokenStream): string {
  if (t.kind !== 'uri') {
    ts.pos--;
    ts.fail();
  }
  return t.text.slice('file://'.length);
}

function parallelOption(options: ReturnType<TokenStream['options']>): number {
  const raw = copyOption(options, 'PARALLEL') ?? '4';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 99)
    throw SfErrors.syntax(`invalid value '${raw}' for option PARALLEL (1 to 99).`);
  return n;
}

/** Driver spelling of SOURCE_COMPRESSION (it compares with lower-case names and crashes on unknown ones). */
const SOURCE_COMPRESSION: Record<string, string> = {
  AUTO_DETECT: 'auto_detect',
  GZIP: 'gzip',
  BZ2: 'bz2',
  BROTLI: 'br',
  ZSTD: 'zstd',
  DEFLATE: 'deflate',
  RAW_DEFLATE: 'raw_deflate',
  // snowflake-sdk 3.3.0 has no entry for 'none' and throws on it; for an uncompressed file,
  // auto-detection finds no compression either, which is what NONE declares.
  NONE: 'auto_detect',
};

/**
 * `PUT file://<path> @stage[/path] [PARALLEL=n] [AUTO_COMPRESS=TRUE|FALSE] [SOURCE_COMPRESSION=..] [OVERWRITE=TRUE|FALSE]`.
 * Files land in `<stage>/<path>/` (the path is always a folder). With LOCAL_FS the driver always
 * overwrites: OVERWRITE=FALSE differs from Snowflake only in reporting UPLOADED instead of SKIPPED
 * for an identical file. Snowflake doc: PUT.
 */
async function put(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('PUT');
  const src = localPath(ts.next(), ts);
  const loc = await resolveStageLocation(stageToken(ts).text, ctx);
  const options = ts.options();
  assertKnownOptions(options, ['PARALLEL', 'AUTO_COMPRESS', 'SOURCE_COMPRESSION', 'OVERWRITE'], 'PUT');
  const sc = (copyOption(options, 'SOURCE_COMPRESSION') ?? 'AUTO_DETECT').toUpperCase();
  const sourceCompression = SOURCE_COMPRESSION[sc];
  if (!sourceCompression) throw SfErrors.unsupported(`SOURCE_COMPRESSION = ${sc}`);
  const dir = path.join(loc.stage.filesDir, loc.path);
  await fs.mkdir(dir, { recursive: true });
  return {
    kind: 'transfer',
    command: 'UPLOAD',
    srcLocations: [src],
    stageLocation: dir.endsWith('/') ? dir : `${dir}/`,
    parallel: parallelOption(options),
    overwrite: copyBool(options, 'OVERWRITE', false),
    autoCompress: copyBool(options, 'AUTO_COMPRESS', true),
    sourceCompression,
  };
}

/**
 * `GET @stage[/path] file://<dir> [PARALLEL=n] [PATTERN='re']`: files whose stage path starts with
 * `path` (and matches PATTERN) are copied by the driver to `<dir>/<file name>`. The directory is
 * created here because the driver stats it before creating it. Snowflake doc: GET.
 */
async function get(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('GET');
  const loc = await resolveStageLocation(stageToken(ts).text, ctx);
  const target = localPath(ts.next(), ts);
  const options = ts.options();
  assertKnownOptions(options, ['PARALLEL', 'PATTERN'], 'GET');
  const files = await matchStageFiles(loc, compilePattern(copyOption(options, 'PATTERN')));
  const localLocation = path.resolve(target);
  await fs.mkdir(localLocation, { recursive: true });
  return {
    kind: 'transfer',
    command: 'DOWNLOAD',
    srcLocations: files.map((f) => f.rel),
    stageLocation: `${loc.stage.filesDir}/`,
    localLocation,
    parallel: parallelOption(options),
    overwrite: true,
    autoCompress: false,
    sourceCompression: 'none',
  };
}

async function locationAndPattern(
  ts: TokenStream,
  ctx: StatementContext,
  what: string,
): Promise<{ loc: StageLocation; pattern: RegExp | null }> {
  const loc = await resolveStageLocation(stageToken(ts).text, ctx);
  const options = ts.options();
  assertKnownOptions(options, ['PATTERN'], what);
  return { loc, pattern: compilePattern(copyOption(options, 'PATTERN')) };
}

/**
 * `LIST @stage[/path] [PATTERN='re']` → name, size, md5, last_modified (RFC 1123, GMT), as
 * Snowflake's LIST. Names carry the lower-case stage name for named stages (`my_stage/a.csv.gz`).
 */
async function list(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.next();
  const { loc, pattern } = await locationAndPattern(ts, ctx, 'LIST');
  const files = await matchStageFiles(loc, pattern);
  const rows: string[][] = [];
  for (const f of files) {
    rows.push([loc.stage.listPrefix + f.rel, String(f.size), await fileMd5(f), f.mtime.toUTCString()]);
  }
  return {
    kind: 'rows',
    columns: [textColumn('name'), fixedColumn('size'), textColumn('md5', true), textColumn('last_modified')],
    rows,
  };
}

/** `REMOVE @stage[/path] [PATTERN='re']` → one row per file: name, result = 'removed'. */
async function remove(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.next();
  const { loc, pattern } = await locationAndPattern(ts, ctx, 'REMOVE');
  const files = await matchStageFiles(loc, pattern);
  const rows: string[][] = [];
  for (const f of files) {
    await removeStageFile(loc.stage, f);
    rows.push([loc.stage.listPrefix + f.rel, 'removed']);
  }
  return { kind: 'rows', columns: [textColumn('name'), textColumn('result')], rows };
}

/** A `status` row; stage commands answer with the SELECT statement type, as their other results do. */
function status(message: string): StatementOutcome {
  return statusRow(message, StatementType.SELECT);
}
