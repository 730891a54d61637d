/**
 * Table references of a SQL query, found on tokens (never on raw text, so string literals, quoted
 * identifiers and comments are never mistaken for names). Used to derive a cache's monitored tables
 * from its Snowflake query.
 *
 * What counts as a table reference: the name after `FROM` / `JOIN` (and each item of a comma list after
 * `FROM`) at the top level or directly inside a subquery's parentheses — not inside a function call's
 * parentheses (`EXTRACT(YEAR FROM d)`, `TRIM(BOTH FROM s)`), not after `IS [NOT] DISTINCT FROM`, not
 * a CTE's own name. A name followed by `(` is a table function (`TABLE(...)`, `read_csv(...)`) and a
 * string literal is a file path (DuckDB's replacement scan): both reported separately
 * ({@link QueryRefs.functions}, {@link QueryRefs.paths}) so routing can refuse them. `POST /query` decides
 * on DuckDB's parse tree (sqlTree.ts); it uses this scan only for Snowflake SQL DuckDB cannot parse.
 *
 * Limits (documented, tested): no full SQL grammar — a query the scanner cannot follow yields the
 * references it could see; unbalanced parentheses or unterminated quotes throw {@link SqlScanError}.
 */
import { isName, isOp, isWord, namePart, SqlScanError, tokenize, type NamePart } from './sqlTokens.js';

/** A table reference found in the query. */
export interface TableRef {
  parts: NamePart[];
  /** Character offsets of the whole (possibly dotted) name in the SQL text. */
  start: number;
  end: number;
  /** An alias follows the name (`t x`, `t AS x`). */
  hasAlias: boolean;
  /** Character offset after the name and its alias (where DuckDB wants `AT (VERSION => n)`). */
  aliasEnd: number;
}

/** References of a query. */
export interface QueryRefs {
  tables: TableRef[];
  /** Names used as table functions after FROM/JOIN (e.g. `read_parquet`, `TABLE`), upper-cased. */
  functions: string[];
  /** String literals used as a FROM/JOIN item (DuckDB reads them as files), without their quotes. */
  paths: string[];
  /** Names defined by WITH (upper-cased when unquoted). */
  ctes: string[];
  /** Number of statements (a trailing `;` does not count). */
  statements: number;
  /** First keyword of the first statement, upper-cased (`SELECT`, `WITH`, ...). */
  firstKeyword: string | null;
}

// Words that end a FROM item (cannot be an alias).
const NOT_ALIAS = new Set([
  'WHERE',
  'GROUP',
  'ORDER',
  'HAVING',
  'LIMIT',
  'OFFSET',
  'QUALIFY',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'MINUS',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'OUTER',
  'CROSS',
  'NATURAL',
  'ON',
  'USING',
  'WINDOW',
  'FETCH',
  'AT',
  'BEFORE',
  'CHANGES',
  'SAMPLE',
  'TABLESAMPLE',
  'PIVOT',
  'UNPIVOT',
  'MATCH_RECOGNIZE',
  'ASOF',
  'POSITIONAL',
  'LATERAL',
  'SEMI',
  'ANTI',
  'FOR',
  'SELECT',
  'FROM',
  'WITH',
  'VALUES',
  'INTO',
  'SET',
  'RETURNING',
  'CONNECT',
  'START',
]);

/**
 * Find the table references of `sql`. Throws {@link SqlScanError} on unterminated quotes or unbalanced
 * parentheses.
 */
