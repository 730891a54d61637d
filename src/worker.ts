/**
 * floe's Temporal worker: registers every activity (built by `createActivities` from the config's
 * Snowflake settings, DuckDB path and PostgreSQL pool — credentials stay in this process) and every
 * workflow of src/workflows on `config.temporal.taskQueue`.
 *
 * ```ts
 * const worker = await createWorker({ config });            // or { config, connection, workflowBundle }
 * await worker.run();                                       // resolves after worker.shutdown(); closes what it opened
 * ```
 * Run as a script: `tsx src/worker.ts` (config from the environment, src/config.ts; SIGINT/SIGTERM stop it).
 *
 * Downloads and loads happen inside one activity, so one task queue is enough (DESIGN §4).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { loadConfig, type FloeConfig } from './config.js';
import { createPool } from './db/index.js';
import { createLogger } from './logger.js';
import { secretKeys, type SecretKeys } from './secrets/crypto.js';
import { closeLakes, lakeSettingsFromConfig } from './cache/storage.js';
import { credentialResolver } from './credentials/store.js';

/** Options of {@link createWorker}. */
export interface CreateWorkerOptions {
  config: FloeConfig;
  /** An existing connection (not closed by the worker); default: connect to `config.temporal.address`. */
  connection?: NativeConnection;
  /** Pre-bundled workflow code (`bundleWorkflowCode({ workflowsPath })`, ~1.5 s — bundle once per test run). */
  workflowBundle?: WorkflowBundle;
  /** An existing control-plane pool (not closed by the worker); default: a new pool on `config.databaseUrl`. */
  pool?: pg.Pool;
  /** Keys of stored secrets (default from `config.executionUpload`: FLOE_ENCRYPTION_KEY and _PREVIOUS). */
  secretKeys?: SecretKeys;
  /** Activity tuning passed through to createActivities. */
  stage?: [string, string, string];
  maxFileSizeBytes?: number;
  /** Concurrent activities (default 4: one DuckDB writer file, 2 cores). */
  maxConcurrentActivityTaskExecutions?: number;
  logger?: Logger;
}

/** Absolute path of src/workflows/index (.ts under tsx, .js when compiled), for `workflowsPath`. */
export const workflowsPath = (() => {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), 'workflows', `index${path.extname(here)}`);
})();

/**
 * Create a worker. What it opens itself (Temporal connection, pg pool) is closed when `run()` settles.
 * Throws when the Temporal server is unreachable or the workflow bundle fails to build.
 */
export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ name: 'worker' });
  const ownConnection = !opts.connection;
  const connection = opts.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  let pool = opts.pool;
  let ownPool = false;
  let pgSyncSourcePool: pg.Pool | undefined;
  try {
    if (!pool) {
      pool = createPool(config.databaseUrl, { applicationName: 'floe-worker', max: 4 });
      ownPool = true;
    }
    const keys = opts.secretKeys ?? secretKeys(config.executionUpload.encryptionKey, config.executionUpload.previousEncryptionKey);
    const sourceUrl = config.pgSync.sourceDatabaseUrl;
    if (sourceUrl !== config.databaseUrl) {
      pgSyncSourcePool = createPool(sourceUrl, { applicationName: 'floe-worker-pgsync', max: 4 });
    }
    const activities = createActivities({
      pgSyncSourcePool,
      cache: { lake: lakeSettingsFromConfig(config), credentials: credentialResolver(pool, keys, config.snowflake) },
      secretKeys: keys,
      snowflake: config.snowflake,
      duckdbPath: config.duckdbPath,
      pool,
      tmpDir: path.join(config.stateDir, 'tmp', 'table-sync'),
      stage: opts.stage,
      maxFileSizeBytes: opts.maxFileSizeBytes,
      logger,
    });
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities,
      ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 4,
    });
    const run = worker.run.bind(worker);
    const closeOwned = async () => {
      await closeLakes().catch(() => undefined);
      if (ownPool) await pool!.end().catch(() => undefined);
      await pgSyncSourcePool?.end().catch(() => undefined);
      if (ownConnection) await connection.close().catch(() => undefined);
    };
    // Close what this factory opened once the worker has stopped.
    worker.run = async () => {
      try {
        await run();
      } finally {
        await closeOwned();
      }
    };
    return worker;
  } catch (err) {
    if (ownPool) await pool!.end().catch(() => undefined);
    await pgSyncSourcePool?.end().catch(() => undefined);
    if (ownConnection) await connection.close().catch(() => undefined);
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker' });
  const worker = await createWorker({ config, logger });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  await worker.run();
  logger.info('worker stopped');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
