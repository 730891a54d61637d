/**
 * The cache refresh's state in PostgreSQL, as activities: a refresh starting, a refresh done, a failure
 * (a skip is recorded by the check itself). Each is one UPDATE keyed by cache name: idempotent (a retry writes the same values).
 */
import type pg from 'pg';
import * as store from '../../jobs/cache-refresh/store.js';

/** The state-recording activities over `pool`. */
export function createCacheStateActivities(pool: pg.Pool) {
  /** A skip, recorded apart from the check: used only by refreshes started before the check recorded it. */
  async function cacheRecordSkip(input: { cacheName: string; jobId: string }): Promise<void> {
    await store.recordSkip(pool, input.cacheName, input.jobId);
  }

  async function cacheMarkRefreshing(input: { cacheName: string; jobId: string }): Promise<void> {
    await store.recordRefreshing(pool, input.cacheName, input.jobId);
  }

  async function cacheRecordRefreshed(input: store.RefreshedState): Promise<void> {
    await store.recordRefreshed(pool, input);
  }

  async function cacheRecordError(input: { cacheName: string; jobId: string; message: string }): Promise<void> {
    await store.recordError(pool, input.cacheName, input.jobId, input.message);
  }

  return { cacheRecordSkip, cacheMarkRefreshing, cacheRecordRefreshed, cacheRecordError };
}
