/**
 * The job registry: the one list of floe's jobs. The worker (src/worker.ts, activities in
 * src/activities/index.ts), the API (src/api/app.ts) and start-up (src/infra/startup.ts) loop over
 * {@link JOBS}; none of them names a job. Adding a fifth job is its own folders, one line here and
 * one migration (docs/adding-a-job.md).
 *
 * Each job's entry lives in `src/jobs/<kind>/job.ts` and is a {@link JobModule}: the composition root
 * of that job (it imports the job's activities, router and client), never imported by workflow code.
 */
import type { Client } from '@temporalio/client';
import type { Router } from 'express';
import type pg from 'pg';
import type { ApiDeps } from '../api/deps.js';
import type { FloeConfig } from '../config.js';
import type { CredentialResolver } from '../credentials/store.js';
import type { Logger } from '../logger.js';
import type { SecretKeys } from '../secrets/crypto.js';
import type { JobKind } from './common.js';
import { tableSyncJob } from './table-sync/job.js';
import { watermarkSyncJob } from './watermark-sync/job.js';
import { cacheRefreshJob } from './cache-refresh/job.js';
import { executionUploadJob } from './execution-upload/job.js';

/** What every job's activities may use; built once per worker process (credentials stay in it). */
export interface WorkerContext {
  config: FloeConfig;
  /** Control-plane PostgreSQL pool (DATABASE_URL). */
  pool: pg.Pool;
  /** Watermark sync's source database (PG_SYNC_SOURCE_URL); `pool` when they are the same. */
  watermarkSyncSourcePool: pg.Pool;
  /** Keys of stored secrets (FLOE_ENCRYPTION_KEY and its predecessor); undefined when not configured. */
  secretKeys: SecretKeys | undefined;
  /** Resolves a named credential (or floe's own connection) to Snowflake settings. */
  credentials: CredentialResolver;
  /** Parent of the per-job temp directories: each job uses `<tmpRoot>/<kind>`. */
  tmpRoot: string;
  logger: Logger;
  /** Table sync tuning (benchmarks, tests): the unload stage and file size. */
  tableSync?: { stage?: [string, string, string]; maxFileSizeBytes?: number };
}

/** A router of one job, mounted by the API app. */
export interface JobRoute {
  /** Mount path, e.g. `/api/v1` or `/api/v1/watermark-sync`. */
  path: string;
  /**
   * `admin`: admin tokens only. `user`: any valid token; the router scopes a `user` token to its own
   * user_id (`res.locals.auth.userId`).
   */
  access: 'admin' | 'user';
  router: Router;
  /**
   * Further mount paths of the same router, kept for clients of earlier releases. The API serves
   * them like `path`; the OpenAPI document describes the routes under `path` only.
   */
  aliases?: readonly string[];
}

/** One job, as the worker, the API and start-up see it. */
export interface JobModule {
  kind: JobKind;
  /** Human name, as the docs use it ("table sync"). */
  title: string;
  /** Migration files (under migrations/) that create this job's tables, in order. */
  migrations: readonly string[];
  /**
   * The job's activities (plain async functions; the worker wraps them with `wrapActivities`), or null
   * when this process lacks what they need (e.g. no encryption key for execution upload).
   * Activity names are prefixed by the job, so they never clash.
   */
  activities(ctx: WorkerContext): Record<string, (...args: never[]) => Promise<unknown>> | null;
  /** The job's HTTP routes. */
  routes(deps: ApiDeps): JobRoute[];
  /**
   * Schedules a worker serving this job creates or updates at start-up (jobs whose Schedules users
   * make through the API have none). Idempotent.
   * @returns the Schedule ids ensured.
   */
  ensureSchedules?(client: Client, config: FloeConfig): Promise<string[]>;
  /**
   * Background work a worker serving this job runs beside its task queues (e.g. a PostgreSQL LISTEN
   * that starts work early), or null when this process does not run it. Started when the worker runs,
   * without delaying it (so it must return at once and never throw), closed when the worker stops.
   */
  watch?(ctx: WorkerContext, client: Client): { close(): Promise<void> } | null;
}

/** Every job, in the order workers create their queues and the API mounts their routes. */
export const JOBS: readonly JobModule[] = [tableSyncJob, watermarkSyncJob, cacheRefreshJob, executionUploadJob];

/** Migrations that belong to no job (API users, credentials). */
export const CORE_MIGRATIONS: readonly string[] = ['0005_api_users.sql', '0006_credentials.sql'];

/** The registered module of `kind`. */
export function jobModule(kind: JobKind): JobModule {
  const job = JOBS.find((j) => j.kind === kind);
  if (!job) throw new Error(`no job ${kind} in the registry`);
  return job;
}
