/**
 * What each floe process ensures at start-up, idempotently, so the worker and the API can be started
 * on their own, in any order, any number of times (`npm run worker`, `npm run api`, `npm run stack`,
 * the Docker services):
 *
 * | process | ensures                                                                             |
 * |---------|-------------------------------------------------------------------------------------|
 * | both    | control-plane schema (migrations; advisory-locked, so simultaneous starts are safe) and floe's search attributes on the Temporal namespace |
 * | worker  | the Temporal Schedules of the jobs it serves (each job's `ensureSchedules` in src/jobs/registry.ts; today the execution-upload drain) |
 *
 * Schedules a user creates (table sync, watermark sync, cache refresh) are made through the API and
 * point at their job's task queue (src/jobs/common.ts).
 */
import type { Client } from '@temporalio/client';
import type { FloeConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { JOBS } from '../jobs/registry.js';
import type { JobKind } from '../jobs/common.js';
import type { Logger } from '../logger.js';
import { ensureSearchAttributes } from './temporal.js';

/**
 * Applies pending migrations and registers missing search attributes. A server that refuses the
 * registration (Temporal Cloud registers them through its own control plane, not the OperatorService)
 * is logged as a warning naming what to register, not a start-up failure.
 *
 * @throws when PostgreSQL is unreachable or a migration fails.
 */
export async function prepareControlPlane(config: FloeConfig, log: Logger): Promise<void> {
  await migrate(config.databaseUrl);
  try {
    await ensureSearchAttributes(config.temporal.address, config.temporal.namespace);
  } catch (err) {
    log.warn(
      { err: err instanceof Error ? err.message : String(err), namespace: config.temporal.namespace },
      'could not register search attributes FloeJobKind, FloeTable, FloeStrategy, FloeStatus (Keyword) and FloeRows (Int); register them on the namespace',
    );
  }
}

/**
 * Creates or updates the Schedules owned by a worker serving `jobs` (see the module table).
 *
 * @returns the ids of the Schedules ensured.
 * @throws Temporal's error when the server refuses.
 */
export async function ensureWorkerSchedules(
  client: Client,
  config: FloeConfig,
  jobs: readonly JobKind[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const job of JOBS) {
    if (jobs.includes(job.kind) && job.ensureSchedules) ids.push(...(await job.ensureSchedules(client, config)));
  }
  return ids;
}
