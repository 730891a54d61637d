/**
 * floe's shared vocabulary: what every job calls the same thing. Job kinds, the custom search
 * attributes that make Temporal's visibility floe's job log, job status, and task queue names.
 *
 * Workflows import this module at run time, so it holds constants, types and pure functions only, plus
 * {@link setJobStatus}, which calls `upsertSearchAttributes` and therefore works only inside a
 * workflow. (Importing `@temporalio/workflow` from a client or API process is fine; only calling its
 * functions outside a workflow throws.)
 */
import { defineSearchAttributeKey, type SearchAttributeType } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

/** The four jobs, by the names used everywhere (`--jobs`, docs, folders under src/jobs). */
export const JOB_KINDS = ['table-sync', 'watermark-sync', 'cache-refresh', 'execution-upload'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The `FloeJobKind` search attribute value of each job (snake case: Temporal visibility queries quote less). */
export const JOB_KIND_ATTRIBUTE: Record<JobKind, string> = {
  'table-sync': 'table_sync',
  'watermark-sync': 'watermark_sync',
  'cache-refresh': 'cache_refresh',
  'execution-upload': 'execution_upload',
};

/**
 * floe's custom search attributes, declared once: the start options and `upsertSearchAttributes` use
 * the typed keys ({@link SA}), the Temporal server is registered with {@link SEARCH_ATTRIBUTE_TYPES},
 * and visibility queries name them through {@link SEARCH_ATTRIBUTES}.
 */
const DECLARED = {
  /** Which job ({@link JOB_KIND_ATTRIBUTE}). */
  jobKind: { name: 'FloeJobKind', type: 'KEYWORD' },
  /** What the job works on: `DB.SCHEMA.TABLE` (table sync), the source table (watermark sync), the cache name, the execution. */
  table: { name: 'FloeTable', type: 'KEYWORD' },
  /** Full refresh / incremental (table sync), smart / force (cache refresh). */
  strategy: { name: 'FloeStrategy', type: 'KEYWORD' },
  /** {@link FloeJobStatus}, upserted as the run goes. */
  status: { name: 'FloeStatus', type: 'KEYWORD' },
  /** Rows the job moved (table sync: rows in the target after the run). */
  rows: { name: 'FloeRows', type: 'INT' },
  /** Table sync: the DuckDB target, quoted (`"DB__S"."T"`). */
  target: { name: 'FloeTarget', type: 'KEYWORD' },
  /** Table sync: rows read from the source by the run. */
  rowsRead: { name: 'FloeRowsRead', type: 'INT' },
} as const satisfies Record<string, { name: string; type: 'KEYWORD' | 'INT' }>;

type Declared = typeof DECLARED;

/** Search attribute names, for visibility queries (`FloeTable = '...'`). */
export const SEARCH_ATTRIBUTES = Object.fromEntries(Object.entries(DECLARED).map(([k, v]) => [k, v.name])) as {
  [K in keyof Declared]: Declared[K]['name'];
};

/** Typed search attribute keys (for `typedSearchAttributes` when starting, and `upsertSearchAttributes`). */
export const SA = Object.fromEntries(
  Object.entries(DECLARED).map(([k, v]) => [k, defineSearchAttributeKey(v.name, v.type as SearchAttributeType)]),
) as {
  [K in keyof Declared]: ReturnType<typeof defineSearchAttributeKey<Declared[K]['type']>>;
};

/** Search attribute types as `temporal operator search-attribute create` and `start-dev --search-attribute` spell them. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'Int'> = Object.fromEntries(
  Object.values(DECLARED).map((v) => [v.name, v.type === 'INT' ? 'Int' : 'Keyword']),
);

/** `FloeStatus` values: `pending` when started (table sync, before its first activity), then as the run goes. */
export type FloeJobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** What a workflow says about itself in its search attributes. */
export interface JobStatusAttributes {
  /** The `FloeTable` value: what the job works on. */
  subject: string;
  status: FloeJobStatus;
  /** `FloeRows`. */
  rows?: number;
  /** `FloeRowsRead`. */
  rowsRead?: number;
  /** `FloeStrategy`. */
  strategy?: string;
  /** `FloeTarget`. */
  target?: string;
}

/**
 * The search attributes of one job's status, typed, in the order {@link setJobStatus} and start options
 * use. Pure: usable by clients (start options) and workflows alike.
 */
export function jobStatusAttributes(kind: JobKind, a: JobStatusAttributes) {
  return [
    { key: SA.jobKind, value: JOB_KIND_ATTRIBUTE[kind] },
    { key: SA.table, value: a.subject },
    { key: SA.status, value: a.status },
    ...(a.strategy !== undefined ? [{ key: SA.strategy, value: a.strategy }] : []),
    ...(a.target !== undefined ? [{ key: SA.target, value: a.target }] : []),
    ...(a.rows !== undefined ? [{ key: SA.rows, value: a.rows }] : []),
    ...(a.rowsRead !== undefined ? [{ key: SA.rowsRead, value: a.rowsRead }] : []),
  ];
}

/**
 * Upsert the running workflow's job status (search attributes). Workflow code only: it records an
 * `UpsertWorkflowSearchAttributes` command, so calls must happen in the same order on replay.
 */
export function setJobStatus(kind: JobKind, a: JobStatusAttributes): void {
  upsertSearchAttributes(jobStatusAttributes(kind, a));
}

/**
 * Default task queue prefix (FLOE_TASK_QUEUE); versioned so an incompatible workflow change starts new
 * queues. The queues under it are named by {@link taskQueues}.
 */
export const DEFAULT_TASK_QUEUE = 'floe-v1';

/**
 * Task queue names of one deployment (one prefix).
 *
 * A Temporal worker polls one task queue; a workflow's activities run on the workflow's own queue
 * unless it names another (`proxyActivities({ taskQueue })`). floe gives each job its own queue so
 * workers can be started for some jobs only (`npm run worker -- --jobs ...`), and gives the table
 * sync's transfer — every activity that writes the DuckDB file — a queue of its own, served only by
 * the worker on the host that owns that file (`FLOE_DUCKDB_OWNER=true`):
 *
 * | job (`--jobs` name)  | queue (prefix `floe-v1`)      | scales with                                      |
 * |----------------------|-------------------------------|--------------------------------------------------|
 * | `table-sync`         | `floe-v1`                     | any number of workers                            |
 * | (DuckDB owner)       | `floe-v1-duckdb`              | exactly one host                                 |
 * | `watermark-sync`     | `floe-v1-watermark-sync`      | any number of workers                            |
 * | `cache-refresh`      | `floe-v1-cache-refresh`       | any number of workers (shared DUCKLAKE_DATA_PATH) |
 * | `execution-upload`   | `floe-v1-execution-upload`    | any number of workers                            |
 *
 * The table-sync queue is the prefix itself: runs and Schedules created before the queues were split
 * name that queue, and a worker serving `table-sync` registers every workflow and activity, so they
 * still find a worker.
 */
export interface TaskQueues {
  /** Table sync workflows and their short activities (Snowflake describe/count, status in PostgreSQL). */
  tableSync: string;
  /** Table sync activities that write the DuckDB file; polled only by the DuckDB owner. */
  tableSyncTransfer: string;
  watermarkSync: string;
  cacheRefresh: string;
  executionUpload: string;
}

/** Queue names under `prefix` (FLOE_TASK_QUEUE); see {@link TaskQueues} for the layout. */
export function taskQueues(prefix: string): TaskQueues {
  return {
    tableSync: prefix,
    tableSyncTransfer: `${prefix}-duckdb`,
    watermarkSync: `${prefix}-watermark-sync`,
    cacheRefresh: `${prefix}-cache-refresh`,
    executionUpload: `${prefix}-execution-upload`,
  };
}

/** The workflow queue of one job. */
export function jobQueue(queues: TaskQueues, kind: JobKind): string {
  const byKind: Record<JobKind, string> = {
    'table-sync': queues.tableSync,
    'watermark-sync': queues.watermarkSync,
    'cache-refresh': queues.cacheRefresh,
    'execution-upload': queues.executionUpload,
  };
  return byKind[kind];
}

/**
 * Parses a `--jobs` value: comma-separated {@link JOB_KINDS} names, or `all`.
 *
 * @returns the kinds, deduplicated, in {@link JOB_KINDS} order.
 * @throws Error naming the unknown entry and listing the valid ones.
 */
export function parseJobKinds(text: string): JobKind[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`--jobs is empty: use all or some of ${JOB_KINDS.join(', ')}`);
  if (names.length === 1 && names[0] === 'all') return [...JOB_KINDS];
  for (const n of names) {
    if (!(JOB_KINDS as readonly string[]).includes(n))
      throw new Error(`--jobs: unknown job ${JSON.stringify(n)}; valid: all, ${JOB_KINDS.join(', ')}`);
  }
  return JOB_KINDS.filter((k) => names.includes(k));
}
