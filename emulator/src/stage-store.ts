/**
 * Internal stages as directories under `<dataDir>/stages/`:
 *
 * ```
 * stages/user/files/                                   @~
 * stages/table/<DB>/<SCHEMA>/<TABLE>/files/            @%table
 * stages/named/<DB>/<SCHEMA>/<NAME>/{stage.json,files/}         CREATE STAGE
 * stages/temp/<SESSION>/<DB>/<SCHEMA>/<NAME>/{stage.json,files/} CREATE TEMPORARY STAGE
 * stages/.work/<uuid>/                                 unload scratch space (same file system, so renames are cheap)
 * stages/formats/<DB>/<SCHEMA>/<NAME>.json             CREATE FILE FORMAT
 * stages/temp/<SESSION>/.formats/<DB>/<SCHEMA>/<NAME>.json  CREATE TEMPORARY FILE FORMAT
 * ```
 *
 * Path segments are URI-encoded so quoted identifiers cannot escape the tree. Follows Snowflake's
 * "Choosing an internal stage for local files" (user, table and named stages) and
 * "CREATE STAGE" / "LIST" docs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SnowflakeError, SfErrors } from './errors.js';
import type { StatementContext } from './contract.js';

/** File format options as stored: upper-case keys, raw values (lists for NULL_IF and the like). */
export type FormatOptions = Record<string, string | string[]>;

/** What `stage.json` holds for a named (or temporary) stage. */
export interface StageDefinition {
  database: string;
  schema: string;
  name: string;
  temporary: boolean;
  fileFormat: FormatOptions;
  comment: string | null;
  /** ISO timestamp. */
  createdOn: string;
}

/** A stage reference resolved to its directory. */
export interface ResolvedStage {
  /** Display form used in error messages, e.g. `@DB.PUBLIC.MY_STAGE` or `@~`. */
  display: string;
  /** Absolute directory holding the stage's files (no trailing slash). */
  filesDir: string;
  /** Prefix LIST/REMOVE/COPY show before a file's path: `my_stage/` for named stages, '' for `@~` and `@%t`. */
  listPrefix: string;
  /** Stage-level file format (empty for user and table stages). */
  fileFormat: FormatOptions;
}

/** A stage reference with its path, as written after `@`. */
export interface StageLocation {
  stage: ResolvedStage;
  /** Path inside the stage without a leading slash, e.g. `unload/job1/` or `data_` (may be ''). */
  path: string;
}

/** One file in a stage. */
export interface StageFile {
  /** Path relative to the stage root, with `/` separators. */
  rel: string;
  abs: string;
  size: number;
  mtime: Date;
}

const enc = (s: string): string => encodeURIComponent(s).replace(/\./g, '%2E');

export function stagesRoot(dataDir: string): string {
  return path.join(dataDir, 'stages');
}

function namedStageDir(dataDir: string, db: string, schema: string, name: string, tempSession?: string): string {
  return tempSession === undefined
    ? path.join(stagesRoot(dataDir), 'named', enc(db), enc(schema), enc(name))
    : path.join(stagesRoot(dataDir), 'temp', enc(tempSession), enc(db), enc(schema), enc(name));
}

/**
 * The file holding a named file format's definition; a temporary one lives in its session's temporary tree
 * and goes with it ({@link deleteSessionStages}). `.formats` cannot be an encoded database name (`.` is encoded).
 */
export function fileFormatPath(
  dataDir: string,
  db: string,
  schema: string,
  name: string,
  tempSession?: string,
): string {
  const root =
    tempSession === undefined
      ? path.join(stagesRoot(dataDir), 'formats')
      : path.join(stagesRoot(dataDir), 'temp', enc(tempSession), '.formats');
  return path.join(root, enc(db), enc(schema), `${enc(name)}.json`);
}

