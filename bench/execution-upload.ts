/**
 * `npm run bench -- execution-upload [--executions 1000] [--rows 1000] [--concurrency 5] [--interval 30]`
 * (or `tsx bench/execution-upload.ts …`): the execution upload end to end.
 *
 * Starts its own PostgreSQL (unless DATABASE_URL), an in-memory Temporal dev server, the emulator as
 * a child process (its own CPU, like a remote Snowflake) on a fresh data dir, and an in-process worker
 * with the upload workflows and activities. Inserts `--executions` running executions of `--rows`
 * rows each (5 columns: integer, text, decimal, boolean, date) for one user, creates the drain
 * Schedule (every `--interval` s, `--concurrency` uploads at once), then marks all executions
 * completed in one UPDATE (the trigger queues them) and waits until the queue is empty.
 *
 * Prints executions/min and rows/s over the whole run (completion → last upload), the upload-only
 * rate (first claim → last upload), and the queue latency completion → upload (p50, p95, max) from
 * `workflow_executions.completed_at` and `snowflake_sync_queue.processed_at`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createExecutionUploadActivities } from '../src/activities/execution-upload/index.js';
import { deleteExecutionUploadSchedule, ensureExecutionUploadSchedule } from '../src/client/executionUpload.js';
import { envValue } from '../src/config.js';
import { connectSnowflake } from '../src/connectors/snowflake.js';
import { createPool, migrate } from '../src/db/index.js';
import { wrapActivities } from '../src/errors.js';
import { projectRoot } from '../src/infra/paths.js';
import { startPostgres, type PostgresServer } from '../src/infra/postgres.js';
import { startTemporal } from '../src/infra/temporal.js';
import { setLogLevel } from '../src/logger.js';
import { generateEncryptionKey, secretKeys } from '../src/secrets/crypto.js';
import { saveSnowflakeConfiguration } from '../src/jobs/execution-upload/configs.js';
import { BENCH_USER, freePort, startEmulatorChild } from './common.js';

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      executions: { type: 'string' },
      rows: { type: 'string' },
      concurrency: { type: 'string' },
      interval: { type: 'string' },
    },
  });
  const n = Number(values.executions ?? 1000);
  const rowsPer = Number(values.rows ?? 1000);
  const concurrency = Number(values.concurrency ?? 5);
  const interval = Number(values.interval ?? 30);
  setLogLevel('warn');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-upload-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    let pg: PostgresServer | null = null;
    let databaseUrl = envValue('DATABASE_URL');
    if (!databaseUrl) {
      pg = await startPostgres({ dataDir: path.join(work, 'pg'), ephemeral: true });
      stops.push(() => pg!.stop());
      databaseUrl = pg.url;
    }
    await migrate(databaseUrl);
    const temporal = await startTemporal({ uiPort: false });
    stops.push(() => temporal.stop());
    const port = await freePort();
    const emu = await startEmulatorChild(port, path.join(work, 'emu'));
    stops.push(async () => {
      const exited = new Promise((r) => emu.once('exit', r));
      emu.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    });
    const accessUrl = `http://127.0.0.1:${port}`;
    const sf = await connectSnowflake({
      account: 'bench',
      username: BENCH_USER.name,
      password: BENCH_USER.password,
      accessUrl,
    });
    await sf.query('CREATE DATABASE IF NOT EXISTS BENCH');
    await sf.query('CREATE SCHEMA IF NOT EXISTS BENCH.RESULTS');
    await sf.close();

    const pool = createPool(databaseUrl, { max: 8 });
    stops.unshift(() => pool.end());
    const key = secretKeys(generateEncryptionKey())!;
    const userId = '11111111-1111-4111-8111-111111111111';
    await pool.query('TRUNCATE snowflake_sync_queue, workflow_executions, snowflake_configurations');
    await saveSnowflakeConfiguration(pool, key, {
      userId,
      account: 'bench',
      database: 'BENCH',
      schema: 'RESULTS',
      username: BENCH_USER.name,
      secret: { password: BENCH_USER.password },
      accessUrl,
    });
    const tIns = Date.now();
    await pool.query(
      `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results)
       SELECT 'bench_' || lpad(i::text, 6, '0'), $1, 'bench', 'running', r.results
         FROM generate_series(1, $2::int) i,
              (SELECT jsonb_agg(jsonb_build_object('id', g, 'name', 'row-' || g, 'amount', g * 1.25, 'ok', g % 2 = 0, 'day', '2024-01-15') ORDER BY g) AS results
                 FROM generate_series(1, $3::int) g) r`,
      [userId, n, rowsPer],
    );
    console.log(`inserted ${n} executions × ${rowsPer} rows in ${((Date.now() - tIns) / 1000).toFixed(1)} s`);

    const native = await NativeConnection.connect({ address: temporal.address });
    const conn = await Connection.connect({ address: temporal.address });
    stops.unshift(
      () => conn.close(),
      () => native.close(),
    );
    const client = new Client({ connection: conn, namespace: temporal.namespace });
    const taskQueue = 'floe-bench-execution-upload';
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: path.join(projectRoot, 'src', 'workflows', 'executionUpload.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const worker = await Worker.create({
      connection: native,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle,
      activities: wrapActivities(
        createExecutionUploadActivities({ pool, secretKeys: key, tmpDir: path.join(work, 'tmp') }),
      ),
      maxConcurrentActivityTaskExecutions: concurrency + 2,
    });
    const running = worker.run();
    stops.unshift(async () => {
      worker.shutdown();
      await running.catch(() => undefined);
    });
    await ensureExecutionUploadSchedule(client, {
      taskQueue,
      intervalSeconds: interval,
      input: { maxConcurrent: concurrency },
    });
    stops.unshift(() => deleteExecutionUploadSchedule(client));

    const t0 = Date.now();
    await pool.query(
      `UPDATE workflow_executions SET status = 'completed', completed_at = clock_timestamp() WHERE status = 'running'`,
    );
    console.log(
      `completed ${n} executions (trigger queued them) in ${((Date.now() - t0) / 1000).toFixed(1)} s; schedule every ${interval} s, ${concurrency} at once`,
    );
    let last = '';
    for (;;) {
      const { rows } = await pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM snowflake_sync_queue GROUP BY status ORDER BY status',
      );
      const open = rows.filter((r) => r.status === 'pending' || r.status === 'processing').reduce((a, r) => a + r.n, 0);
      const line = rows.map((r) => `${r.status}=${r.n}`).join(' ');
      if (line !== last) {
        process.stdout.write(`  [${((Date.now() - t0) / 1000).toFixed(0)} s] ${line}\n`);
        last = line;
      }
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const { rows: st } = await pool.query<{
      done: number;
      failed: number;
      first_claim: Date;
      first_done: Date;
      last_done: Date;
      t_complete: Date;
      rows: string;
    }>(
      `SELECT count(*) FILTER (WHERE q.status = 'completed')::int AS done, count(*) FILTER (WHERE q.status <> 'completed')::int AS failed,
              min(q.processed_at) AS first_done, max(q.processed_at) AS last_done, min(e.completed_at) AS t_complete,
              sum(q.rows_uploaded)::text AS rows
         FROM snowflake_sync_queue q JOIN workflow_executions e USING (execution_id)`,
    );
    const { rows: lat } = await pool.query<{ s: number }>(
      `SELECT extract(epoch FROM q.processed_at - e.completed_at)::float8 AS s FROM snowflake_sync_queue q JOIN workflow_executions e USING (execution_id)
        WHERE q.status = 'completed' ORDER BY 1`,
    );
    const s = st[0];
    const wall = (s.last_done.getTime() - s.t_complete.getTime()) / 1000;
    const uploadWall = (s.last_done.getTime() - s.first_done.getTime()) / 1000;
    const lats = lat.map((r) => r.s);
    console.log('');
    console.log(
      `execution-upload: ${s.done} of ${n} executions uploaded (${s.failed} not), ${Number(s.rows).toLocaleString('en')} rows, ${os.cpus().length} cores`,
    );
    console.log(
      `  completion → last upload: ${wall.toFixed(1)} s = ${((s.done / wall) * 60).toFixed(0)} executions/min, ${(Number(s.rows) / wall).toFixed(0)} rows/s`,
    );
    console.log(
      `  first upload → last upload: ${uploadWall.toFixed(1)} s = ${(((s.done - 1) / Math.max(uploadWall, 0.001)) * 60).toFixed(0)} executions/min, ${(((s.done - 1) * rowsPer) / Math.max(uploadWall, 0.001)).toFixed(0)} rows/s`,
    );
    console.log(
      `  queue latency completion → upload: p50 ${pct(lats, 50).toFixed(1)} s, p95 ${pct(lats, 95).toFixed(1)} s, max ${lats[lats.length - 1].toFixed(1)} s (burst of ${n}, first drain at the next ${interval} s tick)`,
    );
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  await run(process.argv.slice(2));
  process.exit(0);
}
