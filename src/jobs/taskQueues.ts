/**
 * Task queues: the one place their names are made. Types and pure functions only (workflows may
 * import this file).
 *
 * A Temporal worker polls one task queue; a workflow's activities and children run on the workflow's
 * own queue unless it names another (`proxyActivities({ taskQueue })`). floe gives each job kind its
 * own queue so workers can be started for some jobs only (`npm run worker -- --jobs ...`), and gives
 * the table sync's transfer — every activity that writes the DuckDB file — a queue of its own, served
 * only by the worker on the host that owns that file (`FLOE_DUCKDB_OWNER=true`):
 *
 * | job (`--jobs` name)  | queue (prefix `floe-v1`)      | runs                                          | scales with            |
 * |----------------------|-------------------------------|-----------------------------------------------|------------------------|
 * | `table-sync`         | `floe-v1`                     | `tableSync` workflows, describe/count/status  | any number of workers  |
 * | (DuckDB owner)       | `floe-v1-duckdb`              | `tableSyncTransfer`, `tableSyncCleanup`       | exactly one host       |
 * | `watermark-sync`     | `floe-v1-watermark-sync`      | `watermarkSync`, `watermarkTableSync`, `pgSync*` | any number of workers |
 * | `cache-refresh`      | `floe-v1-cache-refresh`       | `cacheRefresh*`, `cache*`                     | any number of workers (shared DUCKLAKE_DATA_PATH) |
 * | `execution-upload`   | `floe-v1-execution-upload`    | `executionUploadDrain`, `executionUpload`, `upload*` | any number of workers |
 *
 * The table-sync queue is the prefix itself (`FLOE_TASK_QUEUE`, default `floe-v1`): runs and
 * Schedules created before the queues were split name that queue, and a worker serving `table-sync`
 * registers every workflow and activity, so they still find a worker.
 */

/** Job kinds a worker can be started for (`--jobs`), in the order workers are created. */
export const JOB_KINDS = ['table-sync', 'watermark-sync', 'cache-refresh', 'execution-upload'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Task queue names of one deployment (one prefix). */
export interface TaskQueues {
  /** `tableSync` workflows and their short activities (Snowflake describe/count, status in PostgreSQL). */
  tableSync: string;
  /** Table sync activities that write the DuckDB file; polled only by the DuckDB owner. */
  tableSyncTransfer: string;
  watermarkSync: string;
  cacheRefresh: string;
  executionUpload: string;
}

/** Queue names under `prefix` (FLOE_TASK_QUEUE); see the module comment for the layout. */
export function taskQueues(prefix: string): TaskQueues {
  return {
    tableSync: prefix,
    tableSyncTransfer: `${prefix}-duckdb`,
    watermarkSync: `${prefix}-watermark-sync`,
    cacheRefresh: `${prefix}-cache-refresh`,
    executionUpload: `${prefix}-execution-upload`,
  };
}

/** The workflow queue of one job kind. */
export function jobQueue(queues: TaskQueues, kind: JobKind): string {
  switch (kind) {
    case 'table-sync':
      return queues.tableSync;
    case 'watermark-sync':
      return queues.watermarkSync;
    case 'cache-refresh':
      return queues.cacheRefresh;
    case 'execution-upload':
      return queues.executionUpload;
  }
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