async function readDefinition(dir: string): Promise<StageDefinition | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'stage.json'), 'utf8')) as StageDefinition;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Find a named stage visible to the session: its temporary stage of that name first (temporary
 * objects shadow permanent ones), then the permanent one. Returns null when neither exists.
 */
export async function findNamedStage(
  ctx: StatementContext,
  rawName: string,
): Promise<{ dir: string; def: StageDefinition } | null> {
  const r = ctx.resolveName(rawName);
  for (const session of [ctx.session.id, undefined]) {
    const dir = namedStageDir(ctx.dataDir, r.database, r.schema, r.name, session);
    const def = await readDefinition(dir);
    if (def) return { dir, def };
  }
  return null;
}

/** Create a named stage directory and its definition (the caller checks for existence first). */
export async function writeNamedStage(ctx: StatementContext, def: StageDefinition): Promise<void> {
  const dir = namedStageDir(
    ctx.dataDir,
    def.database,
    def.schema,
    def.name,
    def.temporary ? ctx.session.id : undefined,
  );
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'files'), { recursive: true });
  await fs.writeFile(path.join(dir, 'stage.json'), JSON.stringify(def, null, 2));
}

/** Delete a named stage and its files. */
export async function deleteStageDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** Delete every temporary stage and file format a session created (Snowflake drops them when the session ends). */
export async function deleteSessionStages(dataDir: string, sessionId: string): Promise<void> {
  await fs.rm(path.join(stagesRoot(dataDir), 'temp', enc(sessionId)), { recursive: true, force: true });
}

/**
 * Resolve `@~[/path]`, a table stage `@[db.][schema.]%table[/path]` (also `@"S"."%T"`), or
 * `@[db.][schema.]name[/path]` (the text after `@`, with or without it); a quoted path segment
 * (`/"a b"/`) stands for its text. Throws 002003 when the stage (or the table of a table stage) does not exist, and
 * 001003 for paths with `.`/`..` segments.
 */
export async function resolveStageLocation(ref: string, ctx: StatementContext): Promise<StageLocation> {
  const text = ref.startsWith('@') ? ref.slice(1) : ref;
  const { name, rest } = splitName(text);
  const stagePath = normalisePath(rest);
  if (name === '~') {
    return {
      stage: {
        display: '@~',
        filesDir: path.join(stagesRoot(ctx.dataDir), 'user', 'files'),
        listPrefix: '',
        fileFormat: {},
      },
      path: stagePath,
    };
  }
  const table = tableStageName(name);
  if (table !== null) {
    const r = ctx.resolveName(table);
    await assertTableExists(ctx, r.duckdbName, `${r.database}.${r.schema}.${r.name}`);
    const filesDir = path.join(stagesRoot(ctx.dataDir), 'table', enc(r.database), enc(r.schema), enc(r.name), 'files');
    return { stage: { display: `@%${r.name}`, filesDir, listPrefix: '', fileFormat: {} }, path: stagePath };
  }
  const found = await findNamedStage(ctx, name);
  if (!found) {
    const r = ctx.resolveName(name);
    throw SfErrors.stageDoesNotExist(`${r.database}.${r.schema}.${r.name}`);
  }
  const { def, dir } = found;
  return {
    stage: {
      display: `@${def.database}.${def.schema}.${def.name}`,
      filesDir: path.join(dir, 'files'),
      listPrefix: `${def.name.toLowerCase()}/`,
      fileFormat: def.fileFormat,
    },
    path: stagePath,
  };
}

async function assertTableExists(ctx: StatementContext, duckdbName: string, display: string): Promise<void> {
  try {
    await ctx.session.conn.run(`SELECT 1 FROM ${duckdbName} LIMIT 0`);
  } catch {
    throw SfErrors.objectDoesNotExist(display);
  }
}

/** Split `db.s."My/Stage"/a/b` into the name (quotes kept, for resolveName) and the path after the first unquoted `/`. */
function splitName(text: string): { name: string; rest: string } {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') inQuotes = !inQuotes;
    else if (text[i] === '/' && !inQuotes) return { name: text.slice(0, i), rest: text.slice(i + 1) };
  }
  return { name: text, rest: '' };
}

