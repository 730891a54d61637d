/**
 * `npm run bench -- emulator [--scale 1]`: the Snowflake emulator on TPC-H LINEITEM
 * (SNOWFLAKE_SAMPLE_DATA.TPCH_SF<scale>; SF1 = 6,001,215 rows).
 *
 * The emulator runs as a child process (`node --import tsx emulator/src/main.ts`) on a persistent
 * data directory (`.floe/state/bench-emulator`, seeded on the first run). Prints:
 * - seconds until the emulator listens (includes TPC-H seeding on the first run);
 * - rows/s of a full `SELECT * FROM LINEITEM` streamed through snowflake-sdk (`streamRows`, numbers and dates as strings);
 * - seconds of `COPY INTO @stage/... FROM LINEITEM FILE_FORMAT=(TYPE=PARQUET)` (16 MB files, the default);
 * - seconds of DuckDB's own `COPY LINEITEM TO '...parquet'` on the same database file, after the
 *   emulator has stopped (DuckDB allows one process per file), and the ratio of the two;
 * - the emulator process's peak RSS (VmHWM from /proc/<pid>/status, read just before it stops).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import '../src/connectors/snowflake-env.js'; // before snowflake-sdk: no cloud-metadata probing at load
import snowflake from 'snowflake-sdk';
import { duckdbInstanceOptions, stateDir } from '../src/infra/paths.js';
import { tpchSchemaName } from '../emulator/src/tpch.js';
import { freePort, startEmulatorChild, peakRssMiB } from './common.js';

function connect(url: string): Promise<snowflake.Connection> {
  const conn = snowflake.createConnection({ account: 'floe', username: 'bench', password: 'bench', accessUrl: url });
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
  streamSeconds: number;
  unloadSeconds: number;
  unloadFiles: number;
  rssMiB: number;
}

/** Stream LINEITEM, unload it to a stage, and read the emulator's peak RSS. */
async function measure(url: string, schema: string, pid: number): Promise<Measured> {
  const conn = await connect(url);
  try {
    await exec(conn, 'CREATE DATABASE IF NOT EXISTS BENCH');
    await exec(conn, 'CREATE OR REPLACE STAGE BENCH.PUBLIC.UNLOAD');

    let t0 = performance.now();
    const rows = await streamCount(conn, `SELECT * FROM SNOWFLAKE_SAMPLE_DATA.${schema}.LINEITEM`);
    const streamSeconds = seconds(t0);

    t0 = performance.now();
    const [unload] = await exec(
      conn,
      `COPY INTO @BENCH.PUBLIC.UNLOAD/lineitem/ FROM SNOWFLAKE_SAMPLE_DATA.${schema}.LINEITEM FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE`,
    );
    const unloadSeconds = seconds(t0);
    if (Number(unload.rows_unloaded) !== rows)
      throw new Error(`unloaded ${String(unload.rows_unloaded)} rows, streamed ${rows}`);
    const unloadFiles = (await exec(conn, 'LIST @BENCH.PUBLIC.UNLOAD/lineitem/')).length;
    await exec(conn, 'DROP STAGE BENCH.PUBLIC.UNLOAD');
    return { rows, streamSeconds, unloadSeconds, unloadFiles, rssMiB: peakRssMiB(pid) };
  } finally {
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
  }
}

export async function run(args: string[]): Promise<void> {
  const scaleArg = args.indexOf('--scale');
  const scale = scaleArg >= 0 ? Number(args[scaleArg + 1]) : 1;
  const schema = tpchSchemaName(scale);
  const dataDir = path.join(stateDir, 'bench-emulator');
  fs.mkdirSync(dataDir, { recursive: true });
  snowflake.configure({ logLevel: 'ERROR' });

  const port = await freePort();
  let t0 = performance.now();
  const child = await startEmulatorChild(port, dataDir, scale);
  const startSeconds = seconds(t0);
  let m: Measured;
  try {
    m = await measure(`http://127.0.0.1:${port}`, schema, child.pid!);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  const { rows, streamSeconds, unloadSeconds, unloadFiles, rssMiB } = m;

  // DuckDB's own COPY TO Parquet of the same table, on the file the emulator just released.
  const instance = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
  const duck = await instance.connect();
  const out = path.join(dataDir, 'baseline-lineitem.parquet');
  await duck.run(`ATTACH '${path.join(dataDir, 'databases', 'SNOWFLAKE_SAMPLE_DATA.duckdb')}' AS sample (READ_ONLY)`);
  t0 = performance.now();
  await duck.run(`COPY (SELECT * FROM sample.${schema}.LINEITEM) TO '${out}' (FORMAT parquet)`);
  const duckSeconds = seconds(t0);
  duck.closeSync();
  instance.closeSync();
  fs.rmSync(out, { force: true });

  console.log(`emulator bench — SNOWFLAKE_SAMPLE_DATA.${schema}.LINEITEM, ${rows.toLocaleString('en-US')} rows`);
  console.log(`  emulator ready (incl. TPC-H seeding if absent): ${startSeconds.toFixed(1)} s`);
  console.log(
    `  SELECT * streamed via snowflake-sdk:           ${Math.round(rows / streamSeconds).toLocaleString('en-US')} rows/s (${streamSeconds.toFixed(1)} s)`,
  );
  console.log(`  COPY INTO @stage Parquet (unload):             ${unloadSeconds.toFixed(2)} s, ${unloadFiles} files`);
  console.log(
    `  DuckDB COPY TO Parquet (same table):           ${duckSeconds.toFixed(2)} s  → unload/DuckDB ratio ${(unloadSeconds / duckSeconds).toFixed(2)}`,
  );
  console.log(`  emulator child process peak RSS (VmHWM):       ${rssMiB.toFixed(0)} MiB`);
}
