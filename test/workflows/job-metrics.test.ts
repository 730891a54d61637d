/**
 * The job-metrics interceptor (src/workflows/jobMetricsInterceptor.ts) and its worker-side sink
 * (src/metrics/jobs.ts) on Temporal's time-skipping test server, with the shared workflow bundle and
 * mocked activities: a completed table sync counts its rows and bytes, a failed one only its failure,
 * a watermark sync that continues as new is one job (started once, ended once, rows of every run),
 * and an orchestrator's children are counted, not the orchestrator.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSyncActivities } from '../../src/activities/table-sync/index.js';
import type { BatchResult, WatermarkSyncActivities } from '../../src/activities/watermark-sync/index.js';
import { floeError, NonRetryable, wrapActivities } from '../../src/errors.js';
import { tableSpec } from '../../src/jobs/watermark-sync/config.js';
import type { TablePlanRef } from '../../src/jobs/watermark-sync/contract.js';
import { metricsRegistry } from '../../src/metrics/index.js';
import { tableSync } from '../../src/workflows/tableSync.js';
import { watermarkSync, watermarkTableSync } from '../../src/workflows/watermarkSync.js';
import { sample } from '../helpers/metrics.js';
import { runWithActivities, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Value of a series of this process's registry (summed over series matching `labels`). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return sample(await metricsRegistry.metrics(), name, labels);
}

function tableSyncActivities(transfer: TableSyncActivities['tableSyncTransfer']) {
  const acts: TableSyncActivities = {
    tableSyncDescribe: async () => ({ columns: [], rowCount: 3, bytes: 1024, lastAltered: null }),
    tableSyncCountSource: async () => 3,
    tableSyncTransfer: transfer,
    tableSyncCleanup: async () => ({ removed: true }),
    tableSyncRecordStatus: async () => true,
  };
  return wrapActivities(acts);
}

const syncInput = (table: string) => ({
  tableId: '00000000-0000-4000-8000-000000000001',
  database: 'SRC',
  schema: 'S',
  table,
  target: { schema: 'SRC__S', table },
  strategy: 'full' as const,
  method: 'stage' as const,
});

const batch = (rows: number, n: number, done: boolean): BatchResult => ({
  rows,
  position: { watermark: String(n), pk: [String(n)] },
  done,
  method: 'binds',
  superseded: false,
  durationMs: 1,
});

function watermarkActivities(batchImpl: () => Promise<BatchResult>) {
  const acts: Record<keyof WatermarkSyncActivities, (input: never) => Promise<unknown>> = {
    watermarkSyncBeginTable: async () => ({ plan: { epoch: 1 } as TablePlanRef, start: null, hasRows: true }),
    watermarkSyncBatch: batchImpl,
    watermarkSyncFinishTable: async () => undefined,
    watermarkSyncRecordFailure: async () => 1,
  };
  return wrapActivities(acts);
}

const wmTable = (source: string) =>
  tableSpec({ source, target: `S.${source.split('.')[1]}`, pk: ['id'], watermarkColumn: 'updated_at', batchSize: 10 });

describe('job metrics recorded where workflows end', () => {
  it('counts a completed table sync with its rows and bytes, and a failed one without them', async () => {
    const done = { job: 'table-sync', table: 'SRC.S.METRICS_OK' };
    const failed = { job: 'table-sync', table: 'SRC.S.METRICS_BAD' };
    const durationsBefore = await metric('floe_job_duration_seconds_count', { job: 'table-sync' });
    const activities = tableSyncActivities(async (i) => {
      if (i.source.table === 'METRICS_BAD') throw floeError(NonRetryable.SchemaMismatch, 'column X has no target');
      return {
        sourceRows: 7,
        rowsRead: 7,
        rowsInserted: 7,
        rowsUpdated: 0,
        rowsInTarget: 7,
        bytes: 2048,
        files: 1,
        watermark: null,
        method: 'stage',
        target: '"SRC__S"."METRICS_OK"',
      };
    });
    await runWithActivities(env, { activities }, async (client, taskQueue) => {
      await client.workflow.execute(tableSync, {
        args: [syncInput('METRICS_OK')],
        workflowId: 'metrics-ok',
        taskQueue,
      });
      await expect(
        client.workflow.execute(tableSync, { args: [syncInput('METRICS_BAD')], workflowId: 'metrics-bad', taskQueue }),
      ).rejects.toThrow();
    });
    // Sink calls are processed after the workflow task completes: wait until the failure is in.
    await expect.poll(() => metric('floe_jobs_failed_total', failed)).toBe(1);
    expect(await metric('floe_jobs_started_total', done)).toBe(1);
    expect(await metric('floe_jobs_completed_total', done)).toBe(1);
    expect(await metric('floe_job_rows_total', done)).toBe(7);
    expect(await metric('floe_job_bytes_total', done)).toBe(2048);
    expect(await metric('floe_jobs_started_total', failed)).toBe(1);
    expect(await metric('floe_jobs_completed_total', failed)).toBe(0);
    expect(await metric('floe_job_rows_total', failed)).toBe(0);
    expect(await metric('floe_job_duration_seconds_count', { job: 'table-sync' })).toBe(durationsBefore + 2);
  });

  it('counts a watermark sync that continued as new once, with the rows of every run', async () => {
    const labels = { job: 'watermark-sync', table: 'public.metrics_long' };
    let n = 0;
    const activities = watermarkActivities(async () => (++n < 3 ? batch(10, n * 10, false) : batch(4, 34, true)));
    await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(watermarkTableSync, {
        args: [{ configName: 'metrics', table: wmTable('public.metrics_long'), batchesPerRun: 1 }],
        workflowId: 'metrics-wm-continue',
        taskQueue,
      }),
    );
    await expect.poll(() => metric('floe_jobs_completed_total', labels)).toBe(1);
    expect(await metric('floe_jobs_started_total', labels)).toBe(1);
    expect(await metric('floe_job_rows_total', labels)).toBe(24);
  });

  it('counts the tables of a watermark sync run, not the run that orchestrates them', async () => {
    const activities = watermarkActivities(async () => batch(5, 5, true));
    const tables = ['public.metrics_a', 'public.metrics_b'];
    await runWithActivities(env, { activities }, (client, taskQueue) =>
      client.workflow.execute(watermarkSync, {
        args: [
          { config: { name: 'metrics', syncIntervalSeconds: 120, maxParallelTables: 2, tables: tables.map(wmTable) } },
        ],
        workflowId: 'metrics-wm-parent',
        taskQueue,
      }),
    );
    for (const table of tables) {
      await expect.poll(() => metric('floe_jobs_completed_total', { job: 'watermark-sync', table })).toBe(1);
      expect(await metric('floe_job_rows_total', { job: 'watermark-sync', table })).toBe(5);
    }
    expect(await metric('floe_jobs_started_total', { job: 'watermark-sync', table: 'watermark-sync:metrics' })).toBe(0);
  });
});