export function extractRefs(sql: string): QueryRefs {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws');
  const tables: TableRef[] = [];
  const functions: string[] = [];
  const paths: string[] = [];
  const ctes: string[] = [];
  // Paren stack: `query` = a subquery / grouping paren (FROM inside counts), else a call or list;
  // `open` = token index of the paren.
  const stack: { query: boolean; open: number }[] = [];
  // Open parens of table functions in a FROM list: after their `)` the list goes on.
  const functionArgs = new Set<number>();
  let statements = 0;
  let sawToken = false;
  let firstKeyword: string | null = null;

  const readName = (p: number): { parts: NamePart[]; next: number } | null => {
    if (!isName(toks[p])) return null;
    const parts = [namePart(toks[p]!)];
    let q = p + 1;
    while (isOp(toks[q], '.') && isName(toks[q + 1])) {
      parts.push(namePart(toks[q + 1]!));
      q += 2;
    }
    return { parts, next: q };
  };

  /** Parse one FROM item at p; returns the index after it (and its alias). */
  const fromItem = (p: number): number => {
    let q = p;
    if (isWord(toks[q], 'LATERAL')) q++;
    if (isOp(toks[q], '(')) return q; // subquery or grouped join: the main loop handles the paren
    if (toks[q]?.kind === 'string') {
      paths.push(toks[q]!.text.slice(1, -1));
      return q + 1;
    }
    const name = readName(q);
    if (!name || isWord(toks[q], ...NOT_ALIAS)) return q;
    if (isOp(toks[name.next], '(')) {
      functions.push(name.parts.map((x) => (x.quoted ? x.value : x.value.toUpperCase())).join('.'));
      functionArgs.add(name.next);
      return name.next;
    }
    const after = skipAlias(name.next);
    tables.push({
      parts: name.parts,
      start: toks[q]!.start,
      end: toks[name.next - 1]!.end,
      hasAlias: after > name.next,
      aliasEnd: toks[after - 1]!.end,
    });
    return after;
  };

  /** Index after an optional alias at p (`AS x`, `x`, `"x"`). */
  const skipAlias = (p: number): number => {
    if (isWord(toks[p], 'AS') && isName(toks[p + 1])) return p + 2;
    if (toks[p]?.kind === 'qident' || (toks[p]?.kind === 'word' && !NOT_ALIAS.has(toks[p]!.text.toUpperCase())))
      return p + 1;
    return p;
  };

  /** Read FROM items from p on while a comma follows; returns the index after the last one. */
  const fromList = (p: number): number => {
    let q = p;
    while (isOp(toks[q], ',')) q = fromItem(q + 1);
    return q;
  };

  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (!sawToken && !isOp(t, ';')) {
      sawToken = true;
      statements++;
      if (t.kind === 'word') firstKeyword = firstKeyword ?? t.text.toUpperCase();
      else if (isOp(t, '(')) firstKeyword = firstKeyword ?? '(';
    }
    if (isOp(t, ';')) {
      if (stack.length) throw new SqlScanError('unbalanced parentheses before ;');
      sawToken = false;
      continue;
    }
    if (isOp(t, '(')) {
      const nx = toks[i + 1];
      const prev = toks[i - 1];
      // A paren opens a subquery/grouping when it holds SELECT/WITH/(…, or follows FROM/JOIN/AS/,(in FROM)/start.
      stack.push({
        query:
          isWord(nx, 'SELECT', 'WITH', 'VALUES') || isOp(nx, '(') || isWord(prev, 'FROM', 'JOIN') || prev === undefined,
        open: i,
      });
      continue;
    }
    if (isOp(t, ')')) {
      if (!stack.length) throw new SqlScanError('unbalanced parentheses: unexpected )');
      // The end of a table function's arguments: its alias and the rest of the FROM list follow.
      if (functionArgs.has(stack.pop()!.open)) i = fromList(skipAlias(i + 1)) - 1;
      continue;
    }
    const inQuery = stack.length === 0 || stack[stack.length - 1]!.query;
    if (isWord(t, 'WITH') && inQuery) {
      // WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] ( ... ) [, ...]
      let q = i + 1;
      if (isWord(toks[q], 'RECURSIVE')) q++;
      for (;;) {
        if (!isName(toks[q])) break;
        const p = namePart(toks[q]!);
        ctes.push(p.quoted ? p.value : p.value.toUpperCase());
        q++;
        if (isOp(toks[q], '(')) {
          let depth = 0;
          for (; q < toks.length; q++) {
            if (isOp(toks[q], '(')) depth++;
            else if (isOp(toks[q], ')') && --depth === 0) {
              q++;
              break;
            }
          }
        }
        if (!isWord(toks[q], 'AS')) break;
        q++;
        while (isWord(toks[q], 'NOT', 'MATERIALIZED')) q++;
        if (!isOp(toks[q], '(')) break;
        let depth = 0;
        let r = q;
        for (; r < toks.length; r++) {
          if (isOp(toks[r], '(')) depth++;
          else if (isOp(toks[r], ')') && --depth === 0) break;
        }
        if (!isOp(toks[r + 1], ',')) break;
        q = r + 2;
      }
      continue;
    }
    if (!inQuery) continue;
    if (isWord(t, 'FROM') && !isWord(toks[i - 1], 'DISTINCT')) {
      i = fromList(fromItem(i + 1)) - 1;
    } else if (isWord(t, 'JOIN')) {
      i = fromItem(i + 1) - 1;
    }
  }
  if (stack.length) throw new SqlScanError('unbalanced parentheses: missing )');
  const cteSet = new Set(ctes);
  const filtered = tables.filter((r) => {
    if (r.parts.length !== 1) return true;
    const p = r.parts[0]!;
    return !cteSet.has(p.quoted ? p.value : p.value.toUpperCase());
  });
  return { tables: filtered, functions, paths, ctes, statements, firstKeyword };
}

