/**
 * Temporal's eager workflow start for cache refreshes (`eagerStart` of src/client/cacheRefresh.ts), on the
 * run's dev server: with a worker of the task queue on the client's connection, the run's first workflow
 * task comes back in the start response and the refresh returns the check's result; without one, the
 * same call starts the run the usual way and it completes once a worker polls.
 */
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCacheRefresh } from '../../src/client/cacheRefresh.js';
import { runTestWorker, sharedWorkflowBundle, skippingCacheCheck, temporalTarget } from '../helpers/temporal.js';

const { address, namespace } = temporalTarget();
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  connection = await NativeConnection.connect({ address });
  client = new Client({ connection, namespace });
});
afterAll(() => connection?.close());

const worker = (taskQueue: string) =>
  runTestWorker({
    connection,
    namespace,
    taskQueue,
    workflowBundle: sharedWorkflowBundle(),
    activities: { cacheCheck: skippingCacheCheck(3) },
  });

describe('cache refresh with eager workflow start', () => {
  it('hands the first workflow task to the worker on the same connection', async () => {
    const taskQueue = `floe-eager-${process.pid}`;
    const w = await worker(taskQueue);
    try {
      const cacheName = `eager_${Date.now()}`;
      const handle = await startCacheRefresh(client, { cacheName }, { taskQueue, eagerStart: true });
      expect(handle.eagerlyStarted).toBe(true);
      expect(await handle.result()).toMatchObject({ result: 'SKIPPED', message: 'unchanged', snapshot_id: 3 });
    } finally {
      await w.stop();
    }
  });

  it('starts the usual way when no worker of the task queue runs in this process', async () => {
    const taskQueue = `floe-eager-none-${process.pid}`;
    const cacheName = `eager_none_${Date.now()}`;
    const handle = await startCacheRefresh(client, { cacheName }, { taskQueue, eagerStart: true });
    expect(handle.eagerlyStarted).toBe(false);
    const w = await worker(taskQueue);
    try {
      expect(await handle.result()).toMatchObject({ result: 'SKIPPED', message: 'unchanged' });
    } finally {
      await w.stop();
    }
  });
});
