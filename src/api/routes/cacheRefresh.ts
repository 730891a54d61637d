/**
 * Cache refresh routes: storage, sources, caches, refreshes and the routed query. `createCacheRefreshRouter(deps)` returns an Express Router
 * the app mounts under `/api/v1` behind floe's auth; errors go through src/api/errors.ts.
 *
 * | route | success | errors |
 * |---|---|---|
 * | POST /cache/storage `{}` | 200 `{catalog (redacted), data_path, metadata_schema, alias, snapshot_id}` (idempotent) | 400, 502 catalog unreachable |
 * | GET  /cache/storage | 200 same | 502 |
 * | POST /cache/sources `{source_name, driver_type:'snowflake', credentials_ref, passthrough_enabled?}` | 201 created / 200 updated | 400 (any secret field is refused), 422 unknown credentials_ref |
 * | GET  /cache/sources | 200 `{count, sources}` | |
 * | POST /caches `{cache_name, source_name, source_query, monitor_tables?, ttl_seconds?, schedule_interval_seconds?}` | 201 the cache | 400, 404 source, 409 exists, 422 tables missing / not derivable |
 * | GET  /caches | 200 `{count, caches}` | |
 * | GET  /caches/{name} | 200 the cache: state, rows, refreshed_at, expires_at, stale, snapshot_id, schedule | 404 |
 * | DELETE /caches/{name} | 200 `{cache_name, deleted:true}` (schedule, DuckLake table and rows go) | 404 |
 * | POST /caches/{name}/refresh `{force?, wait?}` | 200 `{result, message, rows_refreshed, duration_ms, snapshot_id, job_id}`; 202 `{job_id}` with wait=false | 404 |
 * | POST /query `{sql, max_staleness_seconds?, snapshot?, source_name?, max_rows?}` | 200 `{route, rows, caches:[freshness], ...}` | 400, 404 snapshot, 409 stale, 422 sql_not_allowed (file paths, DuckDB table functions, non-SELECT, several statements; see src/jobs/cache-refresh/queryPlan.ts) / uncached_tables, 502 |
 */
import { Router, type Request } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { CredentialResolver } from '../../credentials/store.js';
import type { Logger } from 'pino';
import { redactUrl } from '../../config.js';
import { classifyError, NonRetryable } from '../../errors.js';
import {
  deleteCacheSchedule,
  describeCacheSchedule,
  startCacheRefresh,
  upsertCacheSchedule,
} from '../../client/cacheRefresh.js';
import { dropFromLake, trimQuery } from '../../jobs/cache-refresh/extract.js';
import { CacheQueryError } from '../../jobs/cache-refresh/queryPlan.js';
import { routeQuery } from '../../jobs/cache-refresh/queryRouter.js';
import { readLastAltered } from '../../jobs/cache-refresh/smart.js';
import { resolveSource, withSourceSession } from '../../jobs/cache-refresh/source.js';
import { extractRefs, formatQualified, parseQualifiedName, qualify } from '../../jobs/cache-refresh/sqlRefs.js';
import { SqlScanError } from '../../jobs/cache-refresh/sqlTokens.js';
import { setupStorage, type LakeSettings } from '../../jobs/cache-refresh/storage.js';
import * as store from '../../jobs/cache-refresh/store.js';
import { cacheRefreshWorkflowId } from '../../jobs/cache-refresh/contract.js';
import { ApiError, badRequest, conflict, notFound, parseInput, unprocessable } from '../errors.js';
import { recordCacheQuery } from '../../metrics/index.js';
import { route } from '../openapi/operations.js';
import * as ops from '../operations/cacheRefresh.js';

/** Dependencies of {@link createCacheRefreshRouter}. */
export interface CacheRefreshApiDeps {
  pool: pg.Pool;
  temporal: Client;
  /** Task queue of the worker that registers the cache workflows and activities. */
  taskQueue: string;
  /** Start refreshes with Temporal's eager workflow start (`temporal` shares a worker's connection). */
  eagerStart?: boolean;
  lake: LakeSettings;
  /** Resolves credentials_ref (e.g. `default` → SNOWFLAKE_* settings). */
  credentials: CredentialResolver;
  logger: Logger;
  /** How long `POST /caches/{name}/refresh` waits for the result, ms (default 10 min). */
  refreshWaitMs?: number;
}

/** Refusals of a routed query that count as a cache miss: the caches could not answer and passthrough was not allowed. */
const CACHE_MISS_CODES: ReadonlySet<string> = new Set(['cache_stale', 'cache_not_ready', 'uncached_tables']);