/**
 * The table of a table stage name (`%t`, `s.%t`, `db.s.%t`, `"S"."%T"`), as a name resolveName reads
 * (`s.t`, `"S"."T"`), or null when `name` is not a table stage.
 */
function tableStageName(name: string): string | null {
  const parts = name.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [];
  const last = parts[parts.length - 1] ?? '';
  const table = last.startsWith('%') ? last.slice(1) : last.startsWith('"%') ? `"${last.slice(2)}` : null;
  return table === null ? null : [...parts.slice(0, -1), table].join('.');
}

function normalisePath(p: string): string {
  const unquoted = p
    .split('/')
    .map((seg) => (/^".*"$/.test(seg) ? seg.slice(1, -1).replace(/""/g, '"') : seg))
    .join('/');
  const cleaned = unquoted.replace(/^\/+/, '').replace(/\/{2,}/g, '/');
  if (cleaned.split('/').some((seg) => seg === '.' || seg === '..')) {
    throw SfErrors.syntax(`invalid stage path '${p}'.`);
  }
  return cleaned;
}

/** Every file of a stage, sorted by path. */
export async function listStageFiles(stage: ResolvedStage): Promise<StageFile[]> {
  const out: StageFile[] = [];
  const walk = async (dir: string, relDir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(abs, rel);
      else if (e.isFile()) {
        const st = await fs.stat(abs);
        out.push({ rel, abs, size: st.size, mtime: st.mtime });
      }
    }
  };
  await walk(stage.filesDir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * Compile Snowflake's PATTERN option: a regular expression that must match the whole path
 * (Snowflake anchors it, which is why its examples start with `.*`).
 */
export function compilePattern(pattern: string | undefined): RegExp | null {
  if (pattern === undefined) return null;
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    throw new SnowflakeError('100048', '2201B', `Invalid regular expression '${pattern}'`);
  }
}

/**
 * Files under a stage location: paths starting with `loc.path` (a string prefix, as in Snowflake's
 * LIST/GET/REMOVE) and, when given, whose path matches `pattern`. `patternBase` picks what the
 * pattern sees: the path relative to the stage root (LIST/GET/REMOVE) or relative to the location
 * path (COPY INTO <table>, which "trims the path from the location" before applying the pattern).
 */
export async function matchStageFiles(
  loc: StageLocation,
  pattern: RegExp | null,
  patternBase: 'stage' | 'location' = 'stage',
): Promise<StageFile[]> {
  const files = await listStageFiles(loc.stage);
  return files.filter((f) => {
    if (!f.rel.startsWith(loc.path)) return false;
    if (!pattern) return true;
    return pattern.test(patternBase === 'stage' ? f.rel : f.rel.slice(loc.path.length));
  });
}

const md5Cache = new Map<string, { size: number; mtimeMs: number; md5: string }>();

/** Hex MD5 of a stage file's bytes (cached by path, size and mtime). */
export async function fileMd5(file: StageFile): Promise<string> {
  const cached = md5Cache.get(file.abs);
  if (cached && cached.size === file.size && cached.mtimeMs === file.mtime.getTime()) return cached.md5;
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file.abs)) hash.update(chunk as Buffer);
  const md5 = hash.digest('hex');
  md5Cache.set(file.abs, { size: file.size, mtimeMs: file.mtime.getTime(), md5 });
  return md5;
}

/** Delete a stage file and the directories it leaves empty (up to the stage root). */
export async function removeStageFile(stage: ResolvedStage, file: StageFile): Promise<void> {
  await fs.rm(file.abs, { force: true });
  md5Cache.delete(file.abs);
  let dir = path.dirname(file.abs);
  while (dir.startsWith(stage.filesDir + path.sep)) {
    try {
      await fs.rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}
