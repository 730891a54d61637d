/**
 * A worker process started while Temporal is down (`src/worker.ts`, a real process): it retries the
 * connection with backoff, logging each attempt, and once a Temporal server comes up on its address
 * it starts polling and runs a table sync; with nothing to connect to, it gives up after
 * TEMPORAL_CONNECT_TIMEOUT_SECONDS and exits 1 naming the address.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { startTableSync, waitForJob } from '../../src/client/tableSync.js';
import { freePort } from '../../src/infra/process.js';
import { startTemporal, type TemporalServer } from '../../src/infra/temporal.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { TEST_SNOWFLAKE_USER, testEnv } from '../helpers/env.js';
import { startScript, type Proc } from '../helpers/process.js';
import { runOnEmulator } from '../helpers/table-sync-stack.js';

let root: string;
let db: FreshDatabase;
let emu: RunningEmulator;
let temporal: TemporalServer | null = null;
const procs: Proc[] = [];

/** The worker's environment: Temporal expected at `address`, a table sync worker that owns its DuckDB file. */
function workerEnv(address: string, timeoutSeconds: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...testEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_CONNECT_TIMEOUT_SECONDS: String(timeoutSeconds),
      FLOE_TASK_QUEUE: `floe-startup-${process.pid}`,
      FLOE_STATE_DIR: path.join(root, 'state'),
      DUCKDB_PATH: path.join(root, 'target.duckdb'),
      SNOWFLAKE_ACCOUNT: 'floe',
      SNOWFLAKE_ACCESS_URL: emu.url,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    }),
  };
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-worker-startup-'));
  db = await freshDatabase({ prefix: 'floe_startup' });
  emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: TEST_SNOWFLAKE_USER });
  await runOnEmulator(emu, [
    'CREATE DATABASE SRC',
    'CREATE SCHEMA SRC.S',
    'CREATE TABLE SRC.S.T (ID NUMBER(10,0), NAME VARCHAR)',
    "INSERT INTO SRC.S.T VALUES (1, 'one'), (2, 'two'), (3, 'three')",
  ]);
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await temporal?.stop();
  await emu?.close();
  await db?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The worker's JSON log lines with this message. */
function logLines(p: Proc, msg: string): Record<string, unknown>[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe('a worker started before Temporal', () => {
  it('retries the connection, then picks up a table sync once Temporal is up', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const worker = startScript('worker', 'src/worker.ts', ['--jobs', 'table-sync'], workerEnv(address, 300));
    procs.push(worker);
    await worker.waitFor('"attempt":2', 'its second connection attempt');
    temporal = await startTemporal({ port, uiPort: false });
    await worker.waitFor('worker started', 'polling');
    const attempts = logLines(worker, 'Temporal unreachable; retrying');
    expect(attempts.map((a) => a.attempt).slice(0, 2)).toEqual([1, 2]);
    expect(attempts[0]).toMatchObject({ address });

    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const { jobId } = await startTableSync(
        client,
        {
          tableId: 'worker-startup',
          database: 'SRC',
          schema: 'S',
          table: 'T',
          target: { schema: 'SRC__S', table: 'T' },
          strategy: 'full',
          method: 'stream',
        },
        { taskQueue: `floe-startup-${process.pid}` },
      );
      const job = await waitForJob(client, jobId, { timeoutMs: 120_000 });
      expect(job.status, JSON.stringify(job)).toBe('completed');
      expect(job.stats?.rowsInTarget).toBe(3);
    } finally {
      await connection.close();
    }
    expect(worker.child.exitCode).toBeNull();
  }, 300_000);

  it('gives up after TEMPORAL_CONNECT_TIMEOUT_SECONDS and exits 1 naming the address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const worker = startScript('worker', 'src/worker.ts', ['--jobs', 'table-sync'], workerEnv(address, 2));
    procs.push(worker);
    const code = await new Promise<number | null>((resolve) => worker.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(worker.output()).toContain(`Temporal at ${address} unreachable after`);
    expect(logLines(worker, 'Temporal unreachable; retrying').length).toBeGreaterThan(0);
  }, 120_000);
});
