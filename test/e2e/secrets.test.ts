/**
 * Secrets stay secret, end to end: the API and the worker run as real processes (`src/api/server.ts`,
 * `src/worker.ts`) against the emulator, a real PostgreSQL and the run's Temporal dev server, with
 * every secret set to a fresh random value. The run signs in (admin, an API user, a wrong password),
 * full-syncs a table, uploads two executions (one succeeds, one fails: its database does not
 * exist) — then every line the two processes wrote (stdout and stderr, debug level) and every
 * event of every workflow on the run's task queue (payloads decoded) is scanned for each secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { deleteExecutionUploadSchedule } from '../../src/client/executionUpload.js';
import { waitForJob } from '../../src/client/tableSync.js';
import { connectSnowflake } from '../../src/connectors/snowflake.js';
import { createPool } from '../../src/db/index.js';
import { generateEncryptionKey, secretKeys } from '../../src/secrets/crypto.js';
import { saveSnowflakeConfiguration } from '../../src/jobs/execution-upload/configs.js';
import { httpRequest, type ApiResponse, type RequestOptions } from '../helpers/api-harness.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { testEnv } from '../helpers/env.js';
import { historyText } from '../helpers/temporal.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'floe-secrets-'));
const secret = (tag: string) => `${tag}-${randomBytes(18).toString('base64url')}`;
const S = {
  adminPassword: secret('adminpw'),
  jwtSecret: secret('jwtsecret-at-least-32-characters'),
  snowflakePassword: secret('sfpw'),
  encryptionKey: generateEncryptionKey(),
  apiUserPassword: secret('apiuserpw'),
  wrongPassword: secret('wrongpw'),
  uploadPasswordOk: secret('uploadpw-ok'),
  uploadPasswordBad: secret('uploadpw-bad'),
};
/** The drain Schedule the worker creates (EXECUTION_UPLOAD_SCHEDULE_ID), this file's own. */
const DRAIN_SCHEDULE_ID = `floe-secrets-${process.pid}-upload-drain`;
const USER_OK = randomUUID();
const USER_BAD = randomUUID();

let db: FreshDatabase;
let pool: pg.Pool;
let emu: RunningEmulator;
let connection: Connection;
let client: Client;
let env: Record<string, string | undefined>;
let apiUrl: string;
const processes: { child: ChildProcess; output: string[] }[] = [];
const tokens: string[] = [];

