/**
 * `npm run bench -- table-sync [--scale 1] [--method stage|stream] [--stream-rows 300000] [--batch-rows N]
 * [--repeat 1] [--skip-stream] [--memory-limit 256MB]`: the table sync on TPC-H LINEITEM (SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale>;
 * SF1 = 6,001,215 rows, 16 columns). `--method` runs one method only (`--skip-stream` is `--method stage`);
 * `--method stream --scale 0.1` (600,572 rows) measures the stream quickly.
 *
 * The emulator runs as a child process on the persistent data directory `.floe/state/bench-table-sync-emulator`
 * (its own, so it can run next to bench/emulator.ts; seeded on the first run). This
 * process plays the worker: it runs the `tableSyncTransfer` activity directly (the same code the
 * Temporal worker runs; Temporal adds a few ms of scheduling) into a fresh DuckDB file. Prints:
 * - stage full refresh of LINEITEM: seconds, rows/s, MB of Parquet;
 * - the floor, timed in the same run on the same rows: the emulator's `COPY INTO @stage` unload plus
 *   DuckDB `read_parquet` of the same files into a table (no GET, no casts, no swap) — and the ratio
 *   stage sync / floor; after an untimed warm-up unload, `--repeat` pairs (stage sync, floor), medians;
 * - stream full refresh of the first `--stream-rows` rows (a copy of LINEITEM limited to that many
 *   rows, since snowflake-sdk decodes LINEITEM at ~10–18k rows/s here and all of SF1 would take
 *   minutes): rows/s, and the driver alone reading the same rows (the stream floor: `SELECT <columns>`,
 *   the driver decoding dates and timestamps itself), `--repeat` times in alternation (floor, stream, the
 *   driver alone on the stream's own SELECT, floor, ...); each gives a wall-clock ratio and a CPU-time
 *   ratio of this process (the driver, floe and DuckDB's threads; the emulator is another process), and
 *   the medians are reported, since one run on a shared machine says little;
 * - this (worker) process's peak RSS right after the first stage sync (before the floor's DuckDB and the
 *   stream run in this process) and at the end, and the emulator's.
 * `--batch-rows` is the stream's `batchRows` (default: the activity's own).
 * `--memory-limit` is the DuckDB `memory_limit` of the target file, as DUCKDB_MEMORY_LIMIT sets it for a worker
 * (default {@link DUCKDB_FILE_MEMORY_LIMIT}).
 * Headline: stage sync seconds ÷ floor seconds; the stage cost is also given as seconds per million rows
 * (run `--scale 1` and `--scale 3` to see the cost curve; `npm run bench -- all` runs both). With
 * `--method stream` the headline is the stream's median wall-clock ratio to its floor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectSnowflake, type SnowflakeSession } from '../src/connectors/snowflake.js';
import { DUCKDB_FILE_MEMORY_LIMIT, setDuckDbFileMemoryLimit } from '../src/connectors/duckdb.js';
import { duckdbInstanceOptions, stateDir } from '../src/infra/paths.js';
import { createTableSyncActivities } from '../src/activities/table-sync/index.js';
import { describeSource } from '../src/activities/table-sync/snowflake.js';
import { createStage, getFromStage, removeFromStage, unloadToStage } from '../src/connectors/snowflake-stage.js';
import { snowflakeStagePath, duckDbLiteral, quoteSnowflakeIdent } from '../src/sql/quote.js';
import * as S from '../src/jobs/table-sync/sql.js';
import type { ColumnPlan } from '../src/sql/typemap.js';
import { tpchSchemaName } from '../emulator/src/tpch.js';
import { cpuMs, median, peakRssMiB, round3, startBenchEmulator, type BenchResult } from './common.js';

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const secs = (ms: number) => (ms / 1000).toFixed(2);

type Activities = ReturnType<typeof createTableSyncActivities>;
/** What one method's part of the run adds to the result. */
type Part = Pick<BenchResult, 'headline' | 'figures' | 'floor' | 'ratio'>;

/** Wall and CPU milliseconds of this process while `fn` runs. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const t = performance.now();
  const c = cpuMs('self');
  const value = await fn();
  return { value, ms: performance.now() - t, cpuMs: cpuMs('self') - c };
}

/**
 * Stage full refresh of `source`, and its floor: the emulator's unload + DuckDB `read_parquet` of the same
 * files. An untimed unload of the same rows runs first, so that both sides find the emulator's DuckDB cache
 * warm (the first read of LINEITEM after the emulator starts took 2–3× as long as the next one, and it fell on
 * whichever side ran first). Then `repeat` pairs (stage sync, floor); the headline is the median ratio.
 */
