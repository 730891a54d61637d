/**
 * Shared rig of the watermark sync end-to-end suites (test/e2e/watermark-sync*.test.ts): one migrated database (control plane and source), one
 * emulator, one worker (own bundle of src/workflows/watermarkSync.ts, own task queue) with
 * the watermark sync activities and test hooks, and a Temporal client.
 */
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { createWatermarkSyncActivities, type WatermarkSyncDeps } from '../../src/activities/watermark-sync/index.js';
import { connectSnowflake, type SnowflakeSession, type SnowflakeSettings } from '../../src/connectors/snowflake.js';
import { wrapActivities } from '../../src/errors.js';
import { tableSpec } from '../../src/jobs/watermark-sync/config.js';
import type {
  WatermarkSyncConfig,
  WatermarkSyncInput,
  WatermarkSyncResult,
  WatermarkTableSpec,
} from '../../src/jobs/watermark-sync/contract.js';
import { watermarkSync } from '../../src/workflows/watermarkSync.js';
import { makeRigBase, type RigResources } from './rig.js';

export const workflowsFile = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../src/workflows/watermarkSync.ts',
);

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export interface WmRig extends RigResources {
  emu: RunningEmulator;
  sf: SnowflakeSession;
  settings: SnowflakeSettings;
  bundle: WorkflowBundle;
  hooks: NonNullable<WatermarkSyncDeps['hooks']>;
  /** Start (another) worker on `taskQueue` (or `queue`), optionally activities only. */
  startWorker(opts?: { queue?: string; workflows?: boolean }): Promise<{ stop(): Promise<void> }>;
  run(
    config: WatermarkSyncConfig,
    extra?: Partial<WatermarkSyncInput>,
    workflowId?: string,
  ): Promise<WatermarkSyncResult>;
  close(): Promise<void>;
}

let seq = 0;

/** Build a rig; `close()` stops everything it started. */
export async function makeRig(name: string): Promise<WmRig> {
  const { runWorker, close, ...base } = await makeRigBase('wm', name, 6);
  const { root, pool, client, taskQueue } = base;
  const emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: { name: 'u', password: 'p' } });
  const settings: SnowflakeSettings = {
    account: 'floe',
    username: 'u',
    password: 'p',
    accessUrl: emu.url,
    database: 'ANALYTICS',
  };
  const sf = await connectSnowflake(settings);
  await sf.query('CREATE DATABASE IF NOT EXISTS ANALYTICS');
  await sf.query('CREATE SCHEMA IF NOT EXISTS ANALYTICS.S');
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsFile, logger: silent });
  const hooks: NonNullable<WatermarkSyncDeps['hooks']> = {};
  const activities = wrapActivities(
    createWatermarkSyncActivities({
      pool,
      sourcePool: pool,
      snowflake: settings,
      tmpDir: path.join(root, 'tmp'),
      hooks: { afterMerge: (i) => hooks.afterMerge?.(i), afterPage: (i) => hooks.afterPage?.(i) },
    }),
  );
  const rig: WmRig = {
    ...base,
    emu,
    sf,
    settings,
    bundle,
    hooks,
    startWorker(opts = {}) {
      return runWorker({
        taskQueue: opts.queue ?? taskQueue,
        activities,
        ...(opts.workflows === false ? {} : { workflowBundle: bundle }),
        maxConcurrentActivityTaskExecutions: 4,
      });
    },
    async run(config, extra = {}, workflowId) {
      return client.workflow.execute(watermarkSync, {
        taskQueue,
        workflowId: workflowId ?? `wm-test-${process.pid}-${name}-${++seq}`,
        args: [{ config, batchHeartbeatSeconds: 10, ...extra }],
      });
    },
    close: () =>
      close(async () => {
        await sf.close();
        await emu.close();
      }),
  };
  return rig;
}

/** A config around `tables`: source `public.t` → `ANALYTICS.S.T` on (updated_at, id), target created, unless overridden. */
export function cfg(name: string, tables: Partial<WatermarkTableSpec>[]): WatermarkSyncConfig {
  const table = { source: 'public.t', target: 'ANALYTICS.S.T', pk: ['id'], watermarkColumn: 'updated_at' };
  return {
    name,
    syncIntervalSeconds: 120,
    maxParallelTables: 4,
    tables: tables.map((t) => tableSpec({ ...table, createTarget: true, ...t })),
  };
}
