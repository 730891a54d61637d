/**
 * `npm run bench -- emulator [--scale 1] [--stream-rows 1000000]`: the Snowflake emulator on TPC-H LINEITEM
 * (SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale>; SF1 = 6,001,215 rows).
 *
 * The emulator runs as a child process (`node --import tsx emulator/src/main.ts`) on a persistent
 * data directory (`.floe/state/bench-emulator`, seeded on the first run). Prints:
 * - seconds until a first emulator process has seeded TPC-H (first run) and stopped (the measured one
 *   does not seed, so seeding stays out of its peak RSS);
 * - the headline: rows/s of `SELECT * FROM LINEITEM LIMIT <stream-rows>` (0 = every row) streamed
 *   through snowflake-sdk (`streamRows`, numbers and dates as strings), and its floor, the driver
 *   decoding the same JSON pages served from memory (bench/page-replay.ts); between the two, the
 *   emulator's own share: the same query and chunk downloads over plain HTTP, no driver;
 * - seconds of `COPY INTO @stage/... FROM LINEITEM FILE_FORMAT=(TYPE=PARQUET)` (16 MB files, the default);
 * - seconds of DuckDB's own `COPY LINEITEM TO '...parquet'` on the same database file, after the
 *   emulator has stopped (DuckDB allows one process per file), and the ratio of the two;
 * - the emulator process's peak RSS (VmHWM from /proc/<pid>/status, read just before it stops).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import '../src/connectors/snowflake-env.js'; // before snowflake-sdk: no cloud-metadata probing at load
import snowflake from 'snowflake-sdk';
import { duckdbInstanceOptions, stateDir } from '../src/infra/paths.js';
import { tpchSchemaName } from '../emulator/src/tpch.js';
import { BENCH_USER, peakRssMiB, ratioOf, round3, startBenchEmulator, type BenchResult } from './common.js';
import { recordQueryPages, servePages } from './page-replay.js';

function connect(url: string): Promise<snowflake.Connection> {
  const conn = snowflake.createConnection({
    account: 'floe',
    username: BENCH_USER.name,
    password: BENCH_USER.password,
    accessUrl: url,
  });
  return new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(conn))));
}

function exec(conn: snowflake.Connection, sqlText: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) =>
    conn.execute({
      sqlText,
      fetchAsString: ['Number'],
      complete: (err, _s, rows) => (err ? reject(err) : resolve((rows ?? []) as Record<string, unknown>[])),
    }),
  );
}

/** Stream every row of a query; returns the row count. */
function streamCount(conn: snowflake.Connection, sqlText: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stmt = conn.execute({ sqlText, streamResult: true, fetchAsString: ['Number', 'Date'] });
    let n = 0;
    stmt
      .streamRows()
      .on('data', () => {
        n++;
      })
      .on('error', reject)
      .on('end', () => resolve(n));
  });
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

interface Measured {
  rows: number;
  streamed: number;
  streamSeconds: number;
  emulatorOnlySeconds: number;
  floorSeconds: number;
  unloadSeconds: number;
  unloadFiles: number;
  rssMiB: number;
}

