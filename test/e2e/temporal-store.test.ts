/**
 * The Temporal dev server's persistent store with floe's SQLite settings (write-ahead log,
 * `synchronous=normal`), with real processes: the file is in WAL mode, and what the server acknowledged
 * before its process was SIGKILLed is there after a restart on the same file — a finished run's result,
 * and a run started but not yet picked up by a worker, which then completes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { runCacheRefresh, startCacheRefresh } from '../../src/client/cacheRefresh.js';
import { cacheRefreshWorkflowId } from '../../src/jobs/cache-refresh/contract.js';
import { freePort } from '../../src/infra/process.js';
import { startTemporal, type TemporalServer } from '../../src/infra/temporal.js';
import { runTestWorker, sharedWorkflowBundle, skippingCacheCheck } from '../helpers/temporal.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-temporal-store-'));
const servers: TemporalServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A worker of floe's workflows on `address` with the no-I/O check, until `fn` settles. */
async function withWorker<T>(address: string, taskQueue: string, fn: () => Promise<T>): Promise<T> {
  const connection = await NativeConnection.connect({ address });
  const worker = await runTestWorker({
    connection,
    taskQueue,
    workflowBundle: sharedWorkflowBundle(),
    activities: { cacheCheck: skippingCacheCheck(7) },
  });
  try {
    return await fn();
  } finally {
    await worker.stop();
    await connection.close();
  }
}

describe('Temporal dev server store', () => {
  it('is in WAL mode and keeps what it acknowledged across a SIGKILL of the server process', async () => {
    const dbFile = path.join(root, 'temporal.db');
    const port = await freePort();
    const taskQueue = 'floe-temporal-store';
    const first = await startTemporal({ port, uiPort: false, dbFile });
    servers.push(first);
    // SQLite's header: bytes 18 and 19 (file format write and read versions) are 2 in WAL mode, 1 with a rollback journal.
    const header = Buffer.alloc(20);
    const fd = fs.openSync(dbFile, 'r');
    fs.readSync(fd, header, 0, 20, 0);
    fs.closeSync(fd);
    expect([header[18], header[19]]).toEqual([2, 2]);

    let connection = await Connection.connect({ address: first.address });
    let client = new Client({ connection });
    const done = await withWorker(first.address, taskQueue, () =>
      runCacheRefresh(client, { cacheName: 'done' }, { taskQueue }),
    );
    expect(done).toMatchObject({ result: 'SKIPPED', message: 'unchanged', snapshot_id: 7 });
    // No worker polls now: this run is persisted with its first workflow task waiting.
    const waiting = await startCacheRefresh(client, { cacheName: 'waiting' }, { taskQueue });
    await connection.close();

    await first.kill();
    const second = await startTemporal({ port, uiPort: false, dbFile });
    servers.push(second);
    connection = await Connection.connect({ address: second.address });
    client = new Client({ connection });
    try {
      expect(await client.workflow.getHandle(cacheRefreshWorkflowId('done')).result()).toEqual(done);
      expect((await client.workflow.getHandle(waiting.workflowId).describe()).status.name).toBe('RUNNING');
      const after = await withWorker(second.address, taskQueue, () =>
        client.workflow.getHandle(waiting.workflowId, waiting.firstExecutionRunId).result(),
      );
      expect(after).toMatchObject({ result: 'SKIPPED', message: 'unchanged' });
    } finally {
      await connection.close();
    }
  });
});
