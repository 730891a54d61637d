/**
 * What a `POST /query` statement reads, and what it may never do: the planning half of query routing
 * (queryRouter.ts runs the plan). Decided on DuckDB's parse tree of the statement (sqlTree.ts):
 *
 * - Refused with 422 `sql_not_allowed`, naming the construct, before any route: anything but exactly one
 *   SELECT (ATTACH, COPY, INSTALL/LOAD, SET, PRAGMA, multi-statement payloads, …), a file path (a string
 *   literal used as a table, which DuckDB reads through a replacement scan), DESCRIBE/SHOW, and every table
 *   function except Snowflake's own {@link SNOWFLAKE_TABLE_FUNCTIONS} — wherever it stands (FROM, JOIN,
 *   subquery, CTE, UNION branch, scalar subquery, EXISTS, LATERAL).
 * - Snowflake SQL that DuckDB cannot parse (`TABLE(FLATTEN(…))`, `CONNECT BY`, …) is judged on floe's
 *   token scan (sqlRefs.ts): refused when it holds several statements, uses a file path or a
 *   non-Snowflake table function in a FROM list, or calls a DuckDB table function anywhere; otherwise it
 *   may pass through (the scan cannot see every construct of a grammar it does not have: past that,
 *   Snowflake's — or the emulator's — own rules decide).
 * - A query that runs on the lake is rewritten ({@link lakeStatement}) and the rewrite checked again.
 */
import { quoteDuckDbIdent } from '../../sql/quote.js';
import { extractRefs, replaceSlices } from './sqlRefs.js';
import { SqlScanError, tokenize } from './sqlTokens.js';
import {
  duckdbTableFunctionNames,
  filePathRefusal,
  parseQuery,
  referenceExtent,
  statementCount,
  type ReferenceExtent,
  type TableReference,
} from './sqlTree.js';

/** An error of a routed query; the API maps `status`/`code`. */
export class CacheQueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CacheQueryError';
  }
}

/**
 * Snowflake's own table functions: a query may use them (for example `LATERAL FLATTEN(input => v)`) when
 * it passes through to Snowflake, never on the cache route. Any other table function — DuckDB's
 * `read_csv`, `read_text`, `glob`, `duckdb_*`, … — is refused. `TABLE` is Snowflake's wrapper
 * (`TABLE(RESULT_SCAN(…))`), seen only by the token scan since DuckDB cannot parse it.
 */
export const SNOWFLAKE_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'table',
  'flatten',
  'result_scan',
  'generator',
  'split_to_table',
  'strtok_split_to_table',
]);

/** One relation a query reads, from the parse tree or (SQL DuckDB cannot parse) the token scan. */
export interface Relation {
  /** As written, for messages (`SRC.S2.SALES`). */
  display: string;
  /** Lower-case name when it is a one-part name (the only form that can name a cache), else null. */
  cacheKey: string | null;
  /** Where the name stands in the SQL text (to inline a cache's source query), or null if unknown. */
  span: { start: number; end: number; hasAlias: boolean } | null;
  /** Its parse-tree node (null for the token scan). */
  ref: TableReference | null;
}

/** A query that may run: what it reads. */
export interface QueryPlan {
  relations: Relation[];
  /** Snowflake table functions it uses, as `name(...)`. */
  functions: string[];
  /** DuckDB's parser message when DuckDB cannot parse the query (Snowflake SQL), else null. */
  parseError: string | null;
}

export const refuse = (message: string) => new CacheQueryError(422, 'sql_not_allowed', message, { field: 'sql' });
const refuseStatements = (n: number) =>
  n === 0
    ? new CacheQueryError(400, 'invalid_query', 'sql holds no statement: send one SELECT', { field: 'sql' })
    : refuse(`multi-statement payloads are not allowed (${n} statements): send one SELECT`);
const spanOf = (e: ReferenceExtent | null, hasAlias: boolean) => (e ? { start: e.start, end: e.end, hasAlias } : null);
const plainName = (p: string) => (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p) ? p : `"${p.replaceAll('"', '""')}"`);

/**
 * Outcomes of a deterministic async function by text key, the most recently used {@link MEMO_ENTRIES}
 * kept; keys longer than {@link MEMO_MAX_CHARS} characters and failures are not kept. Plans and lake
 * rewrites depend only on the statement's text (DuckDB's parser is fixed for the process), and
 * dashboards send the same statements again and again: a remembered one skips DuckDB's parse.
 */
class TextMemo<T> {
  private readonly entries = new Map<string, T>();

  async get(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key); // re-inserted: the Map's order is the order of use
      this.entries.set(key, hit);
      return hit;
    }
    const value = await compute();
    if (key.length <= MEMO_MAX_CHARS) {
      this.entries.set(key, value);
      if (this.entries.size > MEMO_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    return value;
  }
}
/** Statements (and lake rewrites) remembered. */
const MEMO_ENTRIES = 256;
/** Longest statement remembered, in characters. */
const MEMO_MAX_CHARS = 16_384;
const plans = new TextMemo<QueryPlan>();
const rewrites = new TextMemo<string>();

/**
 * Decide what `sql` reads, refusing (422 `sql_not_allowed`) every construct that must never run: see
 * the module comment. Throws {@link CacheQueryError}. The plan of a statement seen lately is remembered
 * ({@link TextMemo}); callers must not modify it.
 */
export function planQuery(sql: string): Promise<QueryPlan> {
  return plans.get(sql, () => computePlan(sql));
}

