/**
 * What the job rigs (test/helpers/execution-upload-rig.ts, watermark-sync-rig.ts) share: a scratch
 * folder, a fresh migrated database with a pool, Temporal connections on the run's dev server (a client,
 * and a native connection for workers), a task queue of the rig's own, and workers that `close()` stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import { createPool } from '../../src/db/index.js';
import { freshDatabase, type FreshDatabase } from './db.js';
import { runTestWorker, temporalTarget, type TestWorker } from './temporal.js';

/** The resources of a rig, for the rig's own interface to extend. */
export interface RigResources {
  /** Scratch folder, removed by `close()`. */
  root: string;
  db: FreshDatabase;
  pool: pg.Pool;
  client: Client;
  native: NativeConnection;
  /** `floe-<kind>-test-<pid>-<name>`: no other rig or file polls it. */
  taskQueue: string;
}

export interface RigBase extends RigResources {
  /** A worker ({@link runTestWorker}) on the rig's connection, on `taskQueue` unless `options` names another. */
  runWorker(options: Omit<WorkerOptions, 'connection' | 'namespace'>): Promise<TestWorker>;
  /**
   * Stops the workers, then runs `closeOwn` (what the rig started itself: emulators, sessions), then closes
   * the Temporal connections and the pool, drops the database and removes `root`.
   */
  close(closeOwn: () => Promise<void>): Promise<void>;
}

/**
 * Start the shared part of a rig: `kind` (e.g. `up`, `wm`) names its folder, database and task queue
 * together with the suite's `name`; the pool holds at most `poolMax` connections.
 */
export async function makeRigBase(kind: string, name: string, poolMax: number): Promise<RigBase> {
  const root = mkdtempSync(path.join(os.tmpdir(), `floe-${kind}-${name}-`));
  const db = await freshDatabase({ prefix: `floe_${kind}` });
  const pool = createPool(db.url, { max: poolMax });
  const { address, namespace } = temporalTarget();
  const native = await NativeConnection.connect({ address });
  const conn = await Connection.connect({ address });
  const client = new Client({ connection: conn, namespace });
  const taskQueue = `floe-${kind}-test-${process.pid}-${name}`;
  const workers: TestWorker[] = [];
  return {
    root,
    db,
    pool,
    client,
    native,
    taskQueue,
    async runWorker(options) {
      const worker = await runTestWorker({ connection: native, namespace, ...options });
      workers.push(worker);
      return worker;
    },
    async close(closeOwn) {
      for (const w of workers) await w.stop();
      await closeOwn();
      await native.close();
      await conn.close();
      await pool.end();
      await db.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
