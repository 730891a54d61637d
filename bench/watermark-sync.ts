/**
 * `npm run bench -- watermark-sync [--rows 1000000] [--batch 100000] [--update 100000]`: the
 * watermark sync (PostgreSQL → Snowflake emulator) through Temporal, end to end.
 *
 * Starts its own PostgreSQL (ephemeral), in-memory Temporal dev server and emulator (a child process,
 * so its DuckDB memory is not counted below), and runs the watermarkSync workflow on a worker in
 * this process. Prints:
 * - rows/s of the initial catch-up of `--rows` rows (batches of `--batch`, `auto` → files/CSV);
 * - rows/s of one `--update`-row update batch merged by each load method: binds, files CSV, files Parquet;
 * - this process's peak RSS (worker + activities; Linux VmHWM) and the emulator's.
 * The source table: id bigint pk, account int, amount numeric(18,4), note text, payload jsonb,
 * updated_at timestamptz, with an index on (updated_at, id).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createWatermarkSyncActivities } from '../src/activities/watermark-sync/index.js';
import { connectSnowflake } from '../src/connectors/snowflake.js';
import { createPool, migrate } from '../src/db/index.js';
import { wrapActivities } from '../src/errors.js';
import { projectRoot } from '../src/infra/paths.js';
import { startPostgres } from '../src/infra/postgres.js';
import { startTemporal } from '../src/infra/temporal.js';
import { setLogLevel } from '../src/logger.js';
import { tableSpec } from '../src/jobs/watermark-sync/config.js';
import type {
  WatermarkSyncConfig,
  WatermarkSyncResult,
  WatermarkTableSpec,
} from '../src/jobs/watermark-sync/contract.js';
import { watermarkSync } from '../src/workflows/watermarkSync.js';
import { freePort, startEmulatorChild, peakRssMiB } from './common.js';

/** Run the benchmark (see the module comment). */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { rows: { type: 'string' }, batch: { type: 'string' }, update: { type: 'string' } },
  });
  const rows = Number(values.rows ?? 1_000_000);
  const batch = Number(values.batch ?? 100_000);
  const update = Number(values.update ?? 100_000);
  setLogLevel('warn');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-wm-'));
  const pgServer = await startPostgres({ dataDir: path.join(root, 'pg'), ephemeral: true });
  const temporal = await startTemporal({ uiPort: false });
  const emuPort = await freePort();
  const emu = await startEmulatorChild(emuPort, path.join(root, 'emu'));
  const url = `http://127.0.0.1:${emuPort}`;
  const pool = createPool(pgServer.url, { max: 6 });
  const native = await NativeConnection.connect({ address: temporal.address });
  const conn = await Connection.connect({ address: temporal.address });
  let worker: Worker | null = null;
  let running: Promise<void> | null = null;
  try {
    await migrate(pgServer.url);
    const settings = { account: 'floe', username: 'bench', password: 'bench', accessUrl: url, database: 'ANALYTICS' };
    const sf = await connectSnowflake(settings);
    await sf.query('CREATE DATABASE IF NOT EXISTS ANALYTICS');
    await sf.query('CREATE SCHEMA IF NOT EXISTS ANALYTICS.BENCH');

    let t = Date.now();
    await pool.query(
      `CREATE TABLE public.bench_rows (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(18,4), note text, payload jsonb, updated_at timestamptz NOT NULL)`,
    );
    await pool.query(`INSERT INTO public.bench_rows
      SELECT i, i % 1000, (i * 1.2345)::numeric(18,4), 'note ' || md5(i::text), jsonb_build_object('i', i, 'tag', 't' || (i % 10)),
             timestamptz '2024-01-01' + make_interval(secs => i / 10)
      FROM generate_series(1, ${rows}) i`);
    await pool.query(`CREATE INDEX ON public.bench_rows (updated_at, id)`);
    await pool.query(`ANALYZE public.bench_rows`);
    console.log(
      `source: ${rows.toLocaleString('en-US')} rows in PostgreSQL (${((Date.now() - t) / 1000).toFixed(1)} s to generate)`,
    );

    const taskQueue = 'bench-wm';
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(projectRoot, 'src/workflows/watermarkSync.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const raw = createWatermarkSyncActivities({
      pool,
      sourcePool: pool,
      snowflake: settings,
      tmpDir: path.join(root, 'tmp'),
    });
    // Sum each batch's phase timings (read / stage / merge / advance) for the report.
    let phases = { read: 0, stage: 0, merge: 0, advance: 0 };
    const activities = wrapActivities({
      ...raw,
      watermarkSyncBatch: async (input: Parameters<typeof raw.watermarkSyncBatch>[0]) => {
        const r = await raw.watermarkSyncBatch(input);
        for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] += r.phasesMs?.[k] ?? 0;
        return r;
      },
    });
    worker = await Worker.create({
      connection: native,
      taskQueue,
      activities,
      workflowBundle: bundle,
      maxConcurrentActivityTaskExecutions: 2,
    });
    running = worker.run();
    const client = new Client({ connection: conn });

    const table = (over: Partial<WatermarkTableSpec>): WatermarkTableSpec =>
      tableSpec({
        source: 'public.bench_rows',
        target: 'ANALYTICS.BENCH.ROWS',
        pk: ['id'],
        watermarkColumn: 'updated_at',
        batchSize: batch,
        createTarget: true,
        ...over,
      });
    let n = 0;
    const sync = async (spec: WatermarkTableSpec): Promise<{ result: WatermarkSyncResult; seconds: number }> => {
      const config: WatermarkSyncConfig = {
        name: 'bench',
        syncIntervalSeconds: 120,
        maxParallelTables: 1,
        tables: [spec],
      };
      const started = Date.now();
      phases = { read: 0, stage: 0, merge: 0, advance: 0 };
      const result = await client.workflow.execute(watermarkSync, {
        taskQueue,
        workflowId: `bench-wm-${++n}`,
        args: [{ config }],
      });
      if (result.failed) throw new Error(`sync failed: ${result.tables[0].error}`);
      return { result, seconds: (Date.now() - started) / 1000 };
    };
    const line = (label: string, r: { result: WatermarkSyncResult; seconds: number }) =>
      console.log(
        `${label.padEnd(44)} ${r.result.rows.toLocaleString('en-US').padStart(10)} rows ${r.seconds.toFixed(1).padStart(7)} s ${Math.round(
          r.result.rows / r.seconds,
        )
          .toLocaleString('en-US')
          .padStart(
            9,
          )} rows/s  (${r.result.tables[0].batches} batches: ${r.result.tables[0].binds} binds, ${r.result.tables[0].files} files; read ${(phases.read / 1000).toFixed(1)} s, stage ${(phases.stage / 1000).toFixed(1)} s, merge ${(phases.merge / 1000).toFixed(1)} s)`,
      );

    line(`initial catch-up (batch ${batch.toLocaleString('en-US')}, auto→files CSV)`, await sync(table({})));
    const count = await sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.BENCH.ROWS');
    if (Number(count[0].N) !== rows) throw new Error(`target has ${String(count[0].N)} rows, expected ${rows}`);

    for (const [label, over] of [
      ['update batch, binds', { loadMethod: 'binds' as const, batchSize: update }],
      ['update batch, files CSV', { loadMethod: 'files' as const, fileFormat: 'csv' as const, batchSize: update }],
      [
        'update batch, files Parquet',
        { loadMethod: 'files' as const, fileFormat: 'parquet' as const, batchSize: update },
      ],
    ] as const) {
      t = Date.now();
      // `update` rows move past the high-water mark; the sync merges exactly them (one batch).
      await pool.query(
        `UPDATE public.bench_rows SET amount = amount + 1, updated_at = clock_timestamp() WHERE id IN (SELECT id FROM public.bench_rows ORDER BY random() LIMIT ${update})`,
      );
      line(`${label} (${update.toLocaleString('en-US')} rows)`, await sync(table(over)));
    }
    await sf.close();
    console.log(
      `peak RSS: worker process ${peakRssMiB('self').toFixed(0)} MiB, emulator process ${peakRssMiB(emu.pid!).toFixed(0)} MiB`,
    );
  } finally {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await native.close();
    await conn.close();
    await pool.end();
    emu.kill('SIGTERM');
    await new Promise((r) => emu.once('exit', r));
    await temporal.stop();
    await pgServer.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
