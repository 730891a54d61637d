/**
 * floe's Prometheus instruments, declared once: every metric name, type, label set and unit lives
 * here, in one process-wide registry ({@link metricsRegistry}); the recording points (the worker's job
 * interceptor sink in ./jobs.ts, the API's request middleware in ./http.ts, the cache query route, the
 * scrape-time PostgreSQL collectors in ./postgres.ts) only call the helpers below.
 *
 * Naming follows Prometheus' own conventions ("Metric and label naming" in its documentation): the
 * `floe_` prefix, snake case, the base unit in the name (`_seconds`, `_bytes`, `_rows`, `_items`), and
 * `_total` on counters. Labels stay bounded: job kind, table / cache name, outcome, HTTP method, route
 * template and status; never a user id, an execution id, a raw URL or SQL. docs/metrics.md lists every
 * metric with the process that serves it.
 *
 * The watermark sync's gauges from before this scheme (`sync_success_count`, ...) keep their names:
 * src/jobs/watermark-sync/metrics.ts.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { JobKind } from '../jobs/common.js';

/** The registry of this process's own instruments (jobs it ran, requests it served). */
export const metricsRegistry = new Registry();

/** How a job run ended, as the `outcome` label spells it. */
export type JobOutcome = 'completed' | 'failed' | 'cancelled';

/** Seconds: a job takes from seconds (a cache check) to hours (a table sync of billions of rows). */
const JOB_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];
/** Seconds: API requests, from a health check to a passthrough query waiting on Snowflake. */
const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds an execution waits in the upload queue: one drain interval (30 s) up to a day of backlog. */
export const QUEUE_LATENCY_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400];

const JOB_LABELS = ['job', 'table'] as const;
const registers = [metricsRegistry];

/** A counter of job runs labelled by job kind and table. */
const jobCounter = (name: string, help: string) =>
  new Counter({ name, help: `${help}, by job kind and table`, labelNames: JOB_LABELS, registers });

const jobsStarted = jobCounter('floe_jobs_started_total', 'Job runs started (table: cache name for cache refresh)');
const jobsEnded: Record<JobOutcome, Counter<(typeof JOB_LABELS)[number]>> = {
  completed: jobCounter('floe_jobs_completed_total', 'Job runs that completed'),
  failed: jobCounter('floe_jobs_failed_total', 'Job runs that failed'),
  cancelled: jobCounter('floe_jobs_cancelled_total', 'Job runs that were cancelled'),
};
const jobDuration = new Histogram({
  name: 'floe_job_duration_seconds',
  help: 'Wall time of a job run from its start to its end, by job kind and outcome',
  labelNames: ['job', 'outcome'],
  buckets: JOB_DURATION_BUCKETS,
  registers,
});
const jobRows = jobCounter(
  'floe_job_rows_total',
  'Rows moved by completed job runs (read from the source and written to the target)',
);
const jobBytes = jobCounter(
  'floe_job_bytes_total',
  'Bytes of the files a completed job run transferred (table sync by stage)',
);
const cacheRefreshes = new Counter({
  name: 'floe_cache_refreshes_total',
  help: 'Cache refresh outcomes, by cache: refreshed, skipped (source unchanged, TTL not reached) or error',
  labelNames: ['cache', 'result'],
  registers,
});
const httpDuration = new Histogram({
  name: 'floe_http_request_duration_seconds',
  help: 'API request duration, by method, route template and status code',
  labelNames: ['method', 'route', 'status'],
  buckets: HTTP_DURATION_BUCKETS,
  registers,
});
const cacheQueries = new Counter({
  name: 'floe_cache_queries_total',
  help: 'Routed queries (POST /api/v1/query), by outcome: hit (answered from caches), passthrough (answered by Snowflake), miss (refused: stale, not ready or not cached, without passthrough)',
  labelNames: ['outcome'],
  registers,
});
const cacheHits = new Counter({
  name: 'floe_cache_hits_total',
  help: 'Caches read by routed queries answered from the caches, by cache',
  labelNames: ['cache'],
  registers,
});

/** What one job run works on, as labels. */
export interface JobLabels {
  job: JobKind;
  /** Table (table sync: `DB.SCHEMA.TABLE`, watermark sync: the source table), cache name, or '' (execution upload). */
  table: string;
}

/** A job run started (the first run of its workflow execution chain). */
export function recordJobStarted(labels: JobLabels): void {
  jobsStarted.inc({ ...labels });
}

/** What a finished job run reports. */
export interface JobEnd extends JobLabels {
  outcome: JobOutcome;
  /** From the start of the run to its end, seconds. */
  durationSeconds: number;
  /** Rows moved (completed runs). */
  rows?: number;
  /** Bytes transferred (completed runs that move files). */
  bytes?: number;
}

/** A job run ended: its outcome counter, duration, and the rows and bytes it moved. */
export function recordJobEnded(e: JobEnd): void {
  const labels = { job: e.job, table: e.table };
  jobsEnded[e.outcome].inc(labels);
  jobDuration.observe({ job: e.job, outcome: e.outcome }, Math.max(0, e.durationSeconds));
  if (e.rows) jobRows.inc(labels, e.rows);
  if (e.bytes) jobBytes.inc(labels, e.bytes);
}

/** One cache refresh's result (`REFRESHED` / `SKIPPED` / `ERROR`, as the workflow returns it). */
export function recordCacheRefresh(cache: string, result: 'REFRESHED' | 'SKIPPED' | 'ERROR'): void {
  cacheRefreshes.inc({ cache, result: result.toLowerCase() });
}

/** One API request: `route` is the route template (`/api/v1/sync/jobs/:id`), never the raw URL. */
export function recordHttpRequest(method: string, route: string, status: number, seconds: number): void {
  httpDuration.observe({ method, route, status: String(status) }, seconds);
}

/** How a routed query was answered (see `floe_cache_queries_total`). */
export type CacheQueryOutcome = 'hit' | 'passthrough' | 'miss';

/** One routed query; for a hit, the caches it read. */
export function recordCacheQuery(outcome: CacheQueryOutcome, caches: readonly string[] = []): void {
  cacheQueries.inc({ outcome });
  if (outcome === 'hit') for (const cache of caches) cacheHits.inc({ cache });
}
