/**
 * `npm run bench -- execution-upload [--executions 1000] [--rows 1000] [--concurrency 5] [--interval 30]
 * [--repeat 1]` (or `tsx bench/run.ts execution-upload …`): the execution upload end to end.
 *
 * Starts its own PostgreSQL (unless DATABASE_URL), an in-memory Temporal dev server, the emulator as
 * a child process (its own CPU, like a remote Snowflake) on a fresh data dir, and an in-process worker
 * with the upload workflows and activities. Inserts `--executions` running executions of `--rows`
 * rows each (5 columns: integer, text, decimal, boolean, date) for one user, creates the drain
 * Schedule (every `--interval` s, `--concurrency` uploads at once) and the queue listener a worker runs
 * (LISTEN; the queue's NOTIFY triggers the drain), then marks all executions completed in one UPDATE
 * (the trigger queues them) and waits until the queue is empty.
 *
 * Prints executions/min and rows/s over the whole run (completion → last upload), the upload-only
 * rate (first claim → last upload), the queue latency completion → upload (p50, p95, max) from
 * `workflow_executions.completed_at` and `snowflake_sync_queue.processed_at`, and the Temporal round
 * trips per upload: workflow tasks and activities of every drain run's history, per uploaded execution,
 * and the CPU per upload of this process (the worker's, from completion to the empty queue; it moves
 * with the machine's load too, though less than the rates), of PostgreSQL and of the emulator.
 *
 * Then the floor, in the same run: the same Snowflake statements per execution (the upload's own
 * `loadAndPublish`: raw table, array-bind INSERT, `CREATE OR REPLACE TABLE … AS SELECT` with casts, drop
 * of the raw table, count; src/jobs/execution-upload/sql.ts) with the same rows and column types, issued
 * directly by `--concurrency` sessions at once, each signed in once (as the upload reuses one session per
 * user), with no PostgreSQL, no Temporal, no schedule, and this process's CPU per upload meanwhile (the
 * bare clients'). The headline ratio is (completion → last upload) ÷ floor seconds.
 *
 * With `--repeat N`, N pairs in alternation (floe's run, then its floor; one floor run spreads as much
 * as the gap to the target): before each pair after the first, the queue and executions are inserted
 * afresh and the uploaded and floor tables dropped (the schema dropped and created again), so every
 * pair starts from the first's state. Prints every pair; the headline ratio is the median of the pairs'
 * ratios, and the other figures are those of the pair whose ratio is nearest it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createExecutionUploadActivities } from '../src/activities/execution-upload/index.js';
import {
  deleteExecutionUploadSchedule,
  ensureExecutionUploadSchedule,
  triggerExecutionUploadDrain,
} from '../src/client/executionUpload.js';
import { listenForQueuedUploads } from '../src/jobs/execution-upload/notify.js';
import { envValue } from '../src/config.js';
import { connectSnowflake } from '../src/connectors/snowflake.js';
import { createPool, migrate } from '../src/db/index.js';
import { wrapActivities } from '../src/errors.js';
import { jobMetricsSinks } from '../src/metrics/jobs.js';
import { projectRoot } from '../src/infra/paths.js';
import { startPostgres, type PostgresServer } from '../src/infra/postgres.js';
import { startTemporal } from '../src/infra/temporal.js';
import { setLogLevel } from '../src/logger.js';
import { generateEncryptionKey, secretKeys } from '../src/secrets/crypto.js';
import { saveSnowflakeConfiguration } from '../src/jobs/execution-upload/configs.js';
import type * as S from '../src/jobs/execution-upload/sql.js';
import { EXECUTION_UPLOAD_DEFAULTS } from '../src/jobs/execution-upload/contract.js';
import { loadAndPublish } from '../src/activities/execution-upload/load.js';
import type { InferredColumn } from '../src/jobs/execution-upload/infer.js';
import { sfTypeOf } from '../src/jobs/watermark-sync/typemap.js';
import type { SnowflakeSettings } from '../src/connectors/snowflake.js';
import {
  BENCH_USER,
  cpuMs,
  medianPair,
  statFields,
  peakRssMiB,
  percentile,
  round3,
  startBenchEmulator,
  type BenchResult,
} from './common.js';

const pct = percentile;

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      executions: { type: 'string' },
      rows: { type: 'string' },
      concurrency: { type: 'string' },
      interval: { type: 'string' },
      repeat: { type: 'string' },
    },
  });
  const n = Number(values.executions ?? 1000);
  const rowsPer = Number(values.rows ?? 1000);
  const concurrency = Number(values.concurrency ?? 5);
  const interval = Number(values.interval ?? 30);
  const repeat = Math.max(1, Number(values.repeat ?? 1));
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
    const emu = await startBenchEmulator(path.join(work, 'emu'));
    stops.push(() => emu.stop(5000));
    const sf = await connectSnowflake(emu.settings);
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
      account: emu.settings.account,
      database: 'BENCH',
      schema: 'RESULTS',
      username: BENCH_USER.name,
      secret: { password: BENCH_USER.password },
      accessUrl: emu.url,
    });
    await insertExecutions(pool, userId, n, rowsPer);

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
      sinks: jobMetricsSinks(),
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
    // As a worker serving execution upload does (the job's `watch`): queued work triggers the drain.
    const listener = listenForQueuedUploads({ databaseUrl, onQueued: () => triggerExecutionUploadDrain(client) });
    stops.unshift(() => listener.close());
    await listener.ready;

    // One pair: floe's run, then its floor, each from the same state as the first pair's (the queue and
    // executions inserted afresh, the uploaded tables and the floor's dropped before the next pair).
    const pairs: Pair[] = [];
    let drainCost = { runs: 0, workflowTasks: 0, activities: 0 };
    for (let i = 0; i < repeat; i++) {
      if (i > 0) {
        await pool.query('TRUNCATE snowflake_sync_queue, workflow_executions');
        await insertExecutions(pool, userId, n, rowsPer);
        const sfAdmin = await connectSnowflake(emu.settings);
        await sfAdmin.query('DROP SCHEMA BENCH.RESULTS CASCADE');
        await sfAdmin.query('CREATE SCHEMA BENCH.RESULTS');
        await sfAdmin.close();
      }
      const label = repeat > 1 ? ` ${i + 1}/${repeat}` : '';
      const others = await otherCpu(pool, emu.child.pid!);
      const up = await uploadRun(pool, n, rowsPer, concurrency, interval);
      const upOther = others.per(n);
      const cost = await drainTasks(client);
      // Drain runs of earlier pairs are closed: their histories were counted then.
      const pairCost = {
        runs: cost.runs - drainCost.runs,
        workflowTasks: cost.workflowTasks - drainCost.workflowTasks,
        activities: cost.activities - drainCost.activities,
      };
      drainCost = cost;
      const perUpload = (k: number) => round3(k / Math.max(1, up.done));
      console.log(
        `  Temporal per upload: ${perUpload(pairCost.workflowTasks)} workflow tasks, ${perUpload(pairCost.activities)} activities (${pairCost.runs} drain runs' histories)`,
      );
      const floorOthers = await otherCpu(pool, emu.child.pid!);
      const cpuFloor0 = process.cpuUsage();
      const floorSeconds = await uploadFloor(
        { ...emu.settings, database: 'BENCH', schema: 'RESULTS' },
        up.sampleTable,
        n,
        rowsPer,
        concurrency,
      );
      const floorCpu = cpuMsPer(process.cpuUsage(cpuFloor0), n);
      const floorOther = floorOthers.per(n);
      console.log(
        `  CPU per upload: this process ${up.workerCpu} ms uploading (the worker), ${floorCpu} ms in the floor (its bare clients); PostgreSQL ${upOther.pg} ms uploading, ${floorOther.pg} ms in the floor; the emulator ${upOther.emulator} ms uploading, ${floorOther.emulator} ms in the floor`,
      );
      console.log(
        `  floor${label} (the same Snowflake statements issued directly, ${concurrency} at a time): ${floorSeconds.toFixed(1)} s = ${((n / floorSeconds) * 60).toFixed(0)} executions/min; completion → last upload / floor = ${(up.wall / floorSeconds).toFixed(2)} (target ≤ 1.5, ≥ 1,000 executions/min, p95 ≤ 60 s)`,
      );
      pairs.push({
        up,
        floorSeconds,
        floorCpu,
        pgCpu: upOther.pg,
        emulatorCpu: upOther.emulator,
        floorEmulatorCpu: floorOther.emulator,
        workflowTasksPerUpload: perUpload(pairCost.workflowTasks),
        activitiesPerUpload: perUpload(pairCost.activities),
      });
    }
    // The figures of the pair whose ratio is nearest the median.
    const { ratios, ratio, pair: mid } = medianPair(pairs, (p) => p.up.wall / p.floorSeconds);
    if (repeat > 1) {
      console.log(`\npairs (floe run, then its floor):`);
      pairs.forEach((p, k) =>
        console.log(
          `  ${k + 1}: ${p.up.perMinute.toFixed(0)} executions/min (p95 ${p.up.p95.toFixed(1)} s, worker CPU ${p.up.workerCpu} ms/upload), floor ${((n / p.floorSeconds) * 60).toFixed(0)}/min (${p.floorCpu} ms/upload): ratio ${(p.up.wall / p.floorSeconds).toFixed(2)}`,
        ),
      );
      console.log(
        `completion → last upload / floor, median of ${repeat} pairs: ${ratio.toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}); target ≤ 1.5`,
      );
    }
    const { up, floorSeconds } = mid;
    return {
      bench: 'execution-upload',
      headline: `${n} × ${rowsPer} rows in ${up.wall.toFixed(1)} s = ${up.perMinute.toFixed(0)} executions/min, latency p95 ${up.p95.toFixed(1)} s${repeat > 1 ? ` (the pair nearest the median of ${repeat})` : ''}`,
      target: 'ratio ≤ 1.5, ≥ 1,000 executions/min, p95 ≤ 60 s',
      figures: {
        seconds: round3(up.wall),
        executionsPerMinute: Math.round(up.perMinute),
        uploaded: up.done,
        notUploaded: up.failed,
        rowsPerSecond: Math.round(up.rows / up.wall),
        uploadOnlyExecutionsPerMinute: Math.round(up.uploadOnlyPerMinute),
        latencyP50Seconds: round3(up.p50),
        latencyP95Seconds: round3(up.p95),
        latencyMaxSeconds: round3(up.max),
        workflowTasksPerUpload: mid.workflowTasksPerUpload,
        activitiesPerUpload: mid.activitiesPerUpload,
        workerCpuMsPerUpload: up.workerCpu,
        floorClientCpuMsPerUpload: mid.floorCpu,
        postgresCpuMsPerUpload: mid.pgCpu,
        emulatorCpuMsPerUpload: mid.emulatorCpu,
        floorEmulatorCpuMsPerUpload: mid.floorEmulatorCpu,
        pairs: repeat,
        ...Object.fromEntries(ratios.map((r, k) => [`ratioPair${k + 1}`, round3(r)])),
        emulatorPeakRssMiB: peakRssMiB(emu.child.pid!),
      },
      floor: { seconds: round3(floorSeconds), executionsPerMinute: Math.round((n / floorSeconds) * 60) },
      ratio: round3(ratio),
    };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** One floe run's figures ({@link uploadRun}). */