/** A fully qualified Snowflake table: each part exactly as Snowflake stores it. */
export interface QualifiedTable {
  database: string;
  schema: string;
  table: string;
}

/** `DB.SCHEMA.TABLE` display/storage form; parts that need quoting are double-quoted. */
export function formatQualified(t: QualifiedTable): string {
  const q = (s: string) => (/^[A-Z_][A-Z0-9_$]*$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`);
  return `${q(t.database)}.${q(t.schema)}.${q(t.table)}`;
}

/** Snowflake folding: unquoted parts upper-case, quoted parts as written. */
function fold(p: NamePart): string {
  return p.quoted ? p.value : p.value.toUpperCase();
}

/**
 * Qualify a Snowflake name (1–3 parts) with the default database/schema, folding unquoted parts to upper
 * case (Snowflake identifier rules). Throws {@link SqlScanError} when a part is missing and no default exists.
 */
export function qualify(parts: NamePart[], defaults: { database?: string; schema?: string }): QualifiedTable {
  if (parts.length < 1 || parts.length > 3)
    throw new SqlScanError(`table name must have 1 to 3 parts: ${parts.map((p) => p.value).join('.')}`);
  const f = parts.map(fold);
  const [database, schema, table] =
    f.length === 3 ? f : f.length === 2 ? [defaults.database, f[0], f[1]] : [defaults.database, defaults.schema, f[0]];
  if (!database || !schema) {
    throw new SqlScanError(
      `table ${parts.map((p) => p.value).join('.')} is not fully qualified and the source has no default ${database ? 'schema' : 'database'}; name it as DB.SCHEMA.TABLE`,
    );
  }
  return { database, schema: schema!, table: table! };
}

/**
 * Parse `DB.SCHEMA.TABLE` (parts may be double-quoted) into a {@link QualifiedTable}. Exactly three parts
 * are required: the schema is never guessed (same-named tables in two schemas stay apart).
 * Throws {@link SqlScanError}.
 */
export function parseQualifiedName(text: string): QualifiedTable {
  const toks = tokenize(text).filter((t) => t.kind !== 'ws');
  const parts: NamePart[] = [];
  for (let i = 0; i < toks.length; i++) {
    if (i % 2 === 0) {
      if (!isName(toks[i])) throw new SqlScanError(`'${text}' is not a table name (DB.SCHEMA.TABLE)`);
      parts.push(namePart(toks[i]!));
    } else if (!isOp(toks[i], '.')) throw new SqlScanError(`'${text}' is not a table name (DB.SCHEMA.TABLE)`);
  }
  if (parts.length !== 3 || toks.length % 2 === 0)
    throw new SqlScanError(`'${text}' must be fully qualified as DB.SCHEMA.TABLE`);
  return qualify(parts, {});
}

/**
 * Replace slices of `sql` (non-overlapping, by character offsets). Used to add `AT (VERSION => n)` after
 * cache names and to inline caches' source queries for passthrough.
 */
export function replaceSlices(sql: string, edits: { start: number; end: number; text: string }[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    out += sql.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + sql.slice(at);
}
