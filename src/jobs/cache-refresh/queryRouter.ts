/**
 * Query routing (`POST /query`), decided on DuckDB's parse tree of the statement (src/cache/sqlTree.ts):
 *
 * - Refused with 422 `sql_not_allowed`, naming the construct, before any route: anything but exactly one
 *   SELECT (ATTACH, COPY, INSTALL/LOAD, SET, PRAGMA, multi-statement payloads, …), a file path (a string
 *   literal used as a table, which DuckDB reads through a replacement scan), DESCRIBE/SHOW, and every table
 *   function except Snowflake's own {@link SNOWFLAKE_TABLE_FUNCTIONS} — wherever it stands (FROM, JOIN,
 *   subquery, CTE, UNION branch, scalar subquery, EXISTS, LATERAL).
 * - Every relation the query reads is a cache (a one-part base-table name equal to a cache name,
 *   case-insensitive; CTE references resolved as DuckDB binds them) and each has rows → the query runs in
 *   DuckDB over DuckLake: each cache name pointed at `lake.main."<cache>"` (and at a DuckLake snapshot with
 *   `AT (VERSION => n)` for time travel), the result parsed and checked again, then run on the sandboxed
 *   lake instance (READ_ONLY attach, external access off except the lake's data path, configuration
 *   locked: see storage.ts). The answer lists each cache's freshness.
 * - Reads check freshness: with `max_staleness_seconds`, a cache older than that (or past its TTL) is not
 *   served from the cache — the query passes through when allowed, else fails with `cache_stale`.
 * - Otherwise the query passes through to Snowflake when the source has `passthrough_enabled`; caches it
 *   names are inlined as `(<source_query>)`, so a mixed query runs entirely in Snowflake, whose own rules
 *   apply. Without passthrough it fails with `uncached_tables` listing what is not cached.
 * - Snowflake SQL that DuckDB cannot parse (`TABLE(FLATTEN(…))`, `CONNECT BY`, …) is judged on floe's
 *   token scan (sqlRefs.ts): refused when it names a cache (a cache query must be DuckDB SQL), holds several
 *   statements, uses a file path or a non-Snowflake table function in a FROM list, or calls a DuckDB table
 *   function anywhere; otherwise it may pass through (the scan cannot see every construct of a grammar it
 *   does not have: past that, Snowflake's — or the emulator's — own rules decide).
 */
import type pg from 'pg';
import type { CredentialResolver } from '../../credentials/store.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { connectSnowflake } from '../../connectors/snowflake.js';
import { classifyError, NonRetryable } from '../../errors.js';
import { signInError } from '../../credentials/kinds.js';
import { quoteDuckDbIdent } from '../../sql/quote.js';
import { trimQuery } from './extract.js';
import { extractRefs, replaceSlices, SqlScanError, tokenize } from './sqlRefs.js';
import {
  duckdbTableFunctionNames,
  filePathRefusal,
  parseQuery,
  referenceExtent,
  statementCount,
  type ReferenceExtent,
  type TableReference,
} from './sqlTree.js';
import * as store from './store.js';
import { DEFAULT_LAKE_ALIAS, scrubSecret, withLake, type LakeSettings } from './storage.js';

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

/** A routed query request (`POST /query`). */
export interface QueryRequest {
  sql: string;
  /** Serve from a cache only if it was refreshed at most this many seconds ago (and is within its TTL). */
  max_staleness_seconds?: number;
  /** DuckLake snapshot id to read caches at (time travel); cache routing only. */
  snapshot?: number;
  /** Source for passthrough when the query names no cache (default: the caches' source, or the only source). */
  source_name?: string;
  /** Row cap of the answer (default 10 000). */
  max_rows?: number;
}

/** Freshness of one cache used by a routed query. */
export interface CacheFreshness {
  cache_name: string;
  refreshed_at: string | null;
  expires_at: string | null;
  snapshot_id: number | null;
  /** Seconds since refreshed_at. */
  age_seconds: number | null;
  /** Past its TTL, or older than max_staleness_seconds. */
  stale: boolean;
}

