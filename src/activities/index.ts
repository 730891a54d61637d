/**
 * Every floe activity, built from one {@link WorkerContext} (credentials stay in the worker process,
 * never in workflow inputs) by each registered job's factory (src/jobs/registry.ts), and wrapped so
 * every thrown error leaves as a typed Temporal failure (src/errors.ts).
 *
 * ```ts
 * const activities = createActivities(ctx);
 * Worker.create({ activities, ... });
 * ```
 *
 * Activity names are prefixed per job, so they never clash; a duplicate name is a programming error
 * and throws.
 */
import { wrapActivities } from '../errors.js';
import { JOBS, type WorkerContext } from '../jobs/registry.js';
import type { TableSyncActivities } from './table-sync/index.js';
import type { WatermarkSyncActivities } from './watermark-sync/index.js';
import type { ExecutionUploadActivities } from './execution-upload/index.js';
import type { CacheRefreshActivities } from './cache-refresh/index.js';

type ActivityFn = (...args: never[]) => Promise<unknown>;

/**
 * Build the activity object the worker registers: the union of every job's activities (a job whose
 * factory returns null — it lacks what it needs in this process — contributes none).
 * @throws Error when two jobs register the same activity name.
 */
export function createActivities(ctx: WorkerContext): Record<string, ActivityFn> {
  const all: Record<string, ActivityFn> = {};
  for (const job of JOBS) {
    const acts = job.activities(ctx);
    if (!acts) continue;
    for (const [name, fn] of Object.entries(acts)) {
      if (name in all) throw new Error(`activity ${name} of ${job.title} is already registered by another job`);
      all[name] = fn;
    }
  }
  return wrapActivities(all);
}

/** Every activity's interface, for `proxyActivities<Activities>()` in workflows (type import only). */
export type Activities = TableSyncActivities &
  WatermarkSyncActivities &
  ExecutionUploadActivities &
  CacheRefreshActivities;
