/**
 * Scale-out end to end, with real processes: the API (`src/api/server.ts`) and two workers
 * (`src/worker.ts --jobs watermark-sync,execution-upload`) as separate child processes with the same
 * configuration, against the run's Temporal dev server and PostgreSQL and one Snowflake emulator.
 * A burst of execution uploads (drained by the Schedule the workers ensured at start-up) and a
 * watermark sync (triggered through the API) run on both workers; one worker is SIGKILLed while both
 * are at work, and every job finishes on the other, with every row in Snowflake exactly once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { applyWatermarkSyncConfig } from '../../src/client/watermarkSync.js';
import { deleteExecutionUploadSchedule, ensureExecutionUploadSchedule } from '../../src/client/executionUpload.js';
import { connectSnowflake, type SnowflakeSession } from '../../src/connectors/snowflake.js';
import { createPool } from '../../src/db/index.js';
import { freePort } from '../../src/infra/process.js';
import { taskQueues } from '../../src/jobs/common.js';
import { scheduleId } from '../../src/jobs/watermark-sync/contract.js';
import { generateEncryptionKey, secretKeys } from '../../src/secrets/crypto.js';
import { saveSnowflakeConfiguration } from '../../src/jobs/execution-upload/configs.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { TEST_SNOWFLAKE_USER, testEnv } from '../helpers/env.js';
import { startScript as start, type Proc } from '../helpers/process.js';
import { cfg } from '../helpers/watermark-sync-rig.js';

const EXECUTIONS = 16;
const ROWS_PER_EXECUTION = 100;
const SOURCE_ROWS = 6_000;
const BATCH = 300;
const WATERMARK_SYNC_NAME = `scaleout_${process.pid}`;
const prefix = `floe-scaleout-${process.pid}`;
const queues = taskQueues(prefix);
/** The drain Schedule the workers create (EXECUTION_UPLOAD_SCHEDULE_ID), this file's own. */
const DRAIN_SCHEDULE_ID = `${prefix}-upload-drain`;

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
  state?: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${state ? `; last seen: ${JSON.stringify(await state().catch((e: Error) => e.message))}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

let root: string;
let db: FreshDatabase;
let pool: pg.Pool;
let emu: RunningEmulator;
let sf: SnowflakeSession;
let connection: Connection;
let client: Client;
let apiUrl: string;
let env: NodeJS.ProcessEnv;
const procs: Proc[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-scaleout-'));
  db = await freshDatabase({ prefix: 'floe_scale' });
  pool = createPool(db.url, { max: 4 });
  emu = await startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: TEST_SNOWFLAKE_USER });
  sf = await connectSnowflake({
    account: 'floe',
    username: TEST_SNOWFLAKE_USER.name,
    password: TEST_SNOWFLAKE_USER.password,
    accessUrl: emu.url,
    database: 'ANALYTICS',
  });
  for (const q of [
    'CREATE DATABASE IF NOT EXISTS ANALYTICS',
    'CREATE SCHEMA IF NOT EXISTS ANALYTICS.S',
    'CREATE DATABASE IF NOT EXISTS USERS_DB',
    'CREATE SCHEMA IF NOT EXISTS USERS_DB.RESULTS',
  ])
    await sf.query(q);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  // One configuration for every process, as a deployment would give them.
  env = {
    ...process.env,
    ...testEnv({
      DATABASE_URL: db.url,
      FLOE_TASK_QUEUE: prefix,
      FLOE_DUCKDB_OWNER: 'false',
      FLOE_STATE_DIR: path.join(root, 'state'),
      SNOWFLAKE_ACCOUNT: 'floe',
      SNOWFLAKE_ACCESS_URL: emu.url,
      SNOWFLAKE_DATABASE: 'ANALYTICS',
      FLOE_ENCRYPTION_KEY: generateEncryptionKey(),
      EXECUTION_UPLOAD_INTERVAL_SECONDS: '1',
      EXECUTION_UPLOAD_SCHEDULE_ID: DRAIN_SCHEDULE_ID,
      API_PORT: String(apiPort),
      LOG_LEVEL: 'info',
    }),
  };
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await deleteExecutionUploadSchedule(client, DRAIN_SCHEDULE_ID).catch(() => undefined);
  await client?.schedule
    .getHandle(scheduleId(WATERMARK_SYNC_NAME))
    .delete()
    .catch(() => undefined);
  await connection?.close();
  await sf?.close();
  await emu?.close();
  await pool?.end();
  await db?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('API and two workers as separate processes', () => {
  it("a SIGKILLed worker's uploads and watermark batches finish on the other, nothing lost or duplicated", async () => {
    const jobs = ['--jobs', 'watermark-sync,execution-upload'];
    const workers = [start('worker A', 'src/worker.ts', jobs, env), start('worker B', 'src/worker.ts', jobs, env)];
    const api = start('API', 'src/api/server.ts', [], env);
    procs.push(...workers, api);
    await Promise.all([
      ...workers.map((w) => w.waitFor('"msg":"worker started"', 'it started')),
      api.waitFor('"msg":"API listening"', 'it listened'),
    ]);
    for (const w of workers)
      expect(w.output()).toContain(`"taskQueues":["${queues.watermarkSync}","${queues.executionUpload}"]`);

    // The workers ensured the drain Schedule on the execution-upload queue; an operator shortens the
    // heartbeat so a dead worker's upload is retried within seconds.
    const drain = await client.schedule.getHandle(DRAIN_SCHEDULE_ID).describe();
    expect(drain.action).toMatchObject({ taskQueue: queues.executionUpload });
    await ensureExecutionUploadSchedule(client, {
      scheduleId: DRAIN_SCHEDULE_ID,
      taskQueue: queues.executionUpload,
      intervalSeconds: 1,
      input: {
        maxConcurrent: 4,
        upload: { heartbeatTimeoutSeconds: 3, retryInitialSeconds: 0.2, retryMaxSeconds: 1, bindChunkRows: 50 },
      },
    });
    // A drain started before the update (with the old tuning) has nothing to claim and ends at once.
    await until(
      'drains started before the update to end',
      async () => (await client.schedule.getHandle(DRAIN_SCHEDULE_ID).describe()).info.runningActions.length === 0,
    );

    const token = await (async () => {
      const res = await fetch(`${apiUrl}/api/v1/auth/token`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'admin', password: env.ADMIN_PASSWORD! }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { access_token: string }).access_token;
    })();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const call = async (method: string, route: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${apiUrl}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(res.status, `${method} ${route}`).toBeLessThan(300);
      return res.json();
    };

    // Watermark sync source: SOURCE_ROWS rows, synced in batches of BATCH.
    await pool.query(
      'CREATE TABLE scaleout_src (id int PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)',
    );
    await pool.query(
      `INSERT INTO scaleout_src SELECT g, 'row-' || g || '-' || md5(g::text), timestamptz '2024-01-01' + g * interval '1 second' FROM generate_series(1, ${SOURCE_ROWS}) g`,
    );
    await applyWatermarkSyncConfig(
      client,
      {
        ...cfg(WATERMARK_SYNC_NAME, [
          // One page per MERGE, so the sync advances batch by batch and the kill lands between batches.
          {
            source: 'public.scaleout_src',
            target: 'ANALYTICS.S.SCALEOUT',
            batchSize: BATCH,
            mergeMaxRows: BATCH,
            loadMethod: 'binds',
          },
        ]),
        syncIntervalSeconds: 3600,
      },
      {
        taskQueue: queues.watermarkSync,
        input: { batchHeartbeatSeconds: 3 },
      },
    );

    // A burst of executions for one user: the PostgreSQL trigger queues each one.
    const userId = randomUUID();
    const userPassword = `pw-${randomBytes(8).toString('hex')}`;
    await sf.query(`CREATE USER IF NOT EXISTS user_users PASSWORD = '${userPassword}'`);
    await saveSnowflakeConfiguration(pool, secretKeys(env.FLOE_ENCRYPTION_KEY!)!, {
      userId,
      account: 'acct_users.snowflakecomputing.com',
      warehouse: 'COMPUTE_WH',
      database: 'USERS_DB',
      schema: 'RESULTS',
      username: 'user_users',
      secret: { password: userPassword },
      accessUrl: emu.url,
    });
    const executionIds: string[] = [];
    for (let e = 0; e < EXECUTIONS; e++) {
      const id = `exec_scaleout_${e}_${randomBytes(3).toString('hex')}`;
      const rows = Array.from({ length: ROWS_PER_EXECUTION }, (_, i) => ({ id: i + 1, name: `${id}-${i + 1}` }));
      await pool.query(
        `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results, completed_at) VALUES ($1, $2, 'scaleout', 'completed', $3::jsonb, now())`,
        [id, userId, JSON.stringify(rows)],
      );
      executionIds.push(id);
    }
    await call('POST', '/api/v1/watermark-sync/trigger', { name: WATERMARK_SYNC_NAME });

    // Kill worker A once it has uploaded something and the watermark sync is under way, both unfinished.
    const completed = async (): Promise<number> =>
      Number((await call('GET', '/api/snowflake-sync/stats')).completed.count);
    const synced = async (): Promise<number> => {
      const r = await sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.S.SCALEOUT').catch(() => [{ N: '0' }]);
      return Number(r[0]!.N);
    };
    await until(
      'worker A to upload and the watermark sync to start',
      async () => workers[0]!.output().includes('"msg":"execution uploaded"') && (await synced()) > 0,
    );
    const [doneAtKill, syncedAtKill] = [await completed(), await synced()];
    workers[0]!.child.kill('SIGKILL');
    const workerBOutputAtKill = workers[1]!.output().length;
    expect(doneAtKill).toBeLessThan(EXECUTIONS);
    expect(syncedAtKill).toBeLessThan(SOURCE_ROWS);

    const watermarkSyncStatus = async (): Promise<string | null> =>
      (await call('GET', `/api/v1/watermark-sync/status?name=${WATERMARK_SYNC_NAME}`)).tables[0]?.last_status ?? null;
    await until(
      'every upload and the watermark sync to finish on worker B',
      async () =>
        (await completed()) === EXECUTIONS &&
        (await synced()) >= SOURCE_ROWS &&
        (await watermarkSyncStatus()) === 'success',
      180_000,
      async () => ({
        queue: await call('GET', '/api/snowflake-sync/stats'),
        synced: await synced(),
        watermarkSync: (await call('GET', `/api/v1/watermark-sync/status?name=${WATERMARK_SYNC_NAME}`)).tables[0],
      }),
    );
    expect(workers[1]!.child.exitCode).toBeNull();

    // Queue: every item completed once, with all its rows; nothing failed or still pending.
    const stats = await call('GET', '/api/snowflake-sync/stats');
    expect(stats).toMatchObject({
      total: EXECUTIONS,
      completed: { count: EXECUTIONS },
      failed: { count: 0 },
      pending: { count: 0 },
    });
    const { rows: items } = await pool.query<{ execution_id: string; snowflake_table: string; rows_uploaded: string }>(
      'SELECT execution_id, snowflake_table, rows_uploaded FROM snowflake_sync_queue ORDER BY execution_id',
    );
    expect(items.map((i) => i.execution_id).sort()).toEqual([...executionIds].sort());
    // Snowflake, row by row: each execution's table holds exactly its rows.
    for (const item of items) {
      expect(item.rows_uploaded).toBe(String(ROWS_PER_EXECUTION));
      const got = await sf.query(`SELECT ID, NAME FROM ${item.snowflake_table} ORDER BY ID, NAME`);
      expect(got, item.execution_id).toEqual(
        Array.from({ length: ROWS_PER_EXECUTION }, (_, i) => ({
          ID: String(i + 1),
          NAME: `${item.execution_id}-${i + 1}`,
        })),
      );
    }
    // The watermark target equals the source, row by row (a re-merged batch leaves no duplicate).
    const target = await sf.query('SELECT ID, PAYLOAD FROM ANALYTICS.S.SCALEOUT ORDER BY ID');
    const { rows: source } = await pool.query<{ id: number; payload: string }>(
      'SELECT id, payload FROM scaleout_src ORDER BY id',
    );
    expect(target).toEqual(source.map((r) => ({ ID: String(r.id), PAYLOAD: r.payload })));
    const status = await call('GET', `/api/v1/watermark-sync/status?name=${WATERMARK_SYNC_NAME}`);
    expect(status.tables).toEqual([
      expect.objectContaining({ source_table: 'public.scaleout_src', last_status: 'success', sync_failure_count: 0 }),
    ]);
    // What was left at the kill was finished by worker B.
    expect(workers[1]!.output().slice(workerBOutputAtKill)).toContain('"msg":"execution uploaded"');
    // Two process starts with workflow bundling, and up to a minute for an activity without heartbeats
    // (a queue update, start-to-close 1 min) that the dead worker held: ~2 minutes on a quiet machine.
  }, 300_000);
});
