/**
 * Cache refresh (a Snowflake query materialised into DuckLake): names, inputs and results shared by the
 * workflow, its activities, the client and the API. Types and pure functions only — workflows import
 * this file at run time, so it must stay free of I/O and Node built-ins.
 *
 * The workflows themselves (`cacheRefresh`, and `cacheRefreshScheduled` that a cache's Schedule starts)
 * are referenced by function from src/workflows/cacheRefresh.ts, never by name. They and their
 * activities run on the job's own task queue, `taskQueues(prefix).cacheRefresh` in src/jobs/common.ts
 * (`floe-v1-cache-refresh` by default).
 */

/**
 * Workflow id of a cache's refresh: one per cache, so Temporal itself serializes refreshes of one cache
 * (a second start while one runs is refused) while different caches refresh in parallel.
 */
export function cacheRefreshWorkflowId(cacheName: string): string {
  return `cacheRefresh-${cacheName}`;
}

/** Schedule id of a cache's periodic smart refresh. */
export function cacheScheduleId(cacheName: string): string {
  return `cacheRefresh-schedule-${cacheName}`;
}

/**
 * Workflow id of the runs a cache's Schedule starts (`cacheRefreshScheduled`); each starts the refresh
 * itself under {@link cacheRefreshWorkflowId}.
 */
export function cacheScheduledWorkflowId(cacheName: string): string {
  return `cacheRefresh-scheduled-${cacheName}`;
}

/** Input of one refresh: the cache's name only (definition and credentials are resolved by activities). */
export interface CacheRefreshInput {
  cacheName: string;
  /** Skip the smart check (TTL and LAST_ALTERED) and refresh anyway. */
  force?: boolean;
}

/** Outcome of a refresh: skipped by the smart check, refreshed, or failed (previous rows kept). */
export type CacheRefreshOutcome = 'SKIPPED' | 'REFRESHED' | 'ERROR';

/** Result of `cacheRefresh` (snake case: the API returns it as is). */
export interface CacheRefreshResult {
  result: CacheRefreshOutcome;
  message: string;
  /** Rows now in the cache (REFRESHED), else 0. */
  rows_refreshed: number;
  /** Wall time of the run, ms. */
  duration_ms: number;
  /** DuckLake snapshot holding the cache's rows after this run (null when the cache was never filled). */
  snapshot_id: number | null;
}

/** Decision of the smart check (activity `cacheCheck`). */
export interface CacheCheckResult {
  refresh: boolean;
  /** Human-readable reason: 'forced', 'never refreshed', 'TTL expired', 'source changed: …', 'unchanged'. */
  reason: string;
  /**
   * SHA-256 of the monitored tables' `DB.SCHEMA.TABLE=LAST_ALTERED` lines, read BEFORE any extraction
   * (so a change committed during the refresh is seen by the next check). Stored after a successful load.
   */
  stateHash: string;
  /** LAST_ALTERED per monitored table (ISO text), as read. */
  lastAltered: Record<string, string>;
  /** Snapshot currently holding the cache's rows (null if never filled). */
  snapshotId: number | null;
}

/** Result of the extract-and-replace activity `cacheExtractLoad`. */
export interface CacheLoadResult {
  rows: number;
  /** DuckLake snapshot id right after the replacing transaction committed. */
  snapshotId: number;
  /** Bytes of the unloaded Parquet files. */
  bytes: number;
  method: 'stage' | 'stream';
}
