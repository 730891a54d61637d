/**
 * Query routing (`POST /query`): run a planned statement (queryPlan.ts refuses what must never run and
 * names what the statement reads) on the cache or in Snowflake.
 *
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
 * - Snowflake SQL that DuckDB cannot parse is refused when it names a cache (a query over caches must be
 *   DuckDB SQL).
 */
import type pg from 'pg';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CredentialResolver } from '../../credentials/store.js';
import { classifyError, NonRetryable } from '../../errors.js';
import { trimQuery } from './extract.js';
import { CacheQueryError, lakeStatement, planQuery, refuse, type QueryPlan, type Relation } from './queryPlan.js';
import { replaceSlices } from './sqlRefs.js';
import type { TableReference } from './sqlTree.js';
import { resolveSource, withSourceSession } from './source.js';
import * as store from './store.js';
import { DEFAULT_LAKE_ALIAS, scrubSecret, withLake, type LakeSettings } from './storage.js';

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

function freshness(c: store.CacheRoute, now: number, maxStaleness?: number): CacheFreshness {
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
  // The lake rewrite (a second DuckDB parse) runs while PostgreSQL answers, on the names as written.
  const rewrite = speculativeRewrite(deps, sql, plan, req.snapshot ?? null);
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
        .filter((c): c is store.CacheRoute => !!c)
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
      const text = await lakeText(deps, sql, targets, req.snapshot ?? null, rewrite);
      return runOnLake(deps, text, req.snapshot ?? null, maxRows, fresh, started);
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
  used: store.CacheRoute[],
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

type Target = { ref: TableReference; cache: string };
/** A lake rewrite started before the caches were read: its targets, and its text or its failure. */
type Rewrite = { targets: Target[]; text: Promise<{ text: string } | { error: unknown }> };

/**
 * Start {@link lakeStatement} for a plan that can only run on the lake (DuckDB parsed it and every
 * relation is a one-part name), with each cache named as the query writes it; null for any other plan.
 * Its failure is held, not thrown: it matters only if the query turns out to run on the lake.
 */
function speculativeRewrite(deps: RouterDeps, sql: string, plan: QueryPlan, snapshot: number | null): Rewrite | null {
  if (plan.parseError !== null || !plan.relations.length || plan.relations.some((r) => r.cacheKey === null)) {
    return null;
  }
  const targets = plan.relations.map((r) => ({ ref: r.ref!, cache: r.ref!.table }));
  const text = lakeStatement(sql, targets, deps.lake.alias ?? DEFAULT_LAKE_ALIAS, snapshot).then(
    (t) => ({ text: t }),
    (error: unknown) => ({ error }),
  );
  return { targets, text };
}

/**
 * The statement to run on the lake for `targets` (each relation and the cache it reads): the speculative
 * rewrite when it named every cache exactly as the cache is named, else a new {@link lakeStatement}.
 */
async function lakeText(
  deps: RouterDeps,
  sql: string,
  targets: Target[],
  snapshot: number | null,
  rewrite: Rewrite | null,
): Promise<string> {
  if (rewrite && rewrite.targets.every((t, i) => t.cache === targets[i]!.cache)) {
    const r = await rewrite.text;
    if ('error' in r) throw r.error;
    return r.text;
  }
  return lakeStatement(sql, targets, deps.lake.alias ?? DEFAULT_LAKE_ALIAS, snapshot);
}

async function runOnLake(
  deps: RouterDeps,
  text: string,
  snapshot: number | null,
  maxRows: number,
  fresh: CacheFreshness[],
  started: number,
): Promise<QueryResponse> {
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
  caches: Map<string, store.CacheRoute>,
  maxRows: number,
  fresh: CacheFreshness[],
  reason: string,
  started: number,
): Promise<QueryResponse> {
  const resolved = await resolveSource(deps.credentials, source).catch((err: unknown) => {
    throw new CacheQueryError(502, 'snowflake_error', (err as Error).message);
  });
  // Inline caches as their source query, so the whole query runs in Snowflake.
  const edits = relations.flatMap((r) => {
    const c = r.cacheKey === null ? undefined : caches.get(r.cacheKey);
    if (!c || !r.span) return [];
    const { start, end, hasAlias } = r.span;
    return [{ start, end, text: `(${trimQuery(c.source_query)})${hasAlias ? '' : ` AS ${sql.slice(start, end)}`}` }];
  });
  const text = replaceSlices(sql, edits);
  const rows = await withSourceSession(resolved, async (sf) => {
    try {
      return await sf.query(`SELECT * FROM (${text}) LIMIT ${maxRows + 1}`);
    } catch (err) {
      throw passthroughFailure(err);
    }
  }).catch((err: unknown) => {
    // Anything but the query's own failure is the sign-in's: upstream.
    if (err instanceof CacheQueryError) throw err;
    throw new CacheQueryError(502, 'snowflake_error', (err as Error).message, {
      snowflake_code: (err as { code?: unknown }).code,
    });
  });
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
}

/** floe error types that mean the passthrough query itself is at fault (missing object, compilation, conversion). */
const QUERY_FAULTS: readonly string[] = [
  NonRetryable.TableNotFound,
  NonRetryable.InvalidRequest,
  NonRetryable.DataConversion,
  NonRetryable.SchemaMismatch,
];

/** A passthrough query's failure: the query's own fault is the client's, 400; anything else is upstream, 502. */
function passthroughFailure(err: unknown): CacheQueryError {
  const e = err as { message?: string; code?: unknown };
  const own = QUERY_FAULTS.includes(classifyError(err));
  return new CacheQueryError(
    own ? 400 : 502,
    own ? 'invalid_query' : 'snowflake_error',
    `Snowflake: ${e.message ?? String(err)}`,
    { snowflake_code: e.code },
  );
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
