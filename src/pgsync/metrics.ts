/**
 * Prometheus metrics of the watermark sync, per table (label `table` = source table), read from
 * `sync_watermarks` at scrape time so every process (API, worker) reports the same numbers:
 * `sync_success_count`, `sync_failure_count`, `last_sync_duration_seconds`, `rows_processed`
 * (rows of the last run), plus `sync_rows_total` and `sync_last_run_timestamp_seconds`.
 */
import type pg from 'pg';
import { Gauge, Registry } from 'prom-client';
import { listWatermarks } from './store.js';

/** A registry whose gauges are filled from `pool` on every scrape (`registry.metrics()`). */
export function createPgSyncMetrics(pool: pg.Pool, registry: Registry = new Registry()): Registry {
  const gauges = {
    success: new Gauge({
      name: 'sync_success_count',
      help: 'Successful watermark sync runs per table',
      labelNames: ['table'],
      registers: [registry],
      collect: () => shared(),
    }),
    failure: new Gauge({
      name: 'sync_failure_count',
      help: 'Failed watermark sync runs per table',
      labelNames: ['table'],
      registers: [registry],
      collect: () => shared(),
    }),
    duration: new Gauge({
      name: 'last_sync_duration_seconds',
      help: 'Duration of the last watermark sync run per table',
      labelNames: ['table'],
      registers: [registry],
      collect: () => shared(),
    }),
    rows: new Gauge({
      name: 'rows_processed',
      help: 'Rows merged by the last watermark sync run per table',
      labelNames: ['table'],
      registers: [registry],
      collect: () => shared(),
    }),
    total: new Gauge({
      name: 'sync_rows_total',
      help: 'Rows merged since the table was added',
      labelNames: ['table'],
      registers: [registry],
      collect: () => shared(),
    }),
    lastRun: new Gauge({
      name: 'sync_last_run_timestamp_seconds',
      help: 'Unix time of the last run per table',
      labelNames: ['table'],
      registers: [registry],
      collect: () => shared(),
    }),
  };
  // One read per scrape: prom-client collects every metric concurrently; they share one in-flight load.
  let inflight: Promise<void> | null = null;
  function shared(): Promise<void> {
    inflight ??= load().finally(() => {
      inflight = null;
    });
    return inflight;
  }
  async function load(): Promise<void> {
    const rows = await listWatermarks(pool);
    for (const g of Object.values(gauges)) g.reset();
    for (const r of rows) {
      const l = { table: r.sourceTable };
      gauges.success.set(l, r.syncSuccessCount);
      gauges.failure.set(l, r.syncFailureCount);
      if (r.lastSyncDurationSeconds !== null) gauges.duration.set(l, r.lastSyncDurationSeconds);
      gauges.rows.set(l, r.rowsProcessed);
      gauges.total.set(l, r.rowsTotal);
      if (r.lastRun) gauges.lastRun.set(l, Date.parse(r.lastRun) / 1000);
    }
  }
  return registry;
}
