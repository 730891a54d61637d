/**
 * All floe activities, built from one dependency closure (credentials stay here, never in inputs) and
 * wrapped so every thrown error leaves as a typed Temporal failure (src/errors.ts).
 *
 * ```ts
 * const activities = createActivities({ snowflake, duckdbPath, pool, tmpDir, logger });
 * Worker.create({ activities, ... });
 * ```
 *
 * Composition: the table sync's activities always; the watermark sync's (`pgSync*`, PostgreSQL →
 * Snowflake) when a control-plane `pool` is given; the cache refresh's when `pool` and `cache` are given;
 * the execution upload's (`upload*`) when `pool` and `secretKeys` are given. Activity names are prefixed per job, so they never clash.
 */
import path from 'node:path';
import type pg from 'pg';
import { wrapActivities } from '../errors.js';
import type { SecretKeys } from '../secrets/crypto.js';
import { createTableSyncActivities, type TableSyncDeps } from './tableSync.js';
import { createWatermarkSyncActivities, type WatermarkSyncActivities } from './watermarkSync.js';
import { createExecutionUploadActivities, type ExecutionUploadActivities } from './executionUpload.js';
import { createCacheActivities, type CacheActivities, type CacheActivityDeps } from './cache.js';

/** Dependencies of every activity (see {@link TableSyncDeps} for the table sync's). */
export interface ActivityDeps extends TableSyncDeps {
  /** Watermark sync source database (PG_SYNC_SOURCE_URL); default `pool`. */
  pgSyncSourcePool?: pg.Pool;
  /** Execution upload: the AES-256-GCM keys that decrypt per-user Snowflake credentials. */
  secretKeys?: SecretKeys;
  /** Query-result cache (seed 003): DuckLake settings and the credentials resolver; cache activities need `pool` too. */
  cache?: Pick<CacheActivityDeps, 'lake' | 'credentials'>;
  /** Parent of the per-job temp directories (default: the parent of `tmpDir`). */
  tmpRoot?: string;
}

type TableSyncActivities = ReturnType<typeof createTableSyncActivities>;

/** Build the activity object the worker registers. */
export function createActivities(deps: ActivityDeps) {
  const tmpRoot = deps.tmpRoot ?? path.dirname(deps.tmpDir);
  const acts: TableSyncActivities &
    Partial<WatermarkSyncActivities> &
    Partial<ExecutionUploadActivities> &
    Partial<CacheActivities> = {
    ...createTableSyncActivities(deps),
  };
  if (deps.pool) {
    Object.assign(
      acts,
      createWatermarkSyncActivities({
        pool: deps.pool,
        sourcePool: deps.pgSyncSourcePool ?? deps.pool,
        snowflake: deps.snowflake,
        tmpDir: path.join(tmpRoot, 'pg-sync'),
        logger: deps.logger,
      }),
    );
    if (deps.cache) {
      Object.assign(
        acts,
        createCacheActivities({
          pool: deps.pool,
          ...deps.cache,
          tmpDir: path.join(tmpRoot, 'cache'),
          logger: deps.logger,
        }),
      );
    }
    if (deps.secretKeys) {
      Object.assign(
        acts,
        createExecutionUploadActivities({
          pool: deps.pool,
          secretKeys: deps.secretKeys,
          tmpDir: path.join(tmpRoot, 'execution-upload'),
          logger: deps.logger,
        }),
      );
    }
  }
  return wrapActivities(
    acts as TableSyncActivities & WatermarkSyncActivities & ExecutionUploadActivities & CacheActivities,
  );
}

/** The activity interface, for `proxyActivities<Activities>()` in workflows (type import only). */
export type Activities = ReturnType<typeof createActivities>;

export type { TransferInput, TransferResult, DescribeInput, TableSyncDeps } from './tableSync.js';
export type { SourceDescription } from './snowflake.js';
export type { TableStatusUpdate } from './postgres.js';
