/**
 * floe's Temporal worker: registers every activity (built by `createActivities` from the config's
 * Snowflake settings, DuckDB path and PostgreSQL pool — credentials stay in this process) and every
 * workflow of src/workflows, and polls the task queues of the jobs it serves (src/jobs/common.ts):
 * one Temporal `Worker` per queue, all sharing one connection, one workflow bundle and one pool. With
 * `duckdbOwner` (FLOE_DUCKDB_OWNER=true) and `table-sync` among its jobs it also polls the queue of
 * the table sync's DuckDB writes.
 *
 * ```ts
 * const worker = await createWorker({ config, jobs: ['execution-upload'] });   // default: every job
 * await worker.run();                       // resolves after worker.shutdown(); closes what it opened
 * ```
 * Run as a process: `npm run worker [-- --jobs table-sync,cache-refresh]` (see `main` below); with
 * WORKER_METRICS_PORT set it also serves its job metrics at `GET /metrics` (src/metrics/http.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type BundleOptions,
  type State,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { loadConfig, type FloeConfig } from './config.js';
import { createPool } from './db/index.js';
import { createLogger } from './logger.js';
import { JOB_KINDS, jobQueue, parseJobKinds, type JobKind } from './jobs/common.js';
import { JOBS, type WorkerContext } from './jobs/registry.js';
import { ensureWorkerSchedules, prepareControlPlane } from './infra/startup.js';
import { connectWithRetry } from './infra/temporal.js';
import { secretKeys, type SecretKeys } from './secrets/crypto.js';
import { closeLakes } from './jobs/cache-refresh/storage.js';
import { credentialResolver } from './credentials/store.js';
import { jobMetricsSinks } from './metrics/jobs.js';
import { startMetricsServer } from './metrics/http.js';
import { setDuckDbFileMemoryLimit } from './connectors/duckdb.js';

/** Options of {@link createWorker}. */
export interface CreateWorkerOptions {
  config: FloeConfig;
  /** An existing connection (not closed by the worker); default: connect to `config.temporal.address`. */
  connection?: NativeConnection;
  /** Pre-bundled workflow code ({@link bundleWorkflows} or `{ codePath }` of its code, ~1.5 s — bundle once per test run). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Jobs whose queues this worker polls (default every one of {@link JOB_KINDS}). */
  jobs?: readonly JobKind[];
  /** Also poll the table sync's DuckDB-writing queue (default `config.duckdbOwner`); needs `table-sync` in `jobs`. */
  duckdbOwner?: boolean;
  /** An existing control-plane pool (not closed by the worker); default: a new pool on `config.databaseUrl`. */
  pool?: pg.Pool;
  /** Keys of stored secrets (default from `config.executionUpload`: FLOE_ENCRYPTION_KEY and _PREVIOUS). */
  secretKeys?: SecretKeys;
  /** Activity tuning passed through to createActivities. */
  stage?: [string, string, string];
  maxFileSizeBytes?: number;
  /**
   * At most how often a running activity's heartbeat details reach the Temporal server (Temporal's
   * `maxHeartbeatThrottleInterval`; default {@link HEARTBEAT_THROTTLE}): how fresh the progress the API
   * reads from them is.
   */
  heartbeatThrottle?: Duration;
  /**
   * Concurrent activities per polled queue (default 4: one DuckDB writer file, 2 cores); the execution
   * upload queue gets at least `executionUpload.maxConcurrent`, the uploads its drain runs at once.
   */
  maxConcurrentActivityTaskExecutions?: number;
  logger?: Logger;
}

/**
 * Default {@link CreateWorkerOptions.heartbeatThrottle}. The SDK sends the first heartbeat of an attempt at
 * once and then the latest details once per interval: the smaller of 0.8 × the activity's heartbeat
 * timeout and this. One RecordActivityTaskHeartbeat call per running activity every 5 s is cheap; the
 * SDK's default (up to 60 s, 24 s with a 30 s heartbeat timeout) would leave progress that stale.
 */
export const HEARTBEAT_THROTTLE = '5s';

/** Absolute path of a module under src/workflows (.ts under tsx, .js when compiled). */
function workflowModule(name: string): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), 'workflows', `${name}${path.extname(here)}`);
}

/** Absolute path of src/workflows/index, for `workflowsPath`. */
export const workflowsPath = workflowModule('index');

/**
 * Bundle floe's workflows with the job-metrics interceptor (src/workflows/jobMetricsInterceptor.ts),
 * ~1.5 s and ~100 MB: bundle once per process. A worker running this bundle must register
 * `jobMetricsSinks()` (createWorker does). Temporal reads workflow interceptors from the bundle only,
 * so a bundle made without them records no job metrics.
 */
