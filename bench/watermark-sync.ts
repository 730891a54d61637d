/**
 * `npm run bench -- watermark-sync [--rows 1000000] [--batch 100000] [--merge-max-rows N] [--update 100000] [--repeat 1]`:
 * the watermark sync (PostgreSQL → Snowflake emulator) through Temporal, end to end. `--merge-max-rows`
 * sets the tables' `merge_max_rows` (default: the config default; `--merge-max-rows <batch>` is one page
 * per MERGE).
 *
 * Starts its own PostgreSQL (ephemeral), in-memory Temporal dev server and emulator (a child process,
 * so its DuckDB memory is not counted below), and runs the watermarkSync workflow on a worker in
 * this process. Prints:
 * - rows/s of the initial catch-up of `--rows` rows (pages of `--batch`, `auto` → files/CSV), with the
 *   number of MERGEs and pages;
 * - rows/s of one `--update`-row update batch merged by each load method: binds, files CSV, files Parquet;
 * - the floor of the catch-up, in the same run: the same rows read from PostgreSQL in one query (the
 *   sync's text casts), written to one CSV file, PUT to a stage, COPY INTO a staging table and one
 *   MERGE (the sync's own statements) into an empty copy of the target, issued directly (no Temporal,
 *   no batches); the headline ratio is catch-up seconds ÷ floor seconds; with `--repeat N`, N pairs
 *   (catch-up from an empty target, then its floor), the median of the pairs' ratios, and the figures of
 *   the pair whose ratio is nearest it (one floor measurement spreads as much as the gap to the target);
 * - this process's peak RSS (worker + activities; Linux VmHWM) after the catch-up (before the floor holds
 *   every row in memory) and at the end, and the emulator's.
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
import * as Q from '../src/jobs/watermark-sync/sql.js';
import { pgTextExpr, sfTypeOf } from '../src/jobs/watermark-sync/typemap.js';
import { writeCsvFile } from '../src/activities/files.js';
import { snowflakeStagePath, quoteSnowflakeName } from '../src/sql/quote.js';
import type { SnowflakeSession } from '../src/connectors/snowflake.js';
import type pg from 'pg';
import { medianPair, peakRssMiB, round3, since, startBenchEmulator, type BenchResult } from './common.js';

/** Run the benchmark (see the module comment). */
export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: 'string' },
      batch: { type: 'string' },
      update: { type: 'string' },
      repeat: { type: 'string' },
      'merge-max-rows': { type: 'string' },
    },
  });
  const rows = Number(values.rows ?? 1_000_000);
  const batch = Number(values.batch ?? 100_000);
  const update = Number(values.update ?? 100_000);
  const repeat = Math.max(1, Number(values.repeat ?? 1));
  const mergeMaxRows = values['merge-max-rows'] ? Number(values['merge-max-rows']) : undefined;
  setLogLevel('warn');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-wm-'));
  const pgServer = await startPostgres({ dataDir: path.join(root, 'pg'), ephemeral: true });
  const temporal = await startTemporal({ uiPort: false });
  const emu = await startBenchEmulator(path.join(root, 'emu'));
  const pool = createPool(pgServer.url, { max: 6 });
  const native = await NativeConnection.connect({ address: temporal.address });
  const conn = await Connection.connect({ address: temporal.address });
  let worker: Worker | null = null;
  let running: Promise<void> | null = null;
  try {
    await migrate(pgServer.url);
    const settings = { ...emu.settings, database: 'ANALYTICS' };
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
    let pages = 0;
    const activities = wrapActivities({
      ...raw,
      watermarkSyncBatch: async (input: Parameters<typeof raw.watermarkSyncBatch>[0]) => {
        const r = await raw.watermarkSyncBatch(input);
        for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] += r.phasesMs?.[k] ?? 0;
        pages += r.pages ?? 0;
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
        ...(mergeMaxRows ? { mergeMaxRows } : {}),
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
      pages = 0;
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
          )} rows/s  (${r.result.tables[0].batches} MERGEs of ${pages} pages: ${r.result.tables[0].binds} by binds, ${r.result.tables[0].files} by files; read ${(phases.read / 1000).toFixed(1)} s, stage ${(phases.stage / 1000).toFixed(1)} s, merge ${(phases.merge / 1000).toFixed(1)} s)`,
      );

    type Pair = {
      catchUp: Awaited<ReturnType<typeof sync>>;
      phases: typeof phases;
      pages: number;
      floor: Awaited<ReturnType<typeof catchUpFloor>>;
    };
    const pairs: Pair[] = [];
    let catchUpRssMiB = 0;
    for (let i = 0; i < repeat; i++) {
      if (i > 0) {
        // From scratch again: no target, no stored position.
        await sf.query('DROP TABLE IF EXISTS ANALYTICS.BENCH.ROWS');
        await pool.query(`DELETE FROM sync_watermarks WHERE source_table = 'public.bench_rows'`);
      }
      const catchUp = await sync(table({}));
      line(`initial catch-up ${i + 1}/${repeat} (batch ${batch.toLocaleString('en-US')}, auto→files CSV)`, catchUp);
      const catchUpPhases = { ...phases };
      const catchUpPages = pages;
      if (i === 0) catchUpRssMiB = peakRssMiB('self'); // before the floor reads every row into this process
      const count = await sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.BENCH.ROWS');
      if (Number(count[0].N) !== rows) throw new Error(`target has ${String(count[0].N)} rows, expected ${rows}`);

      const floor = await catchUpFloor(pool, sf, path.join(root, 'floor'));
      console.log(
        `floor ${i + 1}/${repeat} (one read, one CSV PUT + COPY, one MERGE, direct): ${floor.seconds.toFixed(1)} s (read ${floor.readSeconds.toFixed(1)} s, stage ${floor.stageSeconds.toFixed(1)} s, merge ${floor.mergeSeconds.toFixed(1)} s); catch-up / floor = ${(catchUp.seconds / floor.seconds).toFixed(2)} (target ≤ 1.5)`,
      );
      pairs.push({ catchUp, phases: catchUpPhases, pages: catchUpPages, floor });
    }
    const { ratios, ratio, pair } = medianPair(pairs, (p) => p.catchUp.seconds / p.floor.seconds);
    const { catchUp, phases: catchUpPhases, pages: catchUpPages, floor } = pair;
    if (repeat > 1)
      console.log(
        `catch-up / floor, median of ${repeat} pairs: ${ratio.toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}); target ≤ 1.5`,
      );
    const figures: Record<string, number> = {
      catchUpSeconds: round3(catchUp.seconds),
      rows,
      catchUpRowsPerSecond: Math.round(rows / catchUp.seconds),
      catchUpReadSeconds: round3(catchUpPhases.read / 1000),
      catchUpStageSeconds: round3(catchUpPhases.stage / 1000),
      catchUpMergeSeconds: round3(catchUpPhases.merge / 1000),
      merges: catchUp.result.tables[0].batches,
      pages: catchUpPages,
      catchUpWorkerPeakRssMiB: catchUpRssMiB,
    };

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
      const u = await sync(table(over));
      line(`${label} (${update.toLocaleString('en-US')} rows)`, u);
      figures[
        `update${over.loadMethod === 'binds' ? 'Binds' : over.fileFormat === 'csv' ? 'Csv' : 'Parquet'}RowsPerSecond`
      ] = Math.round(u.result.rows / u.seconds);
    }
    await sf.close();
    figures.emulatorPeakRssMiB = peakRssMiB(emu.child.pid!);
    return {
      bench: 'watermark-sync',
      headline: `${rows.toLocaleString('en-US')}-row catch-up ${catchUp.seconds.toFixed(1)} s (${figures.catchUpRowsPerSecond.toLocaleString('en-US')} rows/s; MERGE ${figures.catchUpMergeSeconds.toFixed(1)} s)`,
      target: 'ratio ≤ 1.5',
      figures,
      floor: {
        seconds: round3(floor.seconds),
        readSeconds: round3(floor.readSeconds),
        stageSeconds: round3(floor.stageSeconds),
        mergeSeconds: round3(floor.mergeSeconds),
      },
      ratio: round3(ratio),
    };
  } finally {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await native.close();
    await conn.close();
    await pool.end();
    await emu.stop();
    await temporal.stop();
    await pgServer.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The catch-up's floor: every row of `public.bench_rows` read in one query with the sync's text
 * casts, one CSV file, PUT + COPY INTO one staging table, and one MERGE (the sync's statements) into
 * `ANALYTICS.BENCH.ROWS_FLOOR`, an empty copy of the synced target. Times in seconds.
 */
async function catchUpFloor(
  pool: pg.Pool,
  sf: SnowflakeSession,
  dir: string,
): Promise<{ seconds: number; readSeconds: number; stageSeconds: number; mergeSeconds: number }> {
  const target: [string, string, string] = ['ANALYTICS', 'BENCH', 'ROWS_FLOOR'];
  const staging: [string, string, string] = ['ANALYTICS', 'BENCH', 'ROWS_FLOOR_STG'];
  const stage: [string, string, string] = ['ANALYTICS', 'BENCH', 'ROWS_FLOOR_STAGE'];
  await sf.query(`CREATE OR REPLACE TABLE ${quoteSnowflakeName(...target)} LIKE ANALYTICS.BENCH.ROWS`);
  const cols = (await sf.query(Q.targetColumnsSql(target))).map((r) => ({
    target: String(r.COLUMN_NAME),
    sfType: sfTypeOf(r as Parameters<typeof sfTypeOf>[0]),
  }));
  const { rows: srcCols } = await pool.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'bench_rows' ORDER BY ordinal_position`,
  );
  const exprs = srcCols.map((c) => pgTextExpr(`"${c.column_name}"`, c.data_type));
  let t0 = performance.now();
  const { rows } = await pool.query<string[]>({
    text: `SELECT ${exprs.join(', ')}, (row_number() OVER (ORDER BY updated_at, id))::text FROM public.bench_rows ORDER BY updated_at, id`,
    rowMode: 'array',
  });
  const readMs = since(t0);
  t0 = performance.now();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'rows.csv');
  await writeCsvFile(file, rows);
  await sf.query(
    Q.createStagingSql(
      staging,
      cols.map((c) => c.target),
      false,
    ),
  );
  await sf.query(`CREATE OR REPLACE TEMPORARY STAGE ${quoteSnowflakeName(...stage)}`);
  const stagePath = snowflakeStagePath(stage, 'rows');
  await sf.query(`PUT 'file://${file}' ${stagePath} AUTO_COMPRESS = TRUE OVERWRITE = TRUE`);
  await sf.query(Q.copyIntoStagingSql(staging, stagePath, 'csv'));
  const stageMs = since(t0);
  t0 = performance.now();
  await sf.query(Q.mergeSql(target, staging, cols, ['ID'], false));
  const mergeMs = since(t0);
  const [n] = await sf.query(`SELECT COUNT(*) AS N FROM ${quoteSnowflakeName(...target)}`);
  if (Number(n.N) !== rows.length) throw new Error(`floor target has ${String(n.N)} rows, expected ${rows.length}`);
  await sf.query(`DROP TABLE ${quoteSnowflakeName(...staging)}`);
  await sf.query(`DROP TABLE ${quoteSnowflakeName(...target)}`);
  return {
    seconds: (readMs + stageMs + mergeMs) / 1000,
    readSeconds: readMs / 1000,
    stageSeconds: stageMs / 1000,
    mergeSeconds: mergeMs / 1000,
  };
}
