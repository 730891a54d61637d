/**
 * Parse-tree analysis of a `POST /query` statement with DuckDB's own parser, so routing decides on the
 * statement DuckDB would run rather than on a token scan.
 *
 * DuckDB's `json_serialize_sql(text)` returns `{"error":false,"statements":[{"node":…}]}`: one entry per
 * statement, each a query node (`SELECT_NODE`, `SET_OPERATION_NODE`, `RECURSIVE_CTE_NODE`, `CTE_NODE`).
 * It serializes SELECT statements only; any other statement (ATTACH, COPY, SET, PRAGMA, INSTALL, …) comes
 * back as `{"error":true,"error_type":"not implemented"}` and a syntax error as `"error_type":"parser"`.
 * In the tree, expressions carry a `class` field; relations (DuckDB's "table refs") carry `type`, `alias`,
 * `sample` and `query_location` and no `class` or `modifiers`: `BASE_TABLE` (a name: a catalog table, a
 * CTE, or — when the name is a string literal such as `'x.csv'` — a replacement scan that reads a file),
 * `TABLE_FUNCTION`, `JOIN`, `SUBQUERY`, `EXPRESSION_LIST` (VALUES), `EMPTY` (no FROM), `PIVOT`, `SHOW_REF`
 * (DESCRIBE/SHOW/SUMMARIZE). `query_location` is a byte offset into the UTF-8 text (2^64-1 when unknown).
 *
 * {@link analyzeSelect} walks every object of the tree, so relations are found wherever they stand: FROM,
 * JOIN, subqueries, CTE bodies, UNION branches, scalar subqueries, EXISTS/IN, LATERAL. CTE names are
 * resolved the way DuckDB binds them: a WITH's CTEs are visible in its query; inside a CTE's body only the
 * CTEs defined before it (DuckDB binds a forward or self reference of a non-recursive CTE to a catalog
 * table), plus its own name when the body is a recursive UNION. Any doubt resolves to "a table", which
 * routing then checks against the caches: never the other way round.
 *
 * The parser runs on its own in-memory DuckDB instance with external access off and its configuration
 * locked (parsing needs neither files nor extensions); the SQL text is passed as a bound parameter of a
 * `json_serialize_sql` statement prepared once per parser connection and reused, one parse at a time.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { namePart, SqlScanError, tokenAt, type Token } from './sqlTokens.js';

/** A JSON object of the parse tree. */
export type TreeNode = { [key: string]: unknown };

/** A base-table reference that is not a CTE reference. */
export interface TableReference {
  /** Catalog, schema, table as written (DuckDB drops quotes; empty parts are not written). */
  catalog: string;
  schema: string;
  table: string;
  /** Alias as written, '' for none. */
  alias: string;
  /** Character offset of the name in the SQL text, or null when DuckDB did not record one. */
  offset: number | null;
  /** The tree node. */
  node: TreeNode;
}

/** A table function used as a relation (`FROM read_csv(…)`, `LATERAL flatten(…)`). */
export interface TableFunctionReference {
  /** Function name, lower-case, schema-qualified when written so (`lake.snapshots`). */
  name: string;
  offset: number | null;
}

/** What a SELECT reads. */
export interface SelectAnalysis {
  tables: TableReference[];
  tableFunctions: TableFunctionReference[];
  /**
   * Constructs that are refused wherever they stand, each a sentence naming it: file paths (a string
   * literal used as a table, which DuckDB reads through a replacement scan), DESCRIBE/SHOW, and relation
   * kinds this walker does not know.
   */
  refused: string[];
}

/** Outcome of {@link parseQuery}. */
export type ParsedQuery =
  | { ok: true; tree: TreeNode; analysis: SelectAnalysis }
  /** `not_select`: a statement other than SELECT; `syntax`: DuckDB cannot parse the text. */
  | { ok: false; reason: 'not_select' | 'syntax'; message: string };