export function bundleWorkflows(opts: Pick<BundleOptions, 'logger'> = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [workflowModule('jobMetricsInterceptor')],
    ...opts,
  });
}

/** A floe worker: one Temporal worker per polled task queue, run and stopped together. */
export interface FloeWorker {
  /** The task queues polled, e.g. `['floe-v1', 'floe-v1-duckdb']`. */
  readonly taskQueues: readonly string[];
  /** Runs every queue's worker; resolves once all have stopped, rejects with the first failure (the others are shut down). */
  run(): Promise<void>;
  /** Runs until `until` settles, then shuts down and waits for the stop; returns what `until` resolved to. */
  runUntil<T>(until: Promise<T>): Promise<T>;
  /** Asks every queue's worker to stop (running activities get their shutdown grace). */
  shutdown(): void;
  /** `RUNNING` while any queue's worker runs, else the first one's state. */
  getState(): State;
}

/**
 * Create a worker. What it opens itself (Temporal connection, pg pool) is closed when `run()` settles.
 * Throws when the Temporal server is unreachable or the workflow bundle fails to build.
 */
export async function createWorker(opts: CreateWorkerOptions): Promise<FloeWorker> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ name: 'worker' });
  const ownConnection = !opts.connection;
  const connection = opts.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  let pool = opts.pool;
  let ownPool = false;
  let watermarkSyncSourcePool: pg.Pool | undefined;
  const workers: Worker[] = [];
  try {
    if (!pool) {
      pool = createPool(config.databaseUrl, { applicationName: 'floe-worker', max: 4 });
      ownPool = true;
    }
    const keys =
      opts.secretKeys ?? secretKeys(config.executionUpload.encryptionKey, config.executionUpload.previousEncryptionKey);
    const sourceUrl = config.watermarkSync.sourceDatabaseUrl;
    if (sourceUrl !== config.databaseUrl) {
      watermarkSyncSourcePool = createPool(sourceUrl, { applicationName: 'floe-worker-watermark-sync', max: 4 });
    }
    const ctx: WorkerContext = {
      config,
      pool,
      watermarkSyncSourcePool: watermarkSyncSourcePool ?? pool,
      secretKeys: keys,
      credentials: credentialResolver(pool, keys, config.snowflake),
      tmpRoot: path.join(config.stateDir, 'tmp'),
      logger,
      tableSync: { stage: opts.stage, maxFileSizeBytes: opts.maxFileSizeBytes },
    };
    const activities = createActivities(ctx);
    const jobs = opts.jobs ?? JOB_KINDS;
    const queues = config.temporal.taskQueues;
    const ownsDuckdb = (opts.duckdbOwner ?? config.duckdbOwner) && jobs.includes('table-sync');
    // One bundle for every queue's worker (bundling takes seconds and ~100 MB).
    // The bundler logs its webpack report at INFO through the logger it is given (its own INFO logger
    // otherwise): give it the Runtime's, which follows LOG_LEVEL when the stack set one.
    const workflowBundle =
      opts.workflowBundle ??
      (jobs.length > 0 ? await bundleWorkflows({ logger: Runtime.instance().logger }) : undefined);
    const common = {
      connection,
      namespace: config.temporal.namespace,
      activities,
      sinks: jobMetricsSinks(),
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 4,
      maxHeartbeatThrottleInterval: opts.heartbeatThrottle ?? HEARTBEAT_THROTTLE,
    };
    for (const kind of jobs) {
      // The execution upload drain runs up to maxConcurrent upload attempts at once on its queue.
      const slots =
        kind === 'execution-upload'
          ? Math.max(common.maxConcurrentActivityTaskExecutions, config.executionUpload.maxConcurrent)
          : common.maxConcurrentActivityTaskExecutions;
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: jobQueue(queues, kind),
          workflowBundle,
          maxConcurrentActivityTaskExecutions: slots,
        }),
      );
    }
    // The DuckDB owner's queue carries activities only (the workflows run on the table-sync queue).
    if (ownsDuckdb) workers.push(await Worker.create({ ...common, taskQueue: queues.tableSyncTransfer }));
    if (workers.length === 0) throw new Error('the worker serves no task queue: give at least one job');
    const shutdown = (): void => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    };
    const closeOwned = async () => {
      await closeLakes().catch(() => undefined);
      if (ownPool) await pool!.end().catch(() => undefined);
      await watermarkSyncSourcePool?.end().catch(() => undefined);
      if (ownConnection) await connection.close().catch(() => undefined);
    };
    const floeWorker: FloeWorker = {
      taskQueues: workers.map((w) => w.options.taskQueue),
      async runUntil<T>(until: Promise<T>): Promise<T> {
        const running = floeWorker.run();
        try {
          return await until;
        } finally {
          shutdown();
          await running;
        }
      },
      async run() {
        // The served jobs' background work (e.g. the execution upload's queue listener), for as long as this runs.
        const temporal = new Client({ connection, namespace: config.temporal.namespace });
        const watchers: { close(): Promise<void> }[] = [];
        try {
          for (const job of JOBS) {
            if (!jobs.includes(job.kind)) continue;
            const w = job.watch?.(ctx, temporal);
            if (w) watchers.push(w);
          }
          // The first failure stops the others, so the process never half-serves its queues.
          const settled = await Promise.allSettled(
            workers.map((w) =>
              w.run().catch((err: unknown) => {
                shutdown();
                throw err;
              }),
            ),
          );
          const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
        } finally {
          await Promise.all(watchers.map((w) => w.close()));
          await closeOwned();
        }
      },
      shutdown,
      getState: () => workers.find((w) => w.getState() === 'RUNNING')?.getState() ?? workers[0]!.getState(),
    };
    return floeWorker;
  } catch (err) {
    // A created worker holds its queue's registration until it has run: run and stop those made so far.
    await Promise.allSettled(workers.map((w) => w.runUntil(Promise.resolve())));
    if (ownPool) await pool!.end().catch(() => undefined);
    await watermarkSyncSourcePool?.end().catch(() => undefined);
    if (ownConnection) await connection.close().catch(() => undefined);
    throw err;
  }
}

