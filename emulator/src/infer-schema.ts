/**
 * `TABLE(INFER_SCHEMA(LOCATION => '@stage[/path]', FILE_FORMAT => '<named file format>' [, FILES => 'f' | ('f', ..)]
 * [, IGNORE_CASE => TRUE | FALSE]))` (Snowflake doc: INFER_SCHEMA): the column definitions of staged Parquet
 * files, one row per column: COLUMN_NAME, TYPE (a Snowflake type: NUMBER(p, s), REAL, TEXT, BOOLEAN, DATE,
 * TIME(n), TIMESTAMP_NTZ(n), TIMESTAMP_LTZ(n), BINARY, ARRAY, OBJECT, VARIANT), NULLABLE, EXPRESSION
 * (`$1:"name"::TYPE`, what a COPY transformation selects), FILENAMES and ORDER_ID. The Python connector's
 * write_pandas reads it to create a table for a DataFrame. The files' schemas are read by DuckDB and merged by
 * name. Only Parquet is inferred (CSV needs PARSE_HEADER, JSON is not a load format here): others are 002040.
 */
import type { StatementContext } from './contract.js';
import { SfErrors } from './errors.js';
import { findFileFormat } from './file-formats.js';
import { interpretFormat, queryRows, sqlString } from './stage-format.js';
import { matchStageFiles, resolveStageLocation } from './stage-store.js';
import { identValue, isWord, quoteIdent, stringValue, type Token, splitTop } from './sql/tokenizer.js';

/** The result columns of INFER_SCHEMA, in Snowflake's order, with their DuckDB types. */
const COLUMNS: [string, string][] = [
  ['COLUMN_NAME', 'VARCHAR'],
  ['TYPE', 'VARCHAR'],
  ['NULLABLE', 'BOOLEAN'],
  ['EXPRESSION', 'VARCHAR'],
  ['FILENAMES', 'VARCHAR'],
  ['ORDER_ID', 'BIGINT'],
];

/**
 * The DuckDB relation (a parenthesised SELECT) answering one INFER_SCHEMA call, from its argument tokens (the
 * significant tokens between its parentheses, binds substituted). Throws 002003 for a missing stage or file
 * format, 001003 for a malformed argument, 002040 for a format other than Parquet.
 */
export async function inferSchemaRelation(ctx: StatementContext, args: Token[]): Promise<string> {
  const named = new Map<string, Token[]>();
  for (const arg of splitTop(args)) {
    if (arg[0]?.kind !== 'word' || arg[1]?.text !== '=>') throw SfErrors.syntax(`unexpected '${arg[0]?.text ?? ')'}'.`);
    named.set(arg[0].text.toUpperCase(), arg.slice(2));
  }
  const location = named.get('LOCATION');
  const formatName = named.get('FILE_FORMAT');
  if (!location || !formatName) throw SfErrors.syntax('INFER_SCHEMA needs LOCATION and FILE_FORMAT.');
  const def = await findFileFormat(ctx, text(formatName));
  if (!def) throw SfErrors.objectDoesNotExist(text(formatName));
  const format = interpretFormat(def.options);
  if (format.type !== 'PARQUET') throw SfErrors.unsupported(`INFER_SCHEMA of ${format.type} files`);
  const ignoreCase = named.has('IGNORE_CASE') && isWord(named.get('IGNORE_CASE')![0], 'TRUE');

  const loc = await resolveStageLocation(text(location), ctx);
  const only = named.has('FILES') ? new Set(texts(named.get('FILES')!)) : null;
  const files = (await matchStageFiles(loc, null, 'location')).filter(
    (f) => !only || only.has(f.rel.slice(loc.path.length)),
  );
  if (files.length === 0) return empty();
  const reader = `read_parquet([${files.map((f) => sqlString(f.abs)).join(', ')}], union_by_name = true, binary_as_string = ${format.binaryAsText})`;
  const schema = await queryRows(ctx.session.conn, `DESCRIBE SELECT * FROM ${reader}`);
  const fileNames = files.map((f) => loc.stage.listPrefix + f.rel).join(', ');
  const rows = schema.map((r, k) => {
    const name = ignoreCase ? String(r[0]).toUpperCase() : String(r[0]);
    const type = snowflakeType(String(r[1]));
    const expression = `$1:"${name.replace(/"/g, '""')}"::${type}`;
    return `(${[sqlString(name), sqlString(type), 'TRUE', sqlString(expression), sqlString(fileNames), k].join(', ')})`;
  });
  const names = COLUMNS.map(([n]) => quoteIdent(n)).join(', ');
  return `(SELECT * FROM (VALUES ${rows.join(', ')}) AS __infer_schema(${names}))`;
}

/** INFER_SCHEMA over no files: no rows, the result's columns and types. */
function empty(): string {
  return `(SELECT ${COLUMNS.map(([n, t]) => `CAST(NULL AS ${t}) AS ${quoteIdent(n)}`).join(', ')} WHERE false)`;
}

/** The text of a string argument: a literal, or a bound value (a `raw` DuckDB literal). */
function text(tokens: Token[]): string {
  const t = tokens[0];
  if (tokens.length === 1 && t.kind === 'string') return stringValue(t);
  if (tokens.length === 1 && t.kind === 'raw' && /^'.*'$/s.test(t.text)) return t.text.slice(1, -1).replace(/''/g, "'");
  if (tokens.length >= 1 && (t.kind === 'word' || t.kind === 'qident'))
    return tokens.map((x) => (x.kind === 'qident' ? `"${identValue(x).replace(/"/g, '""')}"` : x.text)).join('');
  throw SfErrors.syntax(`unexpected '${t?.text ?? ')'}'.`);
}

/** One string argument or a parenthesised list of them. */
function texts(tokens: Token[]): string[] {
  if (tokens[0]?.text !== '(') return [text(tokens)];
  return splitTop(tokens.slice(1, -1)).map(text);
}

/** The Snowflake type INFER_SCHEMA reports for a DuckDB type read from a Parquet schema. */
function snowflakeType(duckdbType: string): string {
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(duckdbType);
  if (decimal) return `NUMBER(${decimal[1]}, ${decimal[2]})`;
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(duckdbType)) return 'NUMBER(38, 0)';
  if (duckdbType.endsWith('[]')) return 'ARRAY';
  if (/^(STRUCT|MAP)\(/.test(duckdbType)) return 'OBJECT';
  const scalar: Record<string, string> = {
    FLOAT: 'REAL',
    DOUBLE: 'REAL',
    VARCHAR: 'TEXT',
    BOOLEAN: 'BOOLEAN',
    DATE: 'DATE',
    TIME: 'TIME(6)',
    BLOB: 'BINARY',
    TIMESTAMP_S: 'TIMESTAMP_NTZ(0)',
    TIMESTAMP_MS: 'TIMESTAMP_NTZ(3)',
    TIMESTAMP: 'TIMESTAMP_NTZ(6)',
    TIMESTAMP_NS: 'TIMESTAMP_NTZ(9)',
    'TIMESTAMP WITH TIME ZONE': 'TIMESTAMP_LTZ(6)',
  };
  return scalar[duckdbType] ?? 'VARIANT';
}