interface UploadRun {
  done: number;
  failed: number;
  rows: number;
  /** Completion → last upload, seconds. */
  wall: number;
  perMinute: number;
  uploadOnlyPerMinute: number;
  p50: number;
  p95: number;
  max: number;
  /** This process's CPU (the worker's) per upload, ms. */
  workerCpu: number;
  /** An uploaded table's name (its column types are the floor's). */
  sampleTable: string;
}

/** A floe run and its floor. */
interface Pair {
  up: UploadRun;
  floorSeconds: number;
  floorCpu: number;
  /** PostgreSQL's and the emulator's CPU per upload during floe's run, the emulator's during the floor, ms. */
  pgCpu: number;
  emulatorCpu: number;
  floorEmulatorCpu: number;
  workflowTasksPerUpload: number;
  activitiesPerUpload: number;
}

/** Insert `n` running executions of `rowsPer` rows each (5 columns) for `userId`. */
async function insertExecutions(pool: pg.Pool, userId: string, n: number, rowsPer: number): Promise<void> {
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
}

/**
 * floe's run: mark every running execution completed in one UPDATE (the trigger queues them, the
 * listener triggers the drain), wait until the queue is empty and read the figures back from
 * PostgreSQL.
 */
async function uploadRun(
  pool: pg.Pool,
  n: number,
  rowsPer: number,
  concurrency: number,
  interval: number,
): Promise<UploadRun> {
  const cpu0 = process.cpuUsage();
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
  const workerCpu = cpuMsPer(process.cpuUsage(cpu0), n);
  const { rows: st } = await pool.query<{
    done: number;
    failed: number;
    first_done: Date;
    last_done: Date;
    t_complete: Date;
    rows: string;
    sample: string;
  }>(
    `SELECT count(*) FILTER (WHERE q.status = 'completed')::int AS done, count(*) FILTER (WHERE q.status <> 'completed')::int AS failed,
            min(q.processed_at) AS first_done, max(q.processed_at) AS last_done, min(e.completed_at) AS t_complete,
            sum(q.rows_uploaded)::text AS rows, min(q.snowflake_table) AS sample
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
  const up: UploadRun = {
    done: s.done,
    failed: s.failed,
    rows: Number(s.rows),
    wall,
    perMinute: (s.done / wall) * 60,
    uploadOnlyPerMinute: ((s.done - 1) / Math.max(uploadWall, 0.001)) * 60,
    p50: pct(lats, 50),
    p95: pct(lats, 95),
    max: lats[lats.length - 1],
    workerCpu,
    sampleTable: s.sample.split('.')[2],
  };
  console.log('');
  console.log(
    `execution-upload: ${s.done} of ${n} executions uploaded (${s.failed} not), ${up.rows.toLocaleString('en')} rows, ${os.cpus().length} cores`,
  );
  console.log(
    `  completion → last upload: ${wall.toFixed(1)} s = ${up.perMinute.toFixed(0)} executions/min, ${(up.rows / wall).toFixed(0)} rows/s`,
  );
  console.log(
    `  first upload → last upload: ${uploadWall.toFixed(1)} s = ${up.uploadOnlyPerMinute.toFixed(0)} executions/min, ${(((s.done - 1) * rowsPer) / Math.max(uploadWall, 0.001)).toFixed(0)} rows/s`,
  );
  console.log(
    `  queue latency completion → upload: p50 ${up.p50.toFixed(1)} s, p95 ${up.p95.toFixed(1)} s, max ${up.max.toFixed(1)} s (burst of ${n}; the drain woken by the queue's notification, Schedule every ${interval} s)`,
  );
  return up;
}

/**
 * CPU of the other processes from now on: PostgreSQL's (its postmaster with the children it reaped,
 * and its live children: backends and background processes) and the emulator's (`emulatorPid`).
 * `per(n)` reads them again and returns milliseconds per upload, one decimal.
 */
async function otherCpu(
  pool: pg.Pool,
  emulatorPid: number,
): Promise<{ per(n: number): { pg: number; emulator: number } }> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const postmaster = Number(statFields(rows[0].pid)[1]);
  const pgCpu = () => {
    // utime, stime, and (the postmaster's) cutime, cstime: in USER_HZ ticks of 10 ms.
    const f = statFields(postmaster);
    let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const c = statFields(Number(d));
        if (Number(c[1]) === postmaster) ticks += Number(c[11]) + Number(c[12]);
      } catch {
        // exited meanwhile: its time is in the postmaster's cutime once reaped
      }
    }
    return ticks * 10;
  };
  const pg0 = pgCpu();
  const emu0 = cpuMs(emulatorPid);
  return {
    per(n) {
      const per = (ms: number) => Math.round((ms * 10) / Math.max(1, n)) / 10;
      return { pg: per(pgCpu() - pg0), emulator: per(cpuMs(emulatorPid) - emu0) };
    },
  };
}