async function stagePart(
  sf: SnowflakeSession,
  acts: Activities,
  source: S.SourceTable,
  columns: ColumnPlan[],
  work: string,
  repeat: number,
): Promise<Part> {
  const stage: [string, string, string] = ['BENCH', 'S', 'FLOE_STAGE'];
  const stagePath = snowflakeStagePath(stage, 'bench-floor');
  await createStage(sf, stage);
  await removeFromStage(sf, stagePath);
  let t = Date.now();
  await unloadToStage(sf, stagePath, S.unloadSelect(source, columns));
  await removeFromStage(sf, stagePath);
  console.log(`warm-up: an untimed unload of the same rows took ${secs(Date.now() - t)} s`);

  const pairs: { stageMs: number; floorMs: number; unloadMs: number; readMs: number }[] = [];
  let r: Awaited<ReturnType<Activities['tableSyncTransfer']>> | undefined;
  let stageRssMiB = 0;
  for (let i = 0; i < repeat; i++) {
    t = Date.now();
    r = await acts.tableSyncTransfer({
      jobId: 'bench-stage',
      tableId: 'bench',
      source,
      strategy: 'full',
      method: 'stage',
      columns,
    });
    const stageMs = Date.now() - t;
    // Peak RSS before the floor's DuckDB (no memory limit) first runs in this process.
    if (i === 0) stageRssMiB = peakRssMiB('self');
    console.log(
      `stage  full refresh ${i + 1}/${repeat}: ${r.rowsInTarget.toLocaleString('en-US')} rows in ${secs(stageMs)} s = ${Math.round(r.rowsInTarget / (stageMs / 1000)).toLocaleString('en-US')} rows/s (${r.files} files, ${mb(r.bytes)} MB Parquet); worker peak RSS after the first ${stageRssMiB} MiB`,
    );

    await removeFromStage(sf, stagePath);
    t = Date.now();
    await unloadToStage(sf, stagePath, S.unloadSelect(source, columns));
    const unloadMs = Date.now() - t;
    const floorDir = path.join(work, 'floor');
    fs.rmSync(floorDir, { recursive: true, force: true });
    const files = await getFromStage(sf, stagePath, floorDir);
    const floorDb = path.join(work, 'floor.duckdb');
    fs.rmSync(floorDb, { force: true });
    const inst = await DuckDBInstance.create(floorDb, duckdbInstanceOptions());
    const conn = await inst.connect();
    t = Date.now();
    await conn.run(`CREATE TABLE floor AS SELECT * FROM read_parquet([${files.map(duckDbLiteral).join(', ')}])`);
    const readMs = Date.now() - t;
    conn.closeSync();
    inst.closeSync();
    await removeFromStage(sf, stagePath);
    const floorMs = unloadMs + readMs;
    pairs.push({ stageMs, floorMs, unloadMs, readMs });
    console.log(
      `floor ${i + 1}/${repeat}: unload ${secs(unloadMs)} s + read_parquet ${secs(readMs)} s = ${secs(floorMs)} s; stage sync / floor = ${(stageMs / floorMs).toFixed(2)}`,
    );
  }
  const stageMs = median(pairs.map((p) => p.stageMs));
  const floorMs = median(pairs.map((p) => p.floorMs));
  const ratio = round3(median(pairs.map((p) => p.stageMs / p.floorMs)));
  if (repeat > 1)
    console.log(
      `stage sync / floor, median of ${repeat} pairs: ${ratio.toFixed(2)} (${pairs.map((p) => (p.stageMs / p.floorMs).toFixed(2)).join(', ')}); target ≤ 1.15`,
    );
  const rows = r!.rowsInTarget;
  const secondsPerMillion = stageMs / 1000 / (rows / 1e6);
  const rowsPerSecond = Math.round(rows / (stageMs / 1000));
  return {
    headline: `stage full refresh ${secs(stageMs)} s (${rowsPerSecond.toLocaleString('en-US')} rows/s, ${secondsPerMillion.toFixed(2)} s/M rows)`,
    figures: {
      stageSeconds: round3(stageMs / 1000),
      rows,
      stageRowsPerSecond: rowsPerSecond,
      stageSecondsPerMillionRows: round3(secondsPerMillion),
      parquetMiB: Math.round(r!.bytes / 1024 / 1024),
      stageWorkerPeakRssMiB: stageRssMiB,
    },
    floor: {
      seconds: round3(floorMs / 1000),
      unloadSeconds: round3(median(pairs.map((p) => p.unloadMs)) / 1000),
      readParquetSeconds: round3(median(pairs.map((p) => p.readMs)) / 1000),
    },
    ratio,
  };
}

