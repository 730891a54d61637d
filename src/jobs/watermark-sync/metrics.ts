/**
 * Prometheus metrics of the watermark sync, per table (label `table` = source table), read from
 * `sync_watermarks` at scrape time so every process (API, worker) reports the same numbers:
 * `sync_success_count`, `sync_failure_count`, `last_sync_duration_seconds`, `rows_processed`
 * (rows of the last run), plus `sync_rows_total` and `sync_last_run_timestamp_seconds`.
 */
import type pg from 'pg';
import { Gauge, Registry } from 'prom-client';
import { listWatermarks, type WatermarkRow } from './store.js';

/** Each gauge: name, help, and its value in a `sync_watermarks` row (null: not set for that table). */
const GAUGES: { name: string; help: string; value: (r: WatermarkRow) => number | null }[] = [
  { name: 'sync_success_count', help: 'Successful watermark sync runs per table', value: (r) => r.syncSuccessCount },
  { name: 'sync_failure_count', help: 'Failed watermark sync runs per table', value: (r) => r.syncFailureCount },
  {
    name: 'last_sync_duration_seconds',
    help: 'Duration of the last watermark sync run per table',
    value: (r) => r.lastSyncDurationSeconds,
  },
  {
    name: 'rows_processed',
    help: 'Rows merged by the last watermark sync run per table',
    value: (r) => r.rowsProcessed,
  },
  { name: 'sync_rows_total', help: 'Rows merged since the table was added', value: (r) => r.rowsTotal },
  {
    name: 'sync_last_run_timestamp_seconds',
    help: 'Unix time of the last run per table',
    value: (r) => (r.lastRun ? Date.parse(r.lastRun) / 1000 : null),
  },
];

/** A registry whose gauges are filled from `pool` on every scrape (`registry.metrics()`). */
export function createWatermarkSyncMetrics(pool: pg.Pool, registry: Registry = new Registry()): Registry {
  const gauges = GAUGES.map(
    (g) =>
      [
        g,
        new Gauge({
          name: g.name,
          help: g.help,
          labelNames: ['table'],
          registers: [registry],
          collect: () => shared(),
        }),
      ] as const,
  );
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
    for (const [, gauge] of gauges) gauge.reset();
    for (const r of rows) {
      for (const [g, gauge] of gauges) {
        const v = g.value(r);
        if (v !== null) gauge.set({ table: r.sourceTable }, v);
      }
    }
  }
  return registry;
}