/** Start `script` as a process with `env`; resolves when a line of its output matches `ready`. */
function startProcess(script: string, ready: RegExp): Promise<{ line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(process.cwd(), script)], {
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  processes.push({ child, output });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      const text = d.toString();
      output.push(text);
      const line = text.split('\n').find((l) => ready.test(l));
      if (line) resolve({ line });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}): ${output.join('')}`)));
  });
}

async function stopProcesses(): Promise<void> {
  await Promise.all(
    processes.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
}

const call = (method: string, route: string, opts: RequestOptions = {}): Promise<ApiResponse> =>
  httpRequest(apiUrl, method, route, opts);

async function signIn(username: string, password: string): Promise<string> {
  const r = await call('POST', '/api/v1/auth/token', { form: { username, password } });
  expect(r.status, r.text).toBe(200);
  tokens.push(r.json.access_token);
  return r.json.access_token as string;
}

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'floe_secrets' });
  pool = createPool(db.url, { max: 4 });
  emu = await startEmulator({
    port: 0,
    dataDir: path.join(root, 'emu'),
    user: { name: 'floe', password: S.snowflakePassword },
  });
  const sf = await connectSnowflake({
    account: 'floe',
    username: 'floe',
    password: S.snowflakePassword,
    accessUrl: emu.url,
  });
  try {
    await sf.query(`CREATE USER up PASSWORD = '${S.uploadPasswordOk}'`);
    await sf.query(`CREATE USER up_bad PASSWORD = '${S.uploadPasswordBad}'`);
    await sf.query('CREATE DATABASE IF NOT EXISTS SRC');
    await sf.query('CREATE SCHEMA IF NOT EXISTS SRC.S');
    await sf.query('CREATE OR REPLACE TABLE SRC.S.ITEMS (ID INTEGER, NAME VARCHAR)');
    await sf.query(`INSERT INTO SRC.S.ITEMS VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
    await sf.query('CREATE DATABASE IF NOT EXISTS UP');
    await sf.query('CREATE SCHEMA IF NOT EXISTS UP.RESULTS');
  } finally {
    await sf.close();
  }
  env = testEnv({
    DATABASE_URL: db.url,
    SNOWFLAKE_ACCESS_URL: emu.url,
    SNOWFLAKE_PASSWORD: S.snowflakePassword,
    SNOWFLAKE_DATABASE: 'SRC',
    SNOWFLAKE_SCHEMA: 'S',
    JWT_SECRET_KEY: S.jwtSecret,
    ADMIN_PASSWORD: S.adminPassword,
    FLOE_ENCRYPTION_KEY: S.encryptionKey,
    FLOE_TASK_QUEUE: `floe-secrets-${process.pid}`,
    FLOE_STATE_DIR: path.join(root, 'state'),
    DUCKDB_PATH: path.join(root, 'target.duckdb'),
    LOG_LEVEL: 'debug',
    // The worker ensures the execution upload drain Schedule on this task queue. An interval Schedule
    // acts at multiples of its interval since the Unix epoch (Temporal's ScheduleSpec): with a century
    // the next one is decades away, so the only drain of this run is the one the test starts — no
    // scheduled drain claims its uploads first.
    EXECUTION_UPLOAD_INTERVAL_SECONDS: String(100 * 365 * 86_400),
    EXECUTION_UPLOAD_SCHEDULE_ID: DRAIN_SCHEDULE_ID,
  });
  connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  const [, api] = await Promise.all([
    startProcess('src/worker.ts', /worker started/),
    startProcess('src/api/server.ts', /API listening/),
  ]);
  apiUrl = (JSON.parse(api.line) as { url: string }).url;
}, 180_000);