/** Stream LINEITEM (and its floor), unload it to a stage, and read the emulator's peak RSS. */
async function measure(url: string, schema: string, streamRows: number, pid: number): Promise<Measured> {
  const conn = await connect(url);
  try {
    await exec(conn, 'CREATE DATABASE IF NOT EXISTS BENCH');
    await exec(conn, 'CREATE OR REPLACE STAGE BENCH.PUBLIC.UNLOAD');

    const lineitem = `SNOWFLAKE_SAMPLE_DATA.${schema}.LINEITEM`;
    const streamSql = `SELECT * FROM ${lineitem}${streamRows > 0 ? ` LIMIT ${streamRows}` : ''}`;
    let t0 = performance.now();
    const streamed = await streamCount(conn, streamSql);
    const streamSeconds = seconds(t0);
    const recorded = await recordQueryPages(url, BENCH_USER, streamSql);
    const replay = await servePages(recorded.pages);
    let floorSeconds: number;
    try {
      const floorConn = await connect(replay.url);
      t0 = performance.now();
      const replayed = await streamCount(floorConn, streamSql);
      floorSeconds = seconds(t0);
      await new Promise<void>((resolve) => floorConn.destroy(() => resolve()));
      if (replayed !== streamed || recorded.rows !== streamed)
        throw new Error(`streamed ${streamed} rows, recorded ${recorded.rows}, replayed ${replayed}`);
    } finally {
      await replay.close();
    }
    const [{ N: total }] = await exec(conn, `SELECT COUNT(*) AS N FROM ${lineitem}`);
    const rows = Number(total);

    t0 = performance.now();
    const [unload] = await exec(
      conn,
      `COPY INTO @BENCH.PUBLIC.UNLOAD/lineitem/ FROM ${lineitem} FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE`,
    );
    const unloadSeconds = seconds(t0);
    if (Number(unload.rows_unloaded) !== rows)
      throw new Error(`unloaded ${String(unload.rows_unloaded)} rows, the table has ${rows}`);
    const unloadFiles = (await exec(conn, 'LIST @BENCH.PUBLIC.UNLOAD/lineitem/')).length;
    await exec(conn, 'DROP STAGE BENCH.PUBLIC.UNLOAD');
    return {
      rows,
      streamed,
      streamSeconds,
      emulatorOnlySeconds: recorded.seconds,
      floorSeconds,
      unloadSeconds,
      unloadFiles,
      rssMiB: peakRssMiB(pid),
    };
  } finally {
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
  }
}

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({ args, options: { scale: { type: 'string' }, 'stream-rows': { type: 'string' } } });
  const scale = Number(values.scale ?? 1);
  const streamRows = Number(values['stream-rows'] ?? 1_000_000);
  const schema = tpchSchemaName(scale);
  const dataDir = path.join(stateDir, 'bench-emulator');
  fs.mkdirSync(dataDir, { recursive: true });
  snowflake.configure({ logLevel: 'ERROR' });

  const emu = await startBenchEmulator(dataDir, scale);
  const startSeconds = emu.seedSeconds;
  let m: Measured;
  try {
    m = await measure(emu.url, schema, streamRows, emu.child.pid!);
  } finally {
    await emu.stop();
  }
  const { rows, streamed, streamSeconds, emulatorOnlySeconds, floorSeconds, unloadSeconds, unloadFiles, rssMiB } = m;

  // DuckDB's own COPY TO Parquet of the same table, on the file the emulator just released.
  const instance = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
  const duck = await instance.connect();
  const out = path.join(dataDir, 'baseline-lineitem.parquet');
  await duck.run(`ATTACH '${path.join(dataDir, 'databases', 'SNOWFLAKE_SAMPLE_DATA.duckdb')}' AS sample (READ_ONLY)`);
  const t0 = performance.now();
  await duck.run(`COPY (SELECT * FROM sample.${schema}.LINEITEM) TO '${out}' (FORMAT parquet)`);
  const duckSeconds = seconds(t0);
  duck.closeSync();
  instance.closeSync();
  fs.rmSync(out, { force: true });

  const perSecond = (s: number) => Math.round(streamed / s).toLocaleString('en-US');
  console.log(`emulator bench — SNOWFLAKE_SAMPLE_DATA.${schema}.LINEITEM, ${rows.toLocaleString('en-US')} rows`);
  console.log(`  emulator ready (incl. TPC-H seeding if absent): ${startSeconds.toFixed(1)} s`);
  console.log(
    `  SELECT * (${streamed.toLocaleString('en-US')} rows) streamed via snowflake-sdk: ${perSecond(streamSeconds)} rows/s (${streamSeconds.toFixed(1)} s)`,
  );
  console.log(
    `  floor, the driver decoding the same pages from memory: ${perSecond(floorSeconds)} rows/s (${floorSeconds.toFixed(1)} s) → ratio ${(streamSeconds / floorSeconds).toFixed(2)} (target ≤ 1.3)`,
  );
  console.log(
    `  the emulator alone serving those pages (plain HTTP):   ${perSecond(emulatorOnlySeconds)} rows/s (${emulatorOnlySeconds.toFixed(1)} s)`,
  );
  console.log(`  COPY INTO @stage Parquet (unload):             ${unloadSeconds.toFixed(2)} s, ${unloadFiles} files`);
  console.log(
    `  DuckDB COPY TO Parquet (same table):           ${duckSeconds.toFixed(2)} s  → unload/DuckDB ratio ${(unloadSeconds / duckSeconds).toFixed(2)}`,
  );
  return {
    bench: 'emulator',
    headline: `SELECT * of ${streamed.toLocaleString('en-US')} LINEITEM rows via snowflake-sdk ${streamSeconds.toFixed(1)} s (${perSecond(streamSeconds)} rows/s)`,
    target: 'ratio ≤ 1.3',
    figures: {
      streamSeconds: round3(streamSeconds),
      streamRows: streamed,
      streamRowsPerSecond: Math.round(streamed / streamSeconds),
      emulatorOnlySeconds: round3(emulatorOnlySeconds),
      unloadSeconds: round3(unloadSeconds),
      unloadFiles,
      duckdbCopySeconds: round3(duckSeconds),
      unloadRatio: ratioOf(unloadSeconds, duckSeconds) ?? NaN,
      startSeconds: round3(startSeconds),
      emulatorPeakRssMiB: rssMiB,
    },
    floor: { seconds: round3(floorSeconds), rowsPerSecond: Math.round(streamed / floorSeconds) },
    ratio: ratioOf(streamSeconds, floorSeconds),
  };
}