/** JSON view of a cache and its state. */
export function cacheView(
  c: store.CacheWithState,
  schedule: { schedule_id: string; next_run: string | null } | null = null,
) {
  const now = Date.now();
  return {
    cache_name: c.cache_name,
    source_name: c.source_name,
    source_query: c.source_query,
    monitor_tables: c.monitor_tables,
    monitor_tables_derived: c.monitor_tables_derived,
    ttl_seconds: c.ttl_seconds,
    state: c.status ?? 'empty',
    rows: c.row_count === null || c.row_count === undefined ? null : Number(c.row_count),
    refreshed_at: c.refreshed_at?.toISOString() ?? null,
    expires_at: c.expires_at?.toISOString() ?? null,
    stale: c.expires_at ? c.expires_at.getTime() <= now : false,
    snapshot_id: c.snapshot_id === null || c.snapshot_id === undefined ? null : Number(c.snapshot_id),
    last_checked_at: c.last_checked_at?.toISOString() ?? null,
    last_result: c.last_result ?? null,
    last_error: c.last_error ?? null,
    last_job_id: c.last_job_id ?? null,
    schedule: c.schedule_interval_seconds
      ? { interval_seconds: c.schedule_interval_seconds, ...(schedule ?? { schedule_id: null, next_run: null }) }
      : null,
    created_at: c.created_at.toISOString(),
  };
}

function sourceView(s: store.CacheSource) {
  return {
    source_name: s.source_name,
    driver_type: s.driver_type,
    credentials_ref: s.credentials_ref,
    passthrough_enabled: s.passthrough_enabled,
    created_at: s.created_at.toISOString(),
    updated_at: s.updated_at.toISOString(),
  };
}

