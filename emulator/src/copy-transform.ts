/**
 * COPY INTO <table> FROM (SELECT ... FROM @stage [alias]): a load with a transformation (Snowflake doc:
 * "Transforming data during a load"). The select list names the staged files' fields: `$n` is the n-th
 * field of a CSV row (text), `$1:name` the field `name` of a Parquet row (matched exactly, a missing one
 * is NULL; `$1:a.b[0]` walks into it as a VARIANT path); an alias may qualify them (`t.$1:name`). Any
 * Snowflake expression around them (casts, functions, `::type`) goes through the query translator, so the
 * transformation obeys the same sandbox as a query. Only the select list and the stage are read: a
 * transformation takes no WHERE, JOIN or GROUP BY in Snowflake either. A whole Parquet row (`$1` alone) is
 * not emulated (002040).
 */
import type { StatementContext } from './contract.js';
import { SfErrors, SnowflakeError } from './errors.js';
import { sqlIdent, queryRows } from './stage-format.js';
import {
  splitTop,
  identValue,
  isWord,
  quoteIdent,
  significant,
  stringValue,
  tokenize,
  type Token,
} from './sql/tokenizer.js';

/** A parsed transformation: its select items (tokens) and the stage location text it reads. */
export interface Transform {
  items: Token[][];
  location: string;
}

/** Parses the text inside `FROM ( ... )`: `SELECT items FROM @stage[/path] [[AS] alias]`. Throws 001003/002040. */
export function parseTransform(text: string): Transform {
  const t = significant(tokenize(text));
  if (!isWord(t[0], 'SELECT')) throw SfErrors.syntax(`unexpected '${t[0]?.text ?? '<EOF>'}'.`);
  let depth = 0;
  const from = t.findIndex((tok) => {
    if (tok.text === '(') depth++;
    if (tok.text === ')') depth--;
    return depth === 0 && isWord(tok, 'FROM');
  });
  // The stage may be written quoted, `FROM '@"DB"."S"."My Stage"/path'` (the Python connector's write_pandas does).
  const loc = t[from + 1];
  const location = loc?.kind === 'stageref' ? loc.text : loc?.kind === 'string' ? stringValue(loc) : '';
  if (!location.startsWith('@')) throw SfErrors.syntax(`expecting a stage after FROM.`);
  const rest = t.slice(from + 2).filter((tok) => !isWord(tok, 'AS'));
  if (rest.length > 1 || (rest.length === 1 && rest[0].kind !== 'word' && rest[0].kind !== 'qident'))
    throw SfErrors.unsupported('COPY transformation clauses other than SELECT list and FROM @stage [alias]');
  return { items: splitTop(t.slice(1, from)), location };
}

/**
 * The DuckDB relation of a transformation over `reader` (read_csv/read_parquet with `filename = true`): its
 * columns are the select items in order, named `__v0`, `__v1`, ..., then `filename`. `csvFields` says how
 * the reader names CSV fields (`c0`, `c1`, ...) and is null for Parquet. Throws 002020 when the select list
 * and the target columns differ in number.
 */
export async function transformSource(
  ctx: StatementContext,
  transform: Transform,
  reader: (csvFieldCount: number) => string,
  parquet: boolean,
  targetCount: number,
): Promise<string> {
  if (transform.items.length !== targetCount)
    throw new SnowflakeError(
      '002020',
      '21S01',
      `SQL compilation error:\nInsert value list does not match column list expecting ${targetCount} but got ${transform.items.length}`,
    );
  const fieldCount = Math.max(0, ...transform.items.flat().map((tok, k, all) => fieldNumber(all, k) ?? 0));
  const source = reader(fieldCount);
  const fileColumns = parquet
    ? (await queryRows(ctx.session.conn, `DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r[0]))
    : [];
  // The reader's fields renamed to what the rewritten items name: Parquet fields by their own names, CSV
  // field n as __FIELD_n (quoteIdent gives DuckDB's spelling of the Snowflake name the translator resolves).
  const renamed = parquet
    ? fileColumns.filter((c) => c !== 'filename').map((c) => `${sqlIdent(c)} AS ${quoteIdent(c)}`)
    : Array.from({ length: fieldCount }, (_, k) => `${sqlIdent(`c${k}`)} AS ${quoteIdent(`__FIELD_${k + 1}`)}`);
  const items = transform.items.map((item) => rewriteFields(item, parquet, new Set(fileColumns)));
  const query = await ctx.translateQuery(`SELECT ${[...items, 'FILENAME'].join(', ')}`);
  const names = [...transform.items.map((_, k) => `__v${k}`), 'filename'];
  return `(${query} FROM (SELECT ${[...renamed, 'filename'].join(', ')} FROM ${source})) AS __transform(${names.join(', ')})`;
}

/** n when `tokens[k]` starts a field reference `$n`, else undefined. */
function fieldNumber(tokens: Token[], k: number): number | undefined {
  return tokens[k].text === '$' && tokens[k + 1]?.kind === 'number' ? Number(tokens[k + 1].text) : undefined;
}

/** One select item as Snowflake SQL with `[alias.]$n` and `[alias.]$1:field` replaced by the renamed reader columns. */
function rewriteFields(item: Token[], parquet: boolean, fileColumns: Set<string>): string {
  const out: string[] = [];
  for (let k = 0; k < item.length; k++) {
    const n = fieldNumber(item, k);
    if (n === undefined) {
      // `alias.` before a field reference is dropped: the transformation reads one stage.
      if (item[k + 1]?.text === '.' && fieldNumber(item, k + 2) !== undefined) k++;
      else out.push(item[k].text);
      continue;
    }
    k++;
    if (!parquet) {
      out.push(`__FIELD_${n}`);
      continue;
    }
    const field = item[k + 2];
    if (n !== 1 || item[k + 1]?.text !== ':' || (field?.kind !== 'word' && field?.kind !== 'qident'))
      throw SfErrors.unsupported('a Parquet field other than $1:<name> in a COPY transformation');
    const name = field.kind === 'word' ? field.text : identValue(field);
    k += 2;
    if (!fileColumns.has(name)) {
      out.push('NULL');
      continue;
    }
    out.push(`"${name.replace(/"/g, '""')}"`);
    // A path into the field continues as a VARIANT path on its column: `$1:a.b` reads `"a":b`.
    if (item[k + 1]?.text === '.') {
      out.push(':');
      k++;
    }
  }
  return out.join(' ');
}