afterAll(async () => {
  await stopProcesses();
  if (client) await deleteExecutionUploadSchedule(client, DRAIN_SCHEDULE_ID).catch(() => undefined);
  await connection?.close();
  await pool?.end();
  await emu?.close();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

/** The queue statuses of `executionIds` once none is pending or processing (polls for at most 120 s). */
async function settledUploads(executionIds: string[]): Promise<string[]> {
  const until = Date.now() + 120_000;
  for (;;) {
    const { rows } = await pool.query<{ execution_id: string; status: string }>(
      'SELECT execution_id, status FROM snowflake_sync_queue WHERE execution_id = ANY($1)',
      [executionIds],
    );
    const status = executionIds.map((id) => rows.find((r) => r.execution_id === id)?.status ?? 'absent');
    if (status.every((st) => st !== 'pending' && st !== 'processing') || Date.now() > until) return status;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a full run leaks no secret', () => {
  it('signs in, syncs a table, uploads executions, and no log line or workflow history holds a secret', async () => {
    // Sign-ins: the bootstrap admin, a wrong password, an API user.
    const admin = await signIn('admin', S.adminPassword);
    expect(
      (await call('POST', '/api/v1/auth/token', { form: { username: 'admin', password: S.wrongPassword } })).status,
    ).toBe(401);
    const created = await call('POST', '/api/v1/users', {
      token: admin,
      body: { username: 'uploader', password: S.apiUserPassword, role: 'user', user_id: USER_OK },
    });
    expect(created.status, created.text).toBe(201);
    const user = await signIn('uploader', S.apiUserPassword);

    // A table sync through the API.
    const reg = await call('POST', '/api/v1/sync/tables/register', {
      token: admin,
      body: { table_name: 'ITEMS', schema_name: 'S', primary_key: 'ID' },
    });
    expect(reg.status, reg.text).toBe(201);
    const started = await call('POST', '/api/v1/sync/start', {
      token: admin,
      body: { table_name: 'ITEMS', schema_name: 'S', strategy: 'full' },
    });
    expect(started.status, started.text).toBe(202);
    const job = await waitForJob(client, started.json.job_id, { timeoutMs: 120_000 });
    expect(job.status, JSON.stringify(job)).toBe('completed');

    // Execution uploads: one succeeds, one fails (its database does not exist) and keeps its error.
    const key = secretKeys(S.encryptionKey)!;
    await saveSnowflakeConfiguration(pool, key, {
      userId: USER_OK,
      account: 'up_ok',
      database: 'UP',
      schema: 'RESULTS',
      username: 'up',
      secret: { password: S.uploadPasswordOk },
      accessUrl: emu.url,
    });
    await saveSnowflakeConfiguration(pool, key, {
      userId: USER_BAD,
      account: 'up_bad',
      database: 'NO_SUCH_DB',
      schema: 'RESULTS',
      username: 'up_bad',
      secret: { password: S.uploadPasswordBad },
      accessUrl: emu.url,
    });
    for (const userId of [USER_OK, USER_BAD]) {
      await pool.query(
        `INSERT INTO workflow_executions (execution_id, user_id, status, results, completed_at) VALUES ($1, $2, 'completed', $3::jsonb, now())`,
        [
          `secrets-${userId}`,
          userId,
          JSON.stringify([
            { id: 1, v: 'a' },
            { id: 2, v: 'b' },
          ]),
        ],
      );
    }
    // The worker uploads them on its own: the queue's NOTIFY wakes its drain Schedule.
    expect(await settledUploads([`secrets-${USER_OK}`, `secrets-${USER_BAD}`])).toEqual(['completed', 'failed']);
    const status = await call('GET', `/api/snowflake-sync/execution/secrets-${USER_OK}/sync-status`, { token: user });
    expect(status.json.synced).toBe(true);
    const failed = await call('GET', '/api/snowflake-sync/failed', { token: admin });
    expect(failed.json.failed).toHaveLength(1);
    expect(failed.text).toContain('NO_SUCH_DB');

    // Stop the processes so every line they buffered is out, then collect histories.
    await stopProcesses();
    const logs = processes.map((p) => p.output.join('')).join('\n');
    expect(logs).toContain('token issued');
    expect(logs).toContain('sign-in failed');

    const histories: string[] = [];
    const queues = `TaskQueue = '${env.FLOE_TASK_QUEUE}' OR TaskQueue = '${env.FLOE_TASK_QUEUE}-execution-upload'`;
    for await (const wf of client.workflow.list({ query: queues })) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      // Payload bytes decoded as text, so a secret inside any input, result or failure shows up.
      histories.push(historyText(history));
    }
    expect(histories.length).toBeGreaterThanOrEqual(2); // the table sync and the drain(s) holding the uploads
    const allHistories = histories.join('\n');
    expect(allHistories).toContain('ITEMS');
    // The uploads' attempts (activities of the drain) are among the histories scanned.
    for (const userId of [USER_OK, USER_BAD]) expect(allHistories).toContain(`secrets-${userId}`);

    const dbPassword = decodeURIComponent(new URL(db.url).password);
    const everySecret: Record<string, string> = {
      ...S,
      ...Object.fromEntries(tokens.map((t, i) => [`token${i}`, t])),
      ...(dbPassword && { dbPassword }),
    };
    const { rows } = await pool.query<{ t: string }>(
      `SELECT concat_ws(' ', (SELECT string_agg(error_message, ' ') FROM snowflake_sync_queue),
                             (SELECT string_agg(secret_encrypted, ' ') FROM snowflake_configurations),
                             (SELECT string_agg(password_hash, ' ') FROM api_users)) AS t`,
    );
    for (const [name, value] of Object.entries(everySecret)) {
      expect(logs.includes(value), `${name} in the processes' logs`).toBe(false);
      expect(allHistories.includes(value), `${name} in a workflow history`).toBe(false);
      expect(rows[0]!.t.includes(value), `${name} in a stored error, ciphertext or hash`).toBe(false);
    }
  }, 300_000);
});