/** Build the cache router (see the module comment for routes). */
export function createCacheRefreshRouter(deps: CacheRefreshApiDeps): Router {
  const r = Router();
  const log = deps.logger.child({ component: 'cache-api' });

  const storage = async () => {
    try {
      const info = await setupStorage(deps.lake);
      await store.saveStorage(deps.pool, {
        catalogDisplay: info.catalog,
        dataPath: info.data_path,
        metadataSchema: info.metadata_schema,
      });
      return info;
    } catch (err) {
      log.error(
        { err: (err as Error).message, catalog: redactUrl(deps.lake.catalogUrl) },
        'DuckLake storage setup failed',
      );
      throw new ApiError(
        502,
        'storage_unavailable',
        `DuckLake storage could not be attached: ${(err as Error).message}`,
      );
    }
  };

  route(r, ops.setupStorage, async (req, res) => {
    parseInput(ops.emptyBody, req.body, 'body');
    res.json(await storage());
  });
  route(r, ops.getStorage, async (_req, res) => {
    res.json(await storage());
  });

  route(r, ops.upsertSource, async (req, res) => {
    const b = parseInput(ops.sourceBody, req.body, 'body');
    if (!(await deps.credentials(b.credentials_ref))) {
      throw unprocessable(
        `body field 'credentials_ref': no credentials named '${b.credentials_ref}' are configured on the server`,
        'credentials_ref',
      );
    }
    const { source, created } = await store.upsertSource(deps.pool, {
      sourceName: b.source_name,
      credentialsRef: b.credentials_ref,
      passthroughEnabled: b.passthrough_enabled,
    });
    res.status(created ? 201 : 200).json(sourceView(source));
  });
  route(r, ops.listSources, async (_req, res) => {
    const sources = await store.listSources(deps.pool);
    res.json({ count: sources.length, sources: sources.map(sourceView) });
  });

  route(r, ops.createCache, async (req, res) => {
    const b = parseInput(ops.createBody, req.body, 'body');
    const name = b.cache_name.toLowerCase();
    const source = await store.getSource(deps.pool, b.source_name);
    if (!source) throw notFound(`source ${b.source_name} does not exist`, 'source_name');
    const resolved = await resolveSource(deps.credentials, source).catch((err: unknown) => {
      throw unprocessable((err as Error).message, 'source_name');
    });
    const { settings } = resolved;
    const query = trimQuery(b.source_query);
    let refs;
    try {
      refs = extractRefs(query);
    } catch (err) {
      if (err instanceof SqlScanError) throw badRequest(`body field 'source_query': ${err.message}`, 'source_query');
      throw err;
    }
    if (refs.statements !== 1 || !['SELECT', 'WITH', '('].includes(refs.firstKeyword ?? '')) {
      throw badRequest(
        "body field 'source_query': must be exactly one SELECT (or WITH ... SELECT) statement",
        'source_query',
      );
    }
    let monitor: string[];
    const derived = b.monitor_tables === undefined;
    try {
      monitor = derived
        ? refs.tables.map((t) =>
            formatQualified(qualify(t.parts, { database: settings.database, schema: settings.schema })),
          )
        : b.monitor_tables!.map((t) => formatQualified(parseQualifiedName(t)));
    } catch (err) {
      if (err instanceof SqlScanError) {
        throw derived
          ? unprocessable(`cannot derive monitor_tables from source_query: ${err.message}`, 'monitor_tables')
          : badRequest(`body field 'monitor_tables': ${err.message}`, 'monitor_tables');
      }
      throw err;
    }
    monitor = [...new Set(monitor)];
    if (derived && monitor.length === 0)
      throw unprocessable('source_query names no table to monitor; give monitor_tables or a ttl', 'monitor_tables');
    // The monitored tables must exist now (a typo would otherwise only show at the first refresh).
    if (monitor.length) {
      await withSourceSession(resolved, (sf) => readLastAltered(sf, monitor)).catch((err: unknown) => {
        if (classifyError(err) === NonRetryable.TableNotFound)
          throw unprocessable((err as Error).message, 'monitor_tables');
        throw new ApiError(502, 'snowflake_error', `Snowflake: ${(err as Error).message}`);
      });
    }
    const ok = await store.insertCache(deps.pool, {
      cache_name: name,
      source_name: source.source_name,
      source_query: query,
      monitor_tables: monitor,
      monitor_tables_derived: derived,
      ttl_seconds: b.ttl_seconds ?? null,
      schedule_interval_seconds: b.schedule_interval_seconds ?? null,
    });
    if (!ok) throw conflict(`cache ${name} already exists`, { cache_name: name });
    let schedule = null;
    if (b.schedule_interval_seconds) {
      await upsertCacheSchedule(deps.temporal, name, b.schedule_interval_seconds, deps.taskQueue);
      schedule = await describeCacheSchedule(deps.temporal, name);
    }
    res
      .status(201)
      .location(`caches/${name}`)
      .json(cacheView((await store.getCache(deps.pool, name))!, schedule));
  });

  route(r, ops.listCaches, async (_req, res) => {
    const caches = await store.listCaches(deps.pool);
    res.json({ count: caches.length, caches: caches.map((c) => cacheView(c)) });
  });

  const cacheOr404 = async (req: Request) => {
    const { name } = parseInput(ops.nameParams, req.params, 'params');
    const c = await store.getCache(deps.pool, name.toLowerCase());
    if (!c) throw notFound(`cache ${name} does not exist`, 'name');
    return c;
  };

  route(r, ops.getCache, async (req, res) => {
    const c = await cacheOr404(req);
    const schedule = c.schedule_interval_seconds ? await describeCacheSchedule(deps.temporal, c.cache_name) : null;
    res.json(cacheView(c, schedule));
  });

  route(r, ops.deleteCache, async (req, res) => {
    const c = await cacheOr404(req);
    await deleteCacheSchedule(deps.temporal, c.cache_name);
    await dropFromLake(deps.lake, c.cache_name);
    await store.deleteCache(deps.pool, c.cache_name);
    res.json({ cache_name: c.cache_name, deleted: true });
  });

  route(r, ops.refreshCache, async (req, res) => {
    const c = await cacheOr404(req);
    const b = parseInput(ops.refreshBody, req.body, 'body');
    const waitMs = deps.refreshWaitMs ?? 600_000;
    // A refresh may outlast the app's per-request Temporal deadline: give this call its own.
    await deps.temporal.withDeadline(Date.now() + waitMs, async () => {
      const handle = await startCacheRefresh(
        deps.temporal,
        { cacheName: c.cache_name, force: b.force },
        { taskQueue: deps.taskQueue, waitTimeoutMs: waitMs, eagerStart: deps.eagerStart },
      );
      const jobId = `${cacheRefreshWorkflowId(c.cache_name)}/${handle.firstExecutionRunId}`;
      if (!b.wait) {
        res.status(202).json({ cache_name: c.cache_name, job_id: jobId, status: 'pending' });
        return;
      }
      const result = await handle.result();
      res.json({ cache_name: c.cache_name, job_id: jobId, ...result });
    });
  });

  route(r, ops.query, async (req, res) => {
    const b = parseInput(ops.queryBody, req.body, 'body');
    try {
      const answer = await routeQuery({ pool: deps.pool, lake: deps.lake, credentials: deps.credentials }, b);
      if (answer.route === 'cache')
        recordCacheQuery(
          'hit',
          answer.caches.map((c) => c.cache_name),
        );
      else recordCacheQuery('passthrough');
      res.json(answer);
    } catch (err) {
      if (err instanceof CacheQueryError) {
        if (CACHE_MISS_CODES.has(err.code)) recordCacheQuery('miss');
        throw new ApiError(err.status, err.code, err.message, undefined, err.details);
      }
      throw err;
    }
  });

  return r;
}
