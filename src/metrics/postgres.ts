/**
 * Metrics read from PostgreSQL at scrape time (prom-client `collect()` callbacks), so every API
 * process reports the same state however many workers run: the execution-upload queue's depth, its
 * oldest pending item, the queue latency of uploads, and each cache's staleness. Registered on the
 * registry the API's `GET /metrics` serves (./http.ts).
 */
import type pg from 'pg';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { listCaches } from '../jobs/cache-refresh/store.js';
import { QUEUE_STATUSES, queueStats, uploadsCompletedAfter } from '../jobs/execution-upload/monitor.js';
import { QUEUE_LATENCY_BUCKETS } from './index.js';

/** Seconds a completed upload waits before the latency histogram observes it (see below). */
const SETTLE_SECONDS = 2;

/**
 * Register the PostgreSQL-backed metrics on `registry`, reading through `pool` on each scrape.
 *
 * `floe_execution_upload_queue_latency_seconds` observes uploads completed since this registry's
 * previous scrape (the first scrape only sets the starting point, from PostgreSQL's clock): each API
 * process observes every upload once. Items younger than {@link SETTLE_SECONDS} wait for the next
 * scrape, so an upload whose transaction commits during a scrape is not skipped.
 */
export function registerPostgresMetrics(pool: pg.Pool, registry: Registry): void {
  const registers = [registry];
  const oldestPending = new Gauge({
    name: 'floe_execution_upload_queue_oldest_pending_seconds',
    help: 'Age of the oldest pending execution-upload queue item (0 when none is pending)',
    registers,
  });
  new Gauge({
    name: 'floe_execution_upload_queue_items',
    help: 'Execution-upload queue items by status (pending, processing, completed, failed, skipped)',
    labelNames: ['status'],
    registers,
    async collect() {
      const stats = await queueStats(pool, null);
      for (const s of QUEUE_STATUSES) this.set({ status: s }, stats[s].count);
      const oldest = stats.pending.oldest_created_at;
      oldestPending.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
    },
  });
  let cursor: string | null = null;
  new Histogram({
    name: 'floe_execution_upload_queue_latency_seconds',
    help: 'Seconds from queueing an execution to its completed upload',
    buckets: QUEUE_LATENCY_BUCKETS,
    registers,
    async collect() {
      const r = await uploadsCompletedAfter(pool, cursor, SETTLE_SECONDS);
      if (cursor) for (const s of r.latencies) this.observe(s);
      cursor = r.until;
    },
  });
  new Gauge({
    name: 'floe_cache_staleness_seconds',
    help: 'Seconds since each cache was last refreshed (caches never refreshed are absent)',
    labelNames: ['cache'],
    registers,
    async collect() {
      this.reset();
      for (const c of await listCaches(pool)) {
        if (c.refreshed_at)
          this.set({ cache: c.cache_name }, Math.max(0, (Date.now() - c.refreshed_at.getTime()) / 1000));
      }
    },
  });
}