/**
 * `npm run worker [-- --jobs table-sync,cache-refresh]`: configuration from the environment
 * (src/config.ts); a connection to Temporal, retried with backoff while the server is unreachable (for
 * TEMPORAL_CONNECT_TIMEOUT_SECONDS, then it exits 1); start-up checks and Schedules
 * (src/infra/startup.ts); then poll until SIGINT/SIGTERM (the Temporal runtime's shutdown signals:
 * running activities get their grace, then it exits).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: 'all' } }, allowPositionals: false });
  let jobs = parseJobKinds(values.jobs);
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel, format: config.logFormat });
  setDuckDbFileMemoryLimit(config.duckdbMemoryLimit);
  if (jobs.includes('execution-upload') && config.executionUpload.encryptionKey === undefined) {
    // The uploads decrypt each user's Snowflake password with this key: without it they cannot run.
    if (values.jobs !== 'all')
      throw new Error(
        "--jobs execution-upload needs FLOE_ENCRYPTION_KEY (the key that decrypts users' Snowflake passwords)",
      );
    jobs = jobs.filter((j) => j !== 'execution-upload');
    logger.warn('FLOE_ENCRYPTION_KEY is not set: execution upload is left out of --jobs all');
  }
  // Temporal may be starting or restarting along with this worker: wait for it rather than exit.
  const { address } = config.temporal;
  const native = await connectWithRetry(() => NativeConnection.connect({ address }), {
    address,
    timeoutSeconds: config.temporal.connectTimeoutSeconds,
    log: logger,
  });
  try {
    await serve(config, logger, jobs, native);
  } finally {
    await native.close();
  }
}

/** The worker process once Temporal answers: start-up checks, Schedules, then poll until stopped. */
async function serve(config: FloeConfig, logger: Logger, jobs: JobKind[], native: NativeConnection): Promise<void> {
  await prepareControlPlane(config, logger);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const schedules = await ensureWorkerSchedules(
      new Client({ connection, namespace: config.temporal.namespace }),
      config,
      jobs,
    );
    if (schedules.length) logger.info({ schedules }, 'schedules ensured');
  } finally {
    await connection.close();
  }
  if (jobs.includes('table-sync') && !config.duckdbOwner) {
    logger.warn(
      { queue: config.temporal.taskQueues.tableSyncTransfer },
      "not the DuckDB owner (FLOE_DUCKDB_OWNER is not true): table syncs run their DuckDB writes on the owner's worker",
    );
  }
  const worker = await createWorker({ config, logger, jobs, connection: native });
  // The worker's job metrics (docs/metrics.md), behind METRICS_TOKEN like the API's.
  const metrics = config.workerMetrics
    ? await startMetricsServer({ ...config.workerMetrics, token: config.api.metricsToken, logger })
    : undefined;
  logger.info(
    {
      jobs,
      taskQueues: worker.taskQueues,
      namespace: config.temporal.namespace,
      pid: process.pid,
      metrics: metrics?.url,
    },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    await metrics?.close();
  }
  logger.info('worker stopped');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