/** Relation kinds that read nothing by themselves; their parts are walked. */
const COMPOSITE_RELATIONS = new Set(['JOIN', 'SUBQUERY', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT']);

const isObject = (v: unknown): v is TreeNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRelation = (v: TreeNode) =>
  typeof v.type === 'string' && 'query_location' in v && 'sample' in v && !('class' in v) && !('modifiers' in v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Character offset of a UTF-8 byte offset in `sql`, or null for DuckDB's "no location" (2^64-1). */
function charOffset(sql: string, location: unknown): number | null {
  if (typeof location !== 'number' || !Number.isSafeInteger(location)) return null;
  const bytes = Buffer.from(sql, 'utf8');
  if (location > bytes.length) return null;
  return bytes.subarray(0, location).toString('utf8').length;
}

/** CTE names a query node defines, in order, with whether each body is a recursive UNION of itself. */
function cteEntries(node: TreeNode): { name: string; body: unknown; recursive: boolean }[] {
  const map = isObject(node.cte_map) && Array.isArray(node.cte_map.map) ? node.cte_map.map : [];
  return map.filter(isObject).map((e) => {
    const name = str(e.key).toLowerCase();
    const body = isObject(e.value) && isObject(e.value.query) ? e.value.query.node : undefined;
    const recursive = isObject(body) && body.type === 'RECURSIVE_CTE_NODE' && str(body.cte_name).toLowerCase() === name;
    return { name, body, recursive };
  });
}

/**
 * Whether the text at `offset` is the identifier `name` (a quoted identifier with exactly that value, or a
 * word equal to it ignoring case) rather than a string literal with that value.
 */
function namedAt(sql: string, offset: number | null, name: string): boolean {
  if (offset === null || offset >= sql.length) return false;
  let t;
  try {
    t = tokenAt(sql, offset);
  } catch (err) {
    if (err instanceof SqlScanError) return false; // an unterminated quote: not an identifier
    throw err;
  }
  if (t.kind === 'qident') return namePart(t).value === name;
  return t.kind === 'word' && t.text.toLowerCase() === name.toLowerCase();
}

/** The refusal of a string literal used as a table (DuckDB reads it as a file: a replacement scan). */
export const filePathRefusal = (path: string): string =>
  `file path '${path}' (a string literal used as a table) is not allowed`;

/**
 * Every relation the parsed SELECT reads. `sql` is the text that was parsed (for offsets and to tell a
 * string literal from an identifier). Pure: throws nothing on unknown shapes (they are reported in
 * {@link SelectAnalysis.refused}).
 */
export function analyzeSelect(tree: TreeNode, sql: string): SelectAnalysis {
  const out: SelectAnalysis = { tables: [], tableFunctions: [], refused: [] };

  const relation = (r: TreeNode, scope: ReadonlySet<string>) => {
    const offset = charOffset(sql, r.query_location);
    switch (r.type) {
      case 'BASE_TABLE': {
        const table = str(r.table_name);
        const catalog = str(r.catalog_name);
        const schema = str(r.schema_name);
        // DuckDB accepts a string literal ('x', E'x', $$x$$) where a table name stands and reads it as a file.
        if (!namedAt(sql, offset, catalog || schema || table)) {
          out.refused.push(filePathRefusal(table));
        } else if (!catalog && !schema && scope.has(table.toLowerCase())) {
          // a CTE reference: reads what the CTE's body reads, which is walked where it is defined
        } else {
          out.tables.push({ catalog, schema, table, alias: str(r.alias), offset, node: r });
        }
        visit(r.at_clause, scope);
        return;
      }
      case 'TABLE_FUNCTION': {
        const fn = isObject(r.function) ? r.function : {};
        const name = [str(fn.catalog), str(fn.schema), str(fn.function_name)].filter(Boolean).join('.').toLowerCase();
        out.tableFunctions.push({ name, offset });
        visit(fn.children, scope);
        return;
      }
      case 'SHOW_REF':
        out.refused.push('DESCRIBE/SHOW/SUMMARIZE is not allowed');
        return;
      default:
        if (!COMPOSITE_RELATIONS.has(str(r.type))) {
          out.refused.push(`relation of kind ${str(r.type)} is not allowed`);
          return;
        }
        for (const v of Object.values(r)) visit(v, scope);
    }
  };

  const queryNode = (n: TreeNode, scope: ReadonlySet<string>) => {
    const ctes = cteEntries(n);
    const inner = new Set(scope);
    for (const c of ctes) {
      // The body sees earlier CTEs (and itself when recursive), not itself or later ones.
      visit(c.body, c.recursive ? new Set([...inner, c.name]) : inner);
      inner.add(c.name);
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'cte_map') visit(v, inner);
  };

  const visit = (v: unknown, scope: ReadonlySet<string>): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, scope);
    } else if (isObject(v)) {
      if (isRelation(v)) relation(v, scope);
      else if ('cte_map' in v) queryNode(v, scope);
      else for (const x of Object.values(v)) visit(x, scope);
    }
  };

  visit(tree, new Set());
  return out;
}

let parser: Promise<DuckDBInstance> | null = null;

/** The process's parser instance: in-memory, no external access, configuration locked. */
function parserInstance(): Promise<DuckDBInstance> {
  parser ??= DuckDBInstance.create(':memory:', {
    enable_external_access: 'false',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    lock_configuration: 'true',
  });
  return parser;
}

let tableOnly: Promise<ReadonlySet<string>> | null = null;

/**
 * Names DuckDB knows only as table functions (`read_csv`, `glob`, `query`, `duckdb_databases`, …; not
 * names that are also scalar or aggregate functions, such as `range`), lower-case, from DuckDB's own
 * `duckdb_functions()` catalog. Routing refuses calls of them anywhere in SQL DuckDB cannot parse.
 */
export function duckdbTableFunctionNames(): Promise<ReadonlySet<string>> {
  tableOnly ??= (async () => {
    const conn = await (await parserInstance()).connect();
    try {
      const r = await conn.runAndReadAll(
        `SELECT function_name FROM duckdb_functions() GROUP BY function_name HAVING bool_and(function_type = 'table')`,
      );
      return new Set(r.getRows().map((row) => String(row[0]).toLowerCase()));
    } finally {
      conn.closeSync();
    }
  })();
  return tableOnly;
}