/** Answer of a routed query. */
export interface QueryResponse {
  route: 'cache' | 'passthrough';
  /** Why this route. */
  reason: string;
  columns: string[];
  rows: Record<string, unknown>[];
  row_count: number;
  truncated: boolean;
  caches: CacheFreshness[];
  /** Snapshot read (time travel), or null for the current one. */
  snapshot: number | null;
  source_name: string | null;
  duration_ms: number;
}

/** What routing needs. */
export interface RouterDeps {
  pool: pg.Pool;
  lake: LakeSettings;
  credentials: CredentialResolver;
}

function freshness(c: store.CacheWithState, now: number, maxStaleness?: number): CacheFreshness {
  const refreshed = c.refreshed_at ? c.refreshed_at.getTime() : null;
  const age = refreshed === null ? null : Math.max(0, (now - refreshed) / 1000);
  const expired = c.expires_at !== null && c.expires_at.getTime() <= now;
  const tooOld = maxStaleness !== undefined && (age === null || age > maxStaleness);
  return {
    cache_name: c.cache_name,
    refreshed_at: c.refreshed_at?.toISOString() ?? null,
    expires_at: c.expires_at?.toISOString() ?? null,
    snapshot_id: c.snapshot_id === null ? null : Number(c.snapshot_id),
    age_seconds: age === null ? null : Math.round(age * 1000) / 1000,
    stale: expired || tooOld,
  };
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
interface Relation {
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
interface QueryPlan {
  relations: Relation[];
  /** Snowflake table functions it uses, as `name(...)`. */
  functions: string[];
  /** DuckDB's parser message when DuckDB cannot parse the query (Snowflake SQL), else null. */
  parseError: string | null;
}

const refuse = (message: string) => new CacheQueryError(422, 'sql_not_allowed', message, { field: 'sql' });
const refuseStatements = (n: number) =>
  n === 0
    ? new CacheQueryError(400, 'invalid_query', 'sql holds no statement: send one SELECT', { field: 'sql' })
    : refuse(`multi-statement payloads are not allowed (${n} statements): send one SELECT`);
const spanOf = (e: ReferenceExtent | null, hasAlias: boolean) => (e ? { start: e.start, end: e.end, hasAlias } : null);
const plainName = (p: string) => (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p) ? p : `"${p.replaceAll('"', '""')}"`);

/**
 * Decide what `sql` reads, refusing (422 `sql_not_allowed`) every construct that must never run: see
 * the module comment. Throws {@link CacheQueryError}.
 */
async function planQuery(sql: string): Promise<QueryPlan> {
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
 * Route and run one query. Throws {@link CacheQueryError}: 400 `invalid_query` (unterminated quote,
 * DuckDB binder error, …), 404 `snapshot_not_found`, 409 `cache_stale` / `cache_not_ready`,
 * 422 `sql_not_allowed` (a construct that never runs, named in the message) / `uncached_tables`,
 * 502 `snowflake_error` (passthrough failed).
 */
export async function routeQuery(deps: RouterDeps, req: QueryRequest): Promise<QueryResponse> {
  const started = Date.now();
  const sql = trimQuery(req.sql);
  const maxRows = req.max_rows ?? 10_000;
  const plan = await planQuery(sql);
  const caches = await store.cachesByName(
    deps.pool,
    plan.relations.flatMap((r) => (r.cacheKey === null ? [] : [r.cacheKey])),
  );
  const cacheOf = (r: Relation) => (r.cacheKey === null ? undefined : caches.get(r.cacheKey));
  const uncached = [...plan.relations.filter((r) => !cacheOf(r)).map((r) => r.display), ...plan.functions];
  const used = [
    ...new Map(
      plan.relations
        .map(cacheOf)
        .filter((c): c is store.CacheWithState => !!c)
        .map((c) => [c.cache_name, c]),
    ).values(),
  ];
  if (plan.parseError !== null && used.length) {
    throw refuse(
      `DuckDB cannot parse this query (${plan.parseError}) and it reads cache(s) ${used.map((c) => c.cache_name).join(', ')}: a query over caches must be SQL DuckDB parses`,
    );
  }
  const now = Date.now();
  const fresh = used.map((c) => freshness(c, now, req.max_staleness_seconds));

  let reason: string;
  if (plan.parseError === null && uncached.length === 0 && plan.relations.length > 0) {
    const notReady = used.filter((c) => c.snapshot_id === null).map((c) => c.cache_name);
    const tooStale =
      req.max_staleness_seconds !== undefined && req.snapshot === undefined
        ? fresh.filter((f) => f.stale).map((f) => f.cache_name)
        : [];
    if (notReady.length === 0 && tooStale.length === 0) {
      const targets = plan.relations.map((r) => ({ ref: r.ref!, cache: cacheOf(r)!.cache_name }));
      return runOnLake(deps, sql, targets, req.snapshot ?? null, maxRows, fresh, started);
    }
    reason = notReady.length
      ? `cache(s) ${notReady.join(', ')} have no rows yet`
      : `cache(s) ${tooStale.join(', ')} are staler than ${req.max_staleness_seconds} s`;
    if (req.snapshot !== undefined) throw new CacheQueryError(409, 'cache_not_ready', reason, { caches: notReady });
    const source = await passthroughSource(deps, req, used);
    if (!source?.passthrough_enabled) {
      throw new CacheQueryError(
        409,
        notReady.length ? 'cache_not_ready' : 'cache_stale',
        `${reason}, and passthrough is not enabled`,
        { caches: notReady.length ? notReady : tooStale, freshness: fresh },
      );
    }
    return runPassthrough(deps, source, sql, plan.relations, caches, maxRows, fresh, reason, started);
  }
  if (plan.relations.length === 0 && uncached.length === 0) {
    throw new CacheQueryError(422, 'uncached_tables', 'the query names no table; nothing to route', {
      uncached_tables: [],
    });
  }
  if (req.snapshot !== undefined) {
    throw new CacheQueryError(
      422,
      'uncached_tables',
      `time travel reads caches only; not cached: ${uncached.join(', ')}`,
      { uncached_tables: uncached },
    );
  }
  reason = `not cached: ${uncached.join(', ')}`;
  const source = await passthroughSource(deps, req, used);
  if (!source || !source.passthrough_enabled) {
    throw new CacheQueryError(
      422,
      'uncached_tables',
      `the query names tables that are not caches (${uncached.join(', ')}) and ${source ? `source ${source.source_name} does not allow passthrough` : 'no source allows passthrough'}`,
      {
        uncached_tables: uncached,
      },
    );
  }
  return runPassthrough(deps, source, sql, plan.relations, caches, maxRows, fresh, reason, started);
}

async function passthroughSource(
  deps: RouterDeps,
  req: QueryRequest,
  used: store.CacheWithState[],
): Promise<store.CacheSource | null> {
  if (req.source_name) {
    const s = await store.getSource(deps.pool, req.source_name);
    if (!s)
      throw new CacheQueryError(404, 'not_found', `source ${req.source_name} does not exist`, { field: 'source_name' });
    return s;
  }
  const names = [...new Set(used.map((c) => c.source_name))];
  if (names.length === 1) return store.getSource(deps.pool, names[0]!);
  if (names.length > 1)
    throw new CacheQueryError(
      422,
      'ambiguous_source',
      `the query uses caches of several sources (${names.join(', ')}); name source_name`,
    );
  const all = await store.listSources(deps.pool);
  if (all.length === 1) return all[0]!;
  const enabled = all.filter((s) => s.passthrough_enabled);
  return enabled.length === 1 ? enabled[0]! : (all[0] ?? null);
}

/**
 * The query as it runs on the lake: each cache name replaced by `<lake>.main."<cache>"` (so no DuckDB
 * system view or replacement scan can stand in for it), with `AT (VERSION => n)` after its alias for time
 * travel. The new text is parsed again and must read exactly those lake tables and nothing else, so the
 * statement that runs is always one that was checked. Throws {@link CacheQueryError} 400 when a cache
 * cannot be located in the text (no parser location), an Error when the check fails.
 */
async function lakeStatement(
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

async function runOnLake(
  deps: RouterDeps,
  sql: string,
  targets: { ref: TableReference; cache: string }[],
  snapshot: number | null,
  maxRows: number,
  fresh: CacheFreshness[],
  started: number,
): Promise<QueryResponse> {
  const text = await lakeStatement(sql, targets, deps.lake.alias ?? DEFAULT_LAKE_ALIAS, snapshot);
  try {
    return await withLake(
      deps.lake,
      async (conn: DuckDBConnection) => {
        const r = await conn.runAndReadAll(`SELECT * FROM (${text}) LIMIT ${maxRows + 1}`);
        const rows = r.getRowObjectsJson() as Record<string, unknown>[];
        const truncated = rows.length > maxRows;
        if (truncated) rows.length = maxRows;
        return {
          route: 'cache' as const,
          reason: 'every relation the query reads is a cache',
          columns: r.columnNames(),
          rows,
          row_count: rows.length,
          truncated,
          caches: fresh,
          snapshot,
          source_name: null,
          duration_ms: Date.now() - started,
        };
      },
      { sandbox: true },
    );
  } catch (err) {
    const msg = scrubSecret((err as Error).message, deps.lake);
    if (snapshot !== null && !/^Parser Error/i.test(msg) && /snapshot|version/i.test(msg)) {
      throw new CacheQueryError(404, 'snapshot_not_found', `snapshot ${snapshot}: ${msg}`);
    }
    if (/^(Binder|Parser|Catalog|Conversion|Invalid Input|Not implemented|Permission) Error/i.test(msg))
      throw new CacheQueryError(400, 'invalid_query', msg);
    // The original error is not attached as `cause`: its message may carry the catalog password.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(msg);
  }
}

async function runPassthrough(
  deps: RouterDeps,
  source: store.CacheSource,
  sql: string,
  relations: Relation[],
  caches: Map<string, store.CacheWithState>,
  maxRows: number,
  fresh: CacheFreshness[],
  reason: string,
  started: number,
): Promise<QueryResponse> {
  const label = `credentials '${source.credentials_ref}' of source ${source.source_name}`;
  const settings = await deps.credentials(source.credentials_ref).catch((err: unknown) => {
    throw new CacheQueryError(502, 'snowflake_error', `${label}: ${(err as Error).message}`);
  });
  if (!settings) throw new CacheQueryError(502, 'snowflake_error', `${label} are not configured on this server`);
  // Inline caches as their source query, so the whole query runs in Snowflake.
  const edits = relations.flatMap((r) => {
    const c = r.cacheKey === null ? undefined : caches.get(r.cacheKey);
    if (!c || !r.span) return [];
    const { start, end, hasAlias } = r.span;
    return [{ start, end, text: `(${trimQuery(c.source_query)})${hasAlias ? '' : ` AS ${sql.slice(start, end)}`}` }];
  });
  const text = replaceSlices(sql, edits);
  const sf = await connectSnowflake(settings).catch((e: Error) => {
    const failed = signInError(e, label);
    throw new CacheQueryError(502, 'snowflake_error', failed.message, { snowflake_code: failed.code });
  });
  try {
    let rows: Record<string, unknown>[];
    try {
      rows = await sf.query(`SELECT * FROM (${text}) LIMIT ${maxRows + 1}`);
    } catch (err) {
      const e = err as { message?: string; code?: unknown; sqlState?: string };
      // The query's own fault (missing object, compilation, conversion) is the client's: 400; else upstream: 502.
      const status = [
        NonRetryable.TableNotFound,
        NonRetryable.InvalidRequest,
        NonRetryable.DataConversion,
        NonRetryable.SchemaMismatch,
      ].includes(classifyError(err) as never)
        ? 400
        : 502;
      throw new CacheQueryError(
        status,
        status === 400 ? 'invalid_query' : 'snowflake_error',
        `Snowflake: ${e.message ?? String(err)}`,
        { snowflake_code: e.code },
      );
    }
    const truncated = rows.length > maxRows;
    if (truncated) rows.length = maxRows;
    return {
      route: 'passthrough',
      reason,
      columns: rows[0] ? Object.keys(rows[0]) : [],
      rows: rows.map(jsonSafe),
      row_count: rows.length,
      truncated,
      caches: fresh,
      snapshot: null,
      source_name: source.source_name,
      duration_ms: Date.now() - started,
    };
  } finally {
    await sf.close();
  }
}

/** Driver values → JSON (numbers already strings; timestamps → ISO; buffers → hex). */
function jsonSafe(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Date) out[k] = v.toISOString();
    else if (Buffer.isBuffer(v)) out[k] = v.toString('hex');
    else if (typeof v === 'bigint') out[k] = v.toString();
    else out[k] = v;
  }
  return out;
}
