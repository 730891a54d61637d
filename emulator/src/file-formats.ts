/**
 * Named file formats (Snowflake docs: CREATE FILE FORMAT, DROP FILE FORMAT): a name for a set of format
 * options, stored as JSON (stage-store.ts {@link fileFormatPath}). Temporary ones belong to the session that
 * created them, shadow a permanent one of the same name and are deleted when it ends. They are read where
 * Snowflake takes a format name: `FILE_FORMAT => 'name'` of INFER_SCHEMA (infer-schema.ts).
 * The options are those FILE_FORMAT = (...) accepts (stage-format.ts); others are refused with 002040.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StatementContext, StatementOutcome } from './contract.js';
import { SfErrors } from './errors.js';
import { status, StatementType } from './columns.js';
import { copyOption, formatOptionsFrom, interpretFormat } from './stage-format.js';
import type { TokenStream } from './stage-lexer.js';
import { fileFormatPath, type FormatOptions } from './stage-store.js';

/** What a named file format's JSON file holds. */
export interface FileFormatDefinition {
  database: string;
  schema: string;
  name: string;
  temporary: boolean;
  /** Upper-case option keys, TYPE included (CSV when the statement names none). */
  options: FormatOptions;
  comment: string | null;
  /** ISO timestamp. */
  createdOn: string;
}

/** True when the stream (on CREATE or DROP) is a file format statement. */
export function isFileFormatStatement(ts: TokenStream): boolean {
  for (let k = 1; k < 4; k++) {
    const t = ts.peek(k);
    if (t?.kind === 'word' && t.text.toUpperCase() === 'FILE') return ts.peek(k + 1)?.text.toUpperCase() === 'FORMAT';
  }
  return false;
}

/**
 * `CREATE [OR REPLACE] [TEMP[ORARY]] FILE FORMAT [IF NOT EXISTS] name [TYPE = CSV | PARQUET] [<format options>]
 * [COMMENT = '...']`. Throws 002002 when it exists (without OR REPLACE / IF NOT EXISTS), 002040 for options the
 * emulator cannot honour.
 */
export async function createFileFormat(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('CREATE');
  const orReplace = ts.acceptWords('OR', 'REPLACE');
  const temporary = ts.acceptWords('TEMPORARY') || ts.acceptWords('TEMP');
  ts.expectWords('FILE', 'FORMAT');
  const ifNotExists = ts.acceptWords('IF', 'NOT', 'EXISTS');
  if (orReplace && ifNotExists) throw SfErrors.syntax("line 1 at position 0 unexpected 'IF'.");
  const rawName = ts.objectName();
  const all = ts.options();
  const comment = copyOption(all, 'COMMENT') ?? null;
  all.delete('COMMENT');
  const options = formatOptionsFrom({ kind: 'group', options: all });
  interpretFormat(options);
  const r = ctx.resolveName(rawName);
  const existing = await findFileFormat(ctx, rawName);
  if (existing && existing.temporary === temporary) {
    if (ifNotExists) return done(`${r.name} already exists, statement succeeded.`);
    if (!orReplace) throw SfErrors.alreadyExists(r.name);
  }
  const def: FileFormatDefinition = {
    database: r.database,
    schema: r.schema,
    name: r.name,
    temporary,
    options: { TYPE: 'CSV', ...options },
    comment,
    createdOn: new Date().toISOString(),
  };
  const file = fileFormatPath(ctx.dataDir, r.database, r.schema, r.name, temporary ? ctx.session.id : undefined);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify(def, null, 2));
  return done(`File format ${r.name} successfully created.`);
}

/** `DROP FILE FORMAT [IF EXISTS] name`: the session's temporary one of that name first, else the permanent one. */
export async function dropFileFormat(ts: TokenStream, ctx: StatementContext): Promise<StatementOutcome> {
  ts.expectWords('DROP', 'FILE', 'FORMAT');
  const ifExists = ts.acceptWords('IF', 'EXISTS');
  const rawName = ts.objectName();
  if (!ts.atEnd()) ts.fail();
  const r = ctx.resolveName(rawName);
  const found = await findFileFormat(ctx, rawName);
  if (!found) {
    if (ifExists) return done(`Drop statement executed successfully (${r.name} already dropped).`);
    throw SfErrors.objectDoesNotExist(`${r.database}.${r.schema}.${r.name}`);
  }
  const session = found.temporary ? ctx.session.id : undefined;
  await fs.rm(fileFormatPath(ctx.dataDir, r.database, r.schema, r.name, session), { force: true });
  return done(`${r.name} successfully dropped.`);
}

/** The named file format `rawName` resolves to (the session's temporary one first), or null. */
export async function findFileFormat(ctx: StatementContext, rawName: string): Promise<FileFormatDefinition | null> {
  const r = ctx.resolveName(rawName);
  for (const session of [ctx.session.id, undefined]) {
    try {
      const text = await fs.readFile(fileFormatPath(ctx.dataDir, r.database, r.schema, r.name, session), 'utf8');
      return JSON.parse(text) as FileFormatDefinition;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return null;
}

function done(message: string): StatementOutcome {
  return status(message, StatementType.DDL);
}