/** Milliseconds of CPU (user + system, from `process.cpuUsage`) per upload, one decimal. */
function cpuMsPer(used: NodeJS.CpuUsage, uploads: number): number {
  return Math.round((used.user + used.system) / 100 / Math.max(1, uploads)) / 10;
}

/** Workflow tasks and (non-local) activities scheduled in the histories of every drain run. */
async function drainTasks(client: Client): Promise<{ runs: number; workflowTasks: number; activities: number }> {
  let runs = 0;
  let workflowTasks = 0;
  let activities = 0;
  for await (const w of client.workflow.list({ query: `WorkflowType = 'executionUploadDrain'` })) {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    runs++;
    for (const e of history.events ?? []) {
      if (e.workflowTaskCompletedEventAttributes) workflowTasks++;
      if (e.activityTaskScheduledEventAttributes) activities++;
    }
  }
  return { runs, workflowTasks, activities };
}

/**
 * The upload's floor: `n` executions of `rowsPer` rows (the bench's rows as the upload's text cells),
 * each loaded by the upload's own statements, `concurrency` sessions at a time (one sign-in each), with
 * the column types of the uploaded table `sample`. Returns seconds.
 */
async function uploadFloor(
  settings: SnowflakeSettings,
  sample: string,
  n: number,
  rowsPer: number,
  concurrency: number,
): Promise<number> {
  const admin = await connectSnowflake(settings);
  const described = await admin.query(
    `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM BENCH.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'RESULTS' AND TABLE_NAME = '${sample}' ORDER BY ORDINAL_POSITION`,
  );
  await admin.close();
  const cols = described.map((r) => ({
    key: String(r.COLUMN_NAME).toLowerCase(),
    name: String(r.COLUMN_NAME),
    sfType: sfTypeOf(r as Parameters<typeof sfTypeOf>[0]) as InferredColumn['sfType'],
  }));
  const cell: Record<string, (g: number) => string> = {
    id: (g) => String(g),
    name: (g) => `row-${g}`,
    amount: (g) => (g * 1.25).toFixed(2),
    ok: (g) => String(g % 2 === 0),
    day: () => '2024-01-15',
  };
  const rows = Array.from({ length: rowsPer }, (_, i) => cols.map((c) => cell[c.key]?.(i + 1) ?? null));
  let next = 0;
  const worker = async () => {
    const sf = await connectSnowflake(settings);
    try {
      for (let i = next++; i < n; i = next++) {
        const target: S.SfName = ['BENCH', 'RESULTS', `FLOOR_${String(i).padStart(6, '0')}`];
        const count = await loadAndPublish(sf, {
          target,
          table: { columns: cols, rows },
          method: 'binds',
          bindChunkRows: EXECUTION_UPLOAD_DEFAULTS.bindChunkRows,
          localDir: '',
          stageName: '',
          onRows: async () => undefined,
        });
        if (count !== rowsPer) throw new Error(`${target.join('.')} holds ${count} rows, expected ${rowsPer}`);
      }
    } finally {
      await sf.close();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - t0) / 1000;
}