/** Seconds and rows/s of a driver-only read, for the log. */
const driverRead = (r: { value: number; ms: number; cpuMs: number }) =>
  `${secs(r.ms)} s (CPU ${secs(r.cpuMs)} s), ${Math.round(r.value / (r.ms / 1000)).toLocaleString('en-US')} rows/s`;

/**
 * Stream full refresh of the first `rows` rows of `source` and its floor, `repeat` triples in alternation:
 * - the floor: the driver alone reading the same rows as any client would, `SELECT <the columns>` (dates
 *   and timestamps decoded by the driver into its Date objects), array rows, numbers/JSON/binary as strings;
 * - the stream sync;
 * - the driver alone running the stream's own SELECT (dates and timestamps formatted by Snowflake, so the
 *   driver passes them through as text): what the driver costs with floe's choices, printed beside.
 * Each gives wall-clock and CPU time of this process (the driver, floe and DuckDB's threads; the emulator is
 * another process); the medians of the per-triple ratios are reported.
 */
async function streamPart(
  sf: SnowflakeSession,
  acts: Activities,
  source: S.SourceTable,
  rows: number,
  batchRows: number | undefined,
  repeat: number,
): Promise<Part> {
  const sub = { database: 'BENCH', schema: 'S', table: 'LINEITEM_SUB' };
  await sf.query(
    `CREATE OR REPLACE TABLE BENCH.S.LINEITEM_SUB AS SELECT * FROM ${S.displayName(source)} LIMIT ${Math.floor(rows)}`,
  );
  const columns = (await describeSource(sf, sub)).columns;
  const read = (sql: string) =>
    timed(async () => {
      let n = 0;
      for await (const _row of sf.stream(sql, undefined, {
        fetchAsString: ['Number', 'JSON', 'Buffer'],
        rowMode: 'array',
      }) as AsyncIterable<unknown[]>)
        n++;
      return n;
    });
  const plainSelect = `SELECT ${columns.map((c) => quoteSnowflakeIdent(c.name)).join(', ')} FROM ${S.displayName(sub)}`;
  const triples: {
    floor: number;
    floorCpu: number;
    stream: number;
    streamCpu: number;
    same: number;
    sameCpu: number;
  }[] = [];
  let loaded = 0;
  for (let i = 0; i < repeat; i++) {
    const floor = await read(plainSelect);
    const stream = await timed(() =>
      acts.tableSyncTransfer({
        jobId: 'bench-stream',
        tableId: 'bench',
        source: sub,
        strategy: 'full',
        method: 'stream',
        columns,
        batchRows,
      }),
    );
    const same = await read(S.streamSelect(sub, columns));
    loaded = stream.value.rowsInTarget;
    triples.push({
      floor: floor.ms,
      floorCpu: floor.cpuMs,
      stream: stream.ms,
      streamCpu: stream.cpuMs,
      same: same.ms,
      sameCpu: same.cpuMs,
    });
    console.log(
      `stream full refresh ${i + 1}/${repeat}: ${loaded.toLocaleString('en-US')} rows (first ${rows.toLocaleString('en-US')} of LINEITEM) in ${secs(stream.ms)} s (CPU ${secs(stream.cpuMs)} s) = ${Math.round(loaded / (stream.ms / 1000)).toLocaleString('en-US')} rows/s; the driver alone: ${driverRead(floor)}; stream / floor = ${(stream.ms / floor.ms).toFixed(2)} wall, ${(stream.cpuMs / floor.cpuMs).toFixed(2)} CPU; the driver alone on the stream's SELECT: ${driverRead(same)}, stream / it = ${(stream.ms / same.ms).toFixed(2)} wall, ${(stream.cpuMs / same.cpuMs).toFixed(2)} CPU`,
    );
  }
  const med = (f: (t: (typeof triples)[number]) => number) => median(triples.map(f));
  const list = (f: (t: (typeof triples)[number]) => number) => triples.map((t) => f(t).toFixed(2)).join(', ');
  const ratio = round3(med((t) => t.stream / t.floor));
  const cpuRatio = round3(med((t) => t.streamCpu / t.floorCpu));
  const sameRatio = round3(med((t) => t.stream / t.same));
  const sameCpuRatio = round3(med((t) => t.streamCpu / t.sameCpu));
  if (repeat > 1)
    console.log(
      `stream / driver floor, medians of ${repeat} triples: ${ratio.toFixed(2)} wall (${list((t) => t.stream / t.floor)}), ${cpuRatio.toFixed(2)} CPU (${list((t) => t.streamCpu / t.floorCpu)}); target ≤ 1.25. Against the driver on the stream's SELECT: ${sameRatio.toFixed(2)} wall (${list((t) => t.stream / t.same)}), ${sameCpuRatio.toFixed(2)} CPU (${list((t) => t.streamCpu / t.sameCpu)})`,
    );
  const streamMs = med((t) => t.stream);
  const floorMs = med((t) => t.floor);
  const rowsPerSecond = Math.round(loaded / (streamMs / 1000));
  return {
    headline: `stream full refresh of ${loaded.toLocaleString('en-US')} rows ${secs(streamMs)} s (${rowsPerSecond.toLocaleString('en-US')} rows/s)`,
    figures: {
      streamRows: loaded,
      streamSeconds: round3(streamMs / 1000),
      streamRowsPerSecond: rowsPerSecond,
      streamDriverFloorSeconds: round3(floorMs / 1000),
      streamRatio: ratio,
      streamCpuSeconds: round3(med((t) => t.streamCpu) / 1000),
      streamDriverFloorCpuSeconds: round3(med((t) => t.floorCpu) / 1000),
      streamCpuRatio: cpuRatio,
      streamSelectDriverSeconds: round3(med((t) => t.same) / 1000),
      streamSelectDriverCpuSeconds: round3(med((t) => t.sameCpu) / 1000),
      streamSelectRatio: sameRatio,
      streamSelectCpuRatio: sameCpuRatio,
    },
    floor: { driverSeconds: round3(floorMs / 1000) },
    ratio,
  };
}

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      scale: { type: 'string' },
      method: { type: 'string' },
      'stream-rows': { type: 'string' },
      'batch-rows': { type: 'string' },
      repeat: { type: 'string' },
      'skip-stream': { type: 'boolean' },
      'memory-limit': { type: 'string', default: DUCKDB_FILE_MEMORY_LIMIT },
    },
  });
  const memoryLimit = values['memory-limit'];
  setDuckDbFileMemoryLimit(memoryLimit);
  const scale = Number(values.scale ?? 1);
  const method = values['skip-stream'] ? 'stage' : values.method;
  if (method !== undefined && method !== 'stage' && method !== 'stream')
    throw new Error(`--method must be stage or stream, not ${method}`);
  const streamRows = Number(values['stream-rows'] ?? 300_000);
  const batchRows = values['batch-rows'] === undefined ? undefined : Number(values['batch-rows']);
  const repeat = Math.max(1, Number(values.repeat ?? 1));
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
    console.log(
      `source ${S.displayName(source)}: ${(desc.rowCount ?? 0).toLocaleString('en-US')} rows, ${desc.columns.length} columns; target DuckDB memory_limit ${memoryLimit}`,
    );
    const acts = createTableSyncActivities({
      snowflake: settings,
      duckdbPath: path.join(work, 'target.duckdb'),
      tmpDir: path.join(work, 'tmp'),
    });
    const stage = method === 'stream' ? null : await stagePart(sf, acts, source, desc.columns, work, repeat);
    const stream = method === 'stage' ? null : await streamPart(sf, acts, source, streamRows, batchRows, repeat);
    const head = (stage ?? stream)!;
    const figures = { ...stage?.figures, ...stream?.figures, emulatorPeakRssMiB: peakRssMiB(emu.child.pid!) };
    return {
      bench: 'table-sync',
      headline: `SF${scale} ${head.headline}`,
      target: stage ? '≤ 1.15; stream ≤ 1.25; ≤ 512 MiB, flat SF1→SF3' : '≤ 1.25',
      figures,
      floor: head.floor,
      ratio: head.ratio,
    };
  } finally {
    await sf.close();
    await emu.stop();
  }
}