async function computePlan(sql: string): Promise<QueryPlan> {
  const parsed = await parseQuery(sql);
  if (parsed.ok) {
    const n = statementCount(parsed.tree);
    if (n !== 1) throw refuseStatements(n);
    const { tables, tableFunctions, refused } = parsed.analysis;
    const foreign = tableFunctions.filter((f) => !SNOWFLAKE_TABLE_FUNCTIONS.has(f.name));
    const problems = [...refused, ...foreign.map((f) => `table function ${f.name} is not allowed`)];
    if (problems.length) throw refuse([...new Set(problems)].join('; '));
    return {
      relations: tables.map((t) => {
        const onePart = !t.catalog && !t.schema;
        return {
          display: [t.catalog, t.schema, t.table].filter(Boolean).map(plainName).join('.'),
          cacheKey: onePart ? t.table.toLowerCase() : null,
          span: spanOf(referenceExtent(sql, t), t.alias !== ''),
          ref: t,
        };
      }),
      functions: tableFunctions.map((f) => `${f.name}(...)`),
      parseError: null,
    };
  }
  let scan;
  try {
    scan = extractRefs(sql);
  } catch (err) {
    if (err instanceof SqlScanError) throw new CacheQueryError(400, 'invalid_query', err.message);
    throw err;
  }
  if (scan.statements !== 1) throw refuseStatements(scan.statements);
  const keyword = scan.firstKeyword ?? '';
  if (parsed.reason === 'not_select' || !['SELECT', 'WITH', 'FROM', '('].includes(keyword)) {
    throw refuse(`${keyword || 'this'} statements are not allowed: send one SELECT`);
  }
  // Table functions in FROM position, and calls of DuckDB's table functions anywhere in the text.
  const duckdbOnly = await duckdbTableFunctionNames();
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws');
  const called = toks
    .filter((t, i) => t.kind === 'word' && toks[i + 1]?.text === '(' && duckdbOnly.has(t.text.toLowerCase()))
    .map((t) => t.text);
  const foreign = [...new Set([...scan.functions, ...called].map((f) => f.toLowerCase()))].filter(
    (f) => !SNOWFLAKE_TABLE_FUNCTIONS.has(f),
  );
  const problems = [...scan.paths.map(filePathRefusal), ...foreign.map((f) => `table function ${f} is not allowed`)];
  if (problems.length) throw refuse(problems.join('; '));
  return {
    relations: scan.tables.map((t) => ({
      display: t.parts.map((p) => (p.quoted ? `"${p.value}"` : p.value)).join('.'),
      cacheKey: t.parts.length === 1 ? t.parts[0]!.value.toLowerCase() : null,
      span: { start: t.start, end: t.end, hasAlias: t.hasAlias },
      ref: null,
    })),
    functions: scan.functions.map((f) => `${f}(...)`),
    parseError: parsed.message,
  };
}

/**
 * The query as it runs on the lake: each cache name replaced by `<lake>.main."<cache>"` (so no DuckDB
 * system view or replacement scan can stand in for it), with `AT (VERSION => n)` after its alias for time
 * travel. The new text is parsed again and must read exactly those lake tables and nothing else, so the
 * statement that runs is always one that was checked. `targets` are the relations of `planQuery(sql)`,
 * in order, each with the cache it reads; the outcome is remembered ({@link TextMemo}) by the text, the
 * caches, the alias and the snapshot. Throws {@link CacheQueryError} 400 when a cache cannot be located
 * in the text (no parser location), an Error when the check fails.
 */
export function lakeStatement(
  sql: string,
  targets: { ref: TableReference; cache: string }[],
  lakeAlias: string,
  snapshot: number | null,
): Promise<string> {
  const key = JSON.stringify([lakeAlias, snapshot, targets.map((t) => t.cache), sql]);
  return rewrites.get(key, () => rewriteForLake(sql, targets, lakeAlias, snapshot));
}

async function rewriteForLake(
  sql: string,
  targets: { ref: TableReference; cache: string }[],
  lakeAlias: string,
  snapshot: number | null,
): Promise<string> {
  if (snapshot !== null && targets.some((t) => t.ref.node.at_clause)) {
    throw new CacheQueryError(
      400,
      'invalid_query',
      'give the snapshot either as `snapshot` or as AT (...) in sql, not both',
      { field: 'snapshot' },
    );
  }
  const edits = targets.flatMap(({ ref, cache }) => {
    const e = referenceExtent(sql, ref);
    if (!e)
      throw new CacheQueryError(400, 'invalid_query', `cannot locate cache ${cache} in the query text`, {
        field: 'sql',
      });
    const name = { start: e.start, end: e.end, text: `${quoteDuckDbIdent(lakeAlias)}.main.${quoteDuckDbIdent(cache)}` };
    return snapshot === null
      ? [name]
      : [name, { start: e.aliasEnd, end: e.aliasEnd, text: ` AT (VERSION => ${Math.floor(snapshot)})` }];
  });
  const text = replaceSlices(sql, edits);
  const check = await parseQuery(text);
  // The walk order is the tree's, which text edits of names do not change: table i is target i.
  const found =
    check.ok &&
    statementCount(check.tree) === 1 &&
    !check.analysis.refused.length &&
    !check.analysis.tableFunctions.length
      ? check.analysis.tables
      : [];
  const exact =
    found.length === targets.length &&
    found.every(
      (t, i) =>
        t.catalog === lakeAlias &&
        t.schema === 'main' &&
        t.table === targets[i]!.cache &&
        (t.node.at_clause === null) === (snapshot === null && !targets[i]!.ref.node.at_clause),
    );
  if (!exact) throw new Error('the query rewritten for the lake does not read exactly the caches it was checked for');
  return text;
}
