/**
 * Activities of the cache refresh. Built by {@link createCacheRefreshActivities} around a closure
 * of dependencies (pool, lake settings, credential resolver): inputs carry cache names and job ids only,
 * never rows or credentials.
 *
 * - `cacheCheck`: the smart check (src/jobs/cache-refresh/smart.ts) — TTL, then LAST_ALTERED of the fully qualified
 *   monitored tables read BEFORE extraction, hashed and compared; when it skips, it records the skip (one
 *   UPDATE keyed by cache name). Idempotent. Run as a local activity, on a reused Snowflake session.
 * - `cacheMarkRefreshing` / `cacheRecordRefreshed` / `cacheRecordError`: PostgreSQL state updates keyed by
 *   cache name; idempotent (last write wins with the same values).
 * - `cacheExtractLoad`: unload → GET → one DuckLake transaction replacing the cache (src/jobs/cache-refresh/extract.ts),
 *   in ONE activity so download and load run on the same host. Idempotent: a retry replaces the table
 *   again from a fresh unload; the job-scoped stage path and local directory are removed in `finally`.
 * - `cacheCleanup`: REMOVE of the job's stage path and local directory; idempotent.
 */
import { createRefreshActivities, type CacheRefreshActivityDeps } from './refresh.js';
import { createCacheStateActivities } from './state.js';

export type { CacheRefreshActivityDeps } from './refresh.js';

/** Build the cache refresh activities. Throws nothing at construction. */
export function createCacheRefreshActivities(deps: CacheRefreshActivityDeps) {
  return { ...createRefreshActivities(deps), ...createCacheStateActivities(deps.pool) };
}

/** The cache refresh activity interface, for `proxyActivities<CacheRefreshActivities>()` (type import only). */
export type CacheRefreshActivities = ReturnType<typeof createCacheRefreshActivities>;
