/**
 * `npm run bench -- table-sync [--scale 1] [--stream-rows 300000] [--skip-stream] [--memory-limit 512MB]`: the table sync on
 * TPC-H LINEITEM (SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale>; SF1 = 6,001,215 rows, 16 columns).
 *
 * The emulator runs as a child process on the persistent data directory `.floe/state/bench-table-sync-emulator`
 * (its own, so it can run next to bench/emulator.ts; seeded on the first run). This
 * process plays the worker: it runs the `tableSyncTransfer` activity directly (the same code the
 * Temporal worker runs; Temporal adds a few ms of scheduling) into a fresh DuckDB file. Prints:
 * - stage full refresh of LINEITEM: seconds, rows/s, MB of Parquet;
 * - the floor, timed in the same run on the same rows: the emulator's `COPY INTO @stage` unload plus
 *   DuckDB `read_parquet` of the same files into a table (no GET, no casts, no swap) — and the ratio
 *   stage sync / floor;
 * - stream full refresh of the first `--stream-rows` rows (a copy of LINEITEM limited to that many
 *   rows, since snowflake-sdk decodes LINEITEM at ~10–18k rows/s here and all of SF1 would take
 *   minutes): rows/s, and the driver alone reading the same rows (the stream floor);
 * - this (worker) process's peak RSS right after the stage sync (before the floor's DuckDB and the
 *   stream run in this process) and at the end, and the emulator's.
 * `--memory-limit` is the DuckDB `memory_limit` of the target file, as DUCKDB_MEMORY_LIMIT sets it for a worker
 * (default {@link DUCKDB_FILE_MEMORY_LIMIT}).
 * Headline: stage sync seconds ÷ floor seconds; the stage cost is also given as seconds per million rows
 * (run `--scale 1` and `--scale 3` to see the cost curve; `npm run bench -- all` runs both).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectSnowflake } from '../src/connectors/snowflake.js';
import { DUCKDB_FILE_MEMORY_LIMIT, setDuckDbFileMemoryLimit } from '../src/connectors/duckdb.js';
import { duckdbInstanceOptions, stateDir } from '../src/infra/paths.js';
import { createTableSyncActivities } from '../src/activities/table-sync/index.js';
import { describeSource } from '../src/activities/table-sync/snowflake.js';
import {
  createStage,
  getFromStage,
  listStage,
  removeFromStage,
  unloadToStage,
} from '../src/connectors/snowflake-stage.js';
import { snowflakeStagePath, duckDbLiteral } from '../src/sql/quote.js';
import * as S from '../src/jobs/table-sync/sql.js';
import { tpchSchemaName } from '../emulator/src/tpch.js';
import { peakRssMiB, ratioOf, round3, startBenchEmulator, type BenchResult } from './common.js';

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const secs = (ms: number) => (ms / 1000).toFixed(2);

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      scale: { type: 'string' },
      'stream-rows': { type: 'string' },
      'skip-stream': { type: 'boolean' },
      'memory-limit': { type: 'string', default: DUCKDB_FILE_MEMORY_LIMIT },
    },
  });
  const memoryLimit = values['memory-limit'];
  setDuckDbFileMemoryLimit(memoryLimit);
  const scale = Number(values.scale ?? 1);
  const streamRows = Number(values['stream-rows'] ?? 300_000);
  const dataDir = path.join(stateDir, 'bench-table-sync-emulator');
  const work = path.join(stateDir, 'bench-table-sync');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });

  const emu = await startBenchEmulator(dataDir, scale);
  console.log(
    `emulator up in ${emu.seedSeconds.toFixed(2)} s (TPC-H SF${scale}; the first run seeds, in a process of its own)`,
  );
  const settings = { ...emu.settings, database: 'BENCH', schema: 'S' };
  const sf = await connectSnowflake(settings);
  try {
    await sf.query('CREATE DATABASE IF NOT EXISTS BENCH');
    await sf.query('CREATE SCHEMA IF NOT EXISTS BENCH.S');
    const source = { database: 'SNOWFLAKE_SAMPLE_DATA', schema: tpchSchemaName(scale), table: 'LINEITEM' };
    const desc = await describeSource(sf, source);
    const rows = desc.rowCount ?? 0;
    console.log(
      `source ${S.displayName(source)}: ${rows.toLocaleString('en-US')} rows, ${desc.columns.length} columns; target DuckDB memory_limit ${memoryLimit}`,
    );
    const acts = createTableSyncActivities({
      snowflake: settings,
      duckdbPath: path.join(work, 'target.duckdb'),
      tmpDir: path.join(work, 'tmp'),
    });

    // 1. Stage full refresh.
    let t = Date.now();
    const r = await acts.tableSyncTransfer({
      jobId: 'bench-stage',
      tableId: 'bench',
      source,
      strategy: 'full',
      method: 'stage',
      columns: desc.columns,
    });
    const stageMs = Date.now() - t;
    const stageRssMiB = peakRssMiB('self');
    const secondsPerMillion = stageMs / 1000 / (r.rowsInTarget / 1e6);
    console.log(
      `stage  full refresh: ${r.rowsInTarget.toLocaleString('en-US')} rows in ${secs(stageMs)} s = ${Math.round(r.rowsInTarget / (stageMs / 1000)).toLocaleString('en-US')} rows/s, ${secondsPerMillion.toFixed(2)} s per million rows (${r.files} files, ${mb(r.bytes)} MB Parquet); worker peak RSS so far ${stageRssMiB} MiB`,
    );

    // 2. Floor: the emulator's unload of the same SELECT + DuckDB read_parquet of the same files.
    const stage: [string, string, string] = ['BENCH', 'S', 'FLOE_STAGE'];
    const stagePath = snowflakeStagePath(stage, 'bench-floor');
    await createStage(sf, stage);
    await removeFromStage(sf, stagePath);
    t = Date.now();
    await unloadToStage(sf, stagePath, S.unloadSelect(source, desc.columns));
    const unloadMs = Date.now() - t;
    const files = await getFromStage(sf, stagePath, await listStage(sf, stagePath), path.join(work, 'floor'));
    const inst = await DuckDBInstance.create(path.join(work, 'floor.duckdb'), duckdbInstanceOptions());
    const conn = await inst.connect();
    t = Date.now();
    await conn.run(`CREATE TABLE floor AS SELECT * FROM read_parquet([${files.map(duckDbLiteral).join(', ')}])`);
    const readMs = Date.now() - t;
    conn.closeSync();
    inst.closeSync();
    await removeFromStage(sf, stagePath);
    const floorMs = unloadMs + readMs;
    console.log(
      `floor: unload ${secs(unloadMs)} s + read_parquet ${secs(readMs)} s = ${secs(floorMs)} s; stage sync / floor = ${(stageMs / floorMs).toFixed(2)}`,
    );

    const figures: Record<string, number> = {
      stageSeconds: round3(stageMs / 1000),
      rows: r.rowsInTarget,
      stageRowsPerSecond: Math.round(r.rowsInTarget / (stageMs / 1000)),
      stageSecondsPerMillionRows: round3(secondsPerMillion),
      parquetMiB: Math.round(r.bytes / 1024 / 1024),
      stageWorkerPeakRssMiB: stageRssMiB,
    };

    // 3. Stream full refresh of a stated subset.
    if (!values['skip-stream']) {
      const sub = { database: 'BENCH', schema: 'S', table: 'LINEITEM_SUB' };
      await sf.query(
        `CREATE OR REPLACE TABLE BENCH.S.LINEITEM_SUB AS SELECT * FROM ${S.displayName(source)} LIMIT ${Math.floor(streamRows)}`,
      );
      const subDesc = await describeSource(sf, sub);
      // Stream floor: the driver alone decoding the same rows (array rows, numbers/JSON/binary as strings).
      t = Date.now();
      let raw = 0;
      for await (const _row of sf.stream(S.streamSelect(sub, subDesc.columns), undefined, {
        fetchAsString: ['Number', 'JSON', 'Buffer'],
        rowMode: 'array',
      }) as AsyncIterable<unknown[]>)
        raw++;
      const rawMs = Date.now() - t;
      t = Date.now();
      const s = await acts.tableSyncTransfer({
        jobId: 'bench-stream',
        tableId: 'bench',
        source: sub,
        strategy: 'full',
        method: 'stream',
        columns: subDesc.columns,
        batchRows: 50_000,
      });
      const streamMs = Date.now() - t;
      console.log(
        `stream full refresh: ${s.rowsInTarget.toLocaleString('en-US')} rows (first ${streamRows.toLocaleString('en-US')} of LINEITEM) in ${secs(streamMs)} s = ${Math.round(s.rowsInTarget / (streamMs / 1000)).toLocaleString('en-US')} rows/s; the driver alone: ${Math.round(raw / (rawMs / 1000)).toLocaleString('en-US')} rows/s (stream sync / driver floor = ${(streamMs / rawMs).toFixed(2)}, target ≤ 1.25)`,
      );
      Object.assign(figures, {
        streamRows: s.rowsInTarget,
        streamSeconds: round3(streamMs / 1000),
        streamRowsPerSecond: Math.round(s.rowsInTarget / (streamMs / 1000)),
        streamDriverFloorSeconds: round3(rawMs / 1000),
        streamRatio: ratioOf(streamMs, rawMs) ?? NaN,
      });
    }
    figures.emulatorPeakRssMiB = peakRssMiB(emu.child.pid!);
    return {
      bench: 'table-sync',
      headline: `SF${scale} stage full refresh ${secs(stageMs)} s (${figures.stageRowsPerSecond.toLocaleString('en-US')} rows/s, ${secondsPerMillion.toFixed(2)} s/M rows)`,
      target: '≤ 1.15; stream ≤ 1.25; ≤ 512 MiB, flat SF1→SF3',
      figures,
      floor: {
        seconds: round3(floorMs / 1000),
        unloadSeconds: round3(unloadMs / 1000),
        readParquetSeconds: round3(readMs / 1000),
      },
      ratio: ratioOf(stageMs, floorMs),
    };
  } finally {
    await sf.close();
    await emu.stop();
  }
}