/** A connection of the parser instance with `json_serialize_sql` prepared on it. */
interface Serializer {
  conn: DuckDBConnection;
  stmt: DuckDBPreparedStatement;
}

/**
 * Idle serializers. A prepared statement holds one set of bindings, so each serves one parse at a time:
 * a parse takes one (or prepares a new one) and gives it back when done. Preparing once per connection
 * instead of per parse saves about two thirds of a parse's time; a routed query parses twice.
 */
const idleSerializers: Serializer[] = [];
/** Idle serializers kept; more are closed when given back. */
const MAX_IDLE_SERIALIZERS = 4;

async function openSerializer(): Promise<Serializer> {
  const conn = await (await parserInstance()).connect();
  try {
    return { conn, stmt: await conn.prepare('SELECT json_serialize_sql($1::VARCHAR)') };
  } catch (err) {
    conn.closeSync();
    throw err;
  }
}

function closeSerializer(s: Serializer): void {
  s.stmt.destroySync();
  s.conn.closeSync();
}

/** `json_serialize_sql(sql)` on the parser instance, the text bound as a parameter (never run as SQL). */
async function serializeSql(sql: string): Promise<string> {
  const s = idleSerializers.pop() ?? (await openSerializer());
  let json: string;
  try {
    s.stmt.bindVarchar(1, sql);
    json = String((await s.stmt.runAndReadAll()).getRows()[0]?.[0] ?? '');
    s.stmt.clearBindings();
  } catch (err) {
    closeSerializer(s);
    throw err;
  }
  if (idleSerializers.length < MAX_IDLE_SERIALIZERS) idleSerializers.push(s);
  else closeSerializer(s);
  return json;
}

/**
 * Parse `sql` with DuckDB's parser. Exactly one SELECT statement yields its tree and analysis; a payload
 * of several statements yields `not_select` when any is not a SELECT, else `ok` with a tree of several
 * statements (see {@link statementCount}). Throws only when DuckDB itself fails.
 */
export async function parseQuery(sql: string): Promise<ParsedQuery> {
  const json = await serializeSql(sql);
  // For some statements it cannot parse (a syntax error at a token of thousands of characters),
  // json_serialize_sql answers an empty string instead of its error object: a syntax error all the same.
  if (json === '') return { ok: false, reason: 'syntax', message: 'DuckDB could not parse the statement' };
  // Integers beyond 2^53 (constants, "no location" markers) lose precision here: the tree is only read.
  const parsed = JSON.parse(json) as TreeNode;
  if (parsed.error === true) {
    return {
      ok: false,
      reason: parsed.error_type === 'parser' ? 'syntax' : 'not_select',
      message: str(parsed.error_message),
    };
  }
  return { ok: true, tree: parsed, analysis: analyzeSelect(parsed, sql) };
}

/** Number of statements of a parsed payload. */
export function statementCount(tree: TreeNode): number {
  return Array.isArray(tree.statements) ? tree.statements.length : 0;
}

/** Where a base-table reference stands in the SQL text (character offsets). */
export interface ReferenceExtent {
  /** The name (one token: a word or a quoted identifier; only one-part names are located). */
  start: number;
  end: number;
  /** After the alias and its column list (`t AS x(a, b)`), where DuckDB wants `AT (VERSION => n)`. */
  aliasEnd: number;
}

/**
 * Extent of a one-part base-table reference, read from the tokens at its parse-tree location: the name,
 * then — when the tree records an alias — `[AS] alias [(columns)]`. Null when the reference has no
 * location or more than one name part.
 */
export function referenceExtent(sql: string, ref: TableReference): ReferenceExtent | null {
  if (ref.offset === null || ref.catalog || ref.schema) return null;
  /** The next token that is not whitespace or a comment, from offset p (none past a lexical error). */
  const next = (p: number): Token | undefined => {
    try {
      for (let q = p; q < sql.length;) {
        const t = tokenAt(sql, q);
        if (t.kind !== 'ws') return t;
        q = t.end;
      }
    } catch (err) {
      if (!(err instanceof SqlScanError)) throw err;
    }
    return undefined;
  };
  const isName = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'qident';
  const name = next(ref.offset);
  if (!isName(name)) return null;
  let last = name!;
  if (ref.alias) {
    const t = next(last.end);
    const afterAs = t && /^as$/i.test(t.text) ? next(t.end) : undefined;
    last = (isName(afterAs) ? afterAs : t) ?? last;
    const open = next(last.end);
    if (open?.text === '(' && Array.isArray(ref.node.column_name_alias) && ref.node.column_name_alias.length) {
      for (let t2: Token | undefined = open, depth = 0; t2; t2 = next(t2.end)) {
        if (t2.text === '(') depth++;
        else if (t2.text === ')' && --depth === 0) {
          last = t2;
          break;
        }
      }
    }
  }
  return { start: name!.start, end: name!.end, aliasEnd: last.end };
}
