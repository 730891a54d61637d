/**
 * `npm run bench -- emulator-merge [--target 1000000] [--batch 100000] [--batches 1] [--new 0.5] [--soft-delete]`:
 * MERGE throughput of the Snowflake emulator against DuckDB's own MERGE INTO.
 *
 * Builds the watermark sync's shapes (src/jobs/watermark-sync/sql.ts): a target table (ID NUMBER(38,0) PK, ACCOUNT
 * NUMBER(10,0), AMOUNT NUMBER(18,4), NOTE VARCHAR, PAYLOAD VARIANT, UPDATED_AT TIMESTAMP_TZ) of
 * `--target` rows and, per batch, an all-VARCHAR staging table of `--batch` rows (a `--new` fraction of
 * new keys, the others existing, 1% flagged soft-deleted (deleted with
 * `--soft-delete`, the sync's optional clause), every 10th key twice so the QUALIFY dedup has work), then runs the
 * sync's own `mergeSql(...)` through snowflake-sdk (emulator in process). Then the emulator stops and
 * the same MERGE, written natively (plain casts, 64-bit keys, the TIMESTAMP_TZ struct built inline), runs in plain
 * DuckDB on a CLONE of the target taken before the first batch, with the same staging tables.
 * Prints wall and CPU seconds (this process, DuckDB's threads included) per batch for both, and the
 * ratios (headline: emulator wall ÷ DuckDB wall). `EMU_SRC=<path to index.js>` measures another copy of
 * the emulator (a path relative to bench/).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import '../src/connectors/snowflake-env.js'; // before snowflake-sdk: no cloud-metadata probing at load
import snowflake from 'snowflake-sdk';
import type { startEmulator as StartEmulator } from '../emulator/src/index.js';
import { mergeSql } from '../src/jobs/watermark-sync/sql.js';
import { duckdbInstanceOptions } from '../src/infra/paths.js';
import { ratioOf, type BenchResult } from './common.js';

export async function run(args: string[]): Promise<BenchResult> {
  snowflake.configure({ logLevel: 'ERROR' });
  /** EMU_SRC: another copy of emulator/src/index.js to measure (e.g. a checkout of the previous version). */
  const { startEmulator } = (await import(process.env.EMU_SRC || '../emulator/src/index.js')) as {
    startEmulator: typeof StartEmulator;
  };
  const { values } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      batch: { type: 'string' },
      batches: { type: 'string' },
      new: { type: 'string' },
      'soft-delete': { type: 'boolean' },
    },
  });
  const N = Number(values.target ?? 1_000_000);
  const B = Number(values.batch ?? 100_000);
  const BATCHES = Number(values.batches ?? 1);
  const NEW = Number(values.new ?? 0.5);
  /** With the sync's soft-delete clause (`WHEN MATCHED AND _FLOE_DEL = 'true' THEN DELETE`): three kinds of action. */
  const SOFT_DELETE = values['soft-delete'] === true;

  const COLS = [
    { target: 'ID', sfType: 'NUMBER(38,0)' },
    { target: 'ACCOUNT', sfType: 'NUMBER(10,0)' },
    { target: 'AMOUNT', sfType: 'NUMBER(18,4)' },
    { target: 'NOTE', sfType: 'TEXT' },
    { target: 'PAYLOAD', sfType: 'VARIANT' },
    { target: 'UPDATED_AT', sfType: 'TIMESTAMP_TZ' },
  ];

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-merge-'));
  let emu = await startEmulator({ port: 0, dataDir, user: { name: 'u', password: 'p' } });
  let conn = snowflake.createConnection({ account: 'floe', username: 'u', password: 'p', accessUrl: emu.url });
  await conn.connectAsync(() => undefined);
  const exec = (sqlText: string): Promise<Record<string, unknown>[]> =>
    new Promise((resolve, reject) =>
      conn.execute({
        sqlText,
        fetchAsString: ['Number'],
        complete: (e, _s, rows) => (e ? reject(e) : resolve((rows ?? []) as Record<string, unknown>[])),
      }),
    );
  const secs = (t0: number) => Math.round((performance.now() - t0) / 10) / 100;

  await exec('CREATE DATABASE BENCH');
  await exec(
    `CREATE TABLE BENCH.PUBLIC.TGT (ID NUMBER(38,0) NOT NULL, ACCOUNT NUMBER(10,0), AMOUNT NUMBER(18,4), NOTE VARCHAR, PAYLOAD VARIANT, UPDATED_AT TIMESTAMP_TZ, PRIMARY KEY (ID))`,
  );
  let t0 = performance.now();
  await exec(
    `INSERT INTO BENCH.PUBLIC.TGT SELECT SEQ4(), MOD(SEQ4(), 1000), SEQ4() / 7, 'note ' || SEQ4(), PARSE_JSON('{"k": ' || SEQ4() || '}'), '2024-01-01 00:00:00 +02:00' FROM TABLE(GENERATOR(ROWCOUNT => ${N}))`,
  );
  console.error(`target: ${N} rows in ${secs(t0)} s`);
  await exec('CREATE TABLE BENCH.PUBLIC.TGT_DUCK CLONE BENCH.PUBLIC.TGT');

  const staging = (b: number) => `STG_${b}`;
  for (let b = 0; b < BATCHES; b++) {
    // Keys: the first (1 - NEW) existing (spread over the table), the others new; every 10th key twice.
    const half = Math.round(B * (1 - NEW));
    const idExpr = `CASE WHEN SEQ4() < ${half} THEN MOD(SEQ4() * 7919 + ${b}, ${N}) ELSE ${N + b * B} + SEQ4() END`;
    await exec(
      `CREATE TABLE BENCH.PUBLIC.${staging(b)} (ID VARCHAR, ACCOUNT VARCHAR, AMOUNT VARCHAR, NOTE VARCHAR, PAYLOAD VARCHAR, UPDATED_AT VARCHAR, _FLOE_DEL VARCHAR, _FLOE_SEQ VARCHAR)`,
    );
    await exec(
      `INSERT INTO BENCH.PUBLIC.${staging(b)} SELECT TO_VARCHAR(${idExpr}), TO_VARCHAR(MOD(SEQ4(), 77)), TO_VARCHAR(SEQ4() / 3), 'upd ' || SEQ4(), '{"u": ' || SEQ4() || '}', '2024-06-0' || (1 + MOD(SEQ4(), 9)) || ' 12:00:00.123456 +05:45', IFF(MOD(SEQ4(), 100) = 1, 'true', 'false'), TO_VARCHAR(SEQ4()) FROM TABLE(GENERATOR(ROWCOUNT => ${B}))`,
    );
    await exec(
      `INSERT INTO BENCH.PUBLIC.${staging(b)} SELECT ID, ACCOUNT, AMOUNT, NOTE || ' dup', PAYLOAD, UPDATED_AT, 'false', TO_VARCHAR(${B} + _FLOE_SEQ::NUMBER) FROM BENCH.PUBLIC.${staging(b)} WHERE MOD(_FLOE_SEQ::NUMBER, 10) = 0`,
    );
  }

  // Restart: closing checkpoints the setup, so neither side's first MERGE pays for checkpointing it.
  await new Promise<void>((r) => conn.destroy(() => r()));
  await emu.close();
  emu = await startEmulator({ port: 0, dataDir, user: { name: 'u', password: 'p' } });
  conn = snowflake.createConnection({ account: 'floe', username: 'u', password: 'p', accessUrl: emu.url });
  await conn.connectAsync(() => undefined);

  const emuSeconds: number[] = [];
  const emuCpu: number[] = [];
  /** CPU seconds of this process (DuckDB's threads included): steadier than wall time on a shared box. */
  const cpuSecs = (c0: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(c0);
    return Math.round((d.user + d.system) / 1e4) / 100;
  };
  for (let b = 0; b < BATCHES; b++) {
    const sql = mergeSql(['BENCH', 'PUBLIC', 'TGT'], ['BENCH', 'PUBLIC', staging(b)], COLS, ['ID'], SOFT_DELETE);
    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const [counts] = await exec(sql);
    emuSeconds.push(secs(t0));
    emuCpu.push(cpuSecs(cpu0));
    console.error(`emulator batch ${b}: ${emuSeconds[b]} s ${JSON.stringify(counts)}`);
  }
  const [{ C: emuRows }] = await exec('SELECT COUNT(*) AS C FROM BENCH.PUBLIC.TGT');
  await new Promise<void>((r) => conn.destroy(() => r()));
  await emu.close();

  // DuckDB's own MERGE on the clone, same staging tables, native casts.
  const inst = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
  const duck = await inst.connect();
  await duck.run(`SET TimeZone = 'UTC'`);
  await duck.run(`ATTACH '${path.join(dataDir, 'databases', 'BENCH.duckdb')}' AS BENCH`);
  const tz = (x: string) =>
    `{'utc': CAST(regexp_replace(${x}, ' ([+-])', '\\1') AS TIMESTAMPTZ), 'offset_minutes': CAST(345 AS SMALLINT)}`;
  const duckSeconds: number[] = [];
  const duckCpu: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    // Keys and sequence numbers fit 64 bits here: parsed as BIGINT (DuckDB parses text into a 128-bit
    // DECIMAL(38,0) some 300 times slower), as someone writing this MERGE for DuckDB would.
    const v = {
      ID: 's.ID::BIGINT::DECIMAL(38,0)',
      ACCOUNT: 's.ACCOUNT::DECIMAL(10,0)',
      AMOUNT: 's.AMOUNT::DECIMAL(18,4)',
      NOTE: 's.NOTE',
      PAYLOAD: 's.PAYLOAD::JSON',
      UPDATED_AT: tz('s.UPDATED_AT'),
    };
    const sql = `MERGE INTO BENCH.PUBLIC.TGT_DUCK AS t
    USING (SELECT * FROM BENCH.PUBLIC.${staging(b)} QUALIFY ROW_NUMBER() OVER (PARTITION BY ID ORDER BY _FLOE_SEQ::BIGINT DESC) = 1) AS s
    ON t.ID = ${v.ID}
    ${SOFT_DELETE ? "WHEN MATCHED AND s._FLOE_DEL = 'true' THEN DELETE" : ''}
    WHEN MATCHED THEN UPDATE SET ${Object.entries(v)
      .filter(([k]) => k !== 'ID')
      .map(([k, e]) => `${k} = ${e}`)
      .join(', ')}
    WHEN NOT MATCHED ${SOFT_DELETE ? "AND (s._FLOE_DEL IS NULL OR s._FLOE_DEL <> 'true')" : ''} THEN INSERT (${Object.keys(v).join(', ')}) VALUES (${Object.values(v).join(', ')})`;
    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await duck.run(sql);
    duckSeconds.push(secs(t0));
    duckCpu.push(cpuSecs(cpu0));
    console.error(`duckdb batch ${b}: ${duckSeconds[b]} s`);
  }
  const duckRows = (await duck.runAndReadAll('SELECT COUNT(*) FROM BENCH.PUBLIC.TGT_DUCK')).getRowsJS()[0][0];
  duck.closeSync();
  fs.rmSync(dataDir, { recursive: true, force: true });
  const sum = (a: number[]) => Math.round(a.reduce((x, y) => x + y, 0) * 100) / 100;
  const emuTotal = sum(emuSeconds);
  const duckTotal = sum(duckSeconds);
  console.log(
    `MERGE of ${BATCHES} × ${B.toLocaleString('en-US')} staged rows into ${N.toLocaleString('en-US')}: emulator ${emuTotal} s (CPU ${sum(emuCpu)} s), DuckDB's own MERGE ${duckTotal} s (CPU ${sum(duckCpu)} s); rows after: emulator ${String(emuRows)}, DuckDB ${String(duckRows)}`,
  );
  if (String(emuRows) !== String(duckRows)) throw new Error('the emulator and DuckDB disagree on the row count');
  return {
    bench: 'emulator-merge',
    headline: `MERGE ${BATCHES} × ${B.toLocaleString('en-US')} rows into ${N.toLocaleString('en-US')}: ${emuTotal} s`,
    target: '—',
    figures: {
      emulatorSeconds: emuTotal,
      emulatorCpuSeconds: sum(emuCpu),
      cpuRatio: ratioOf(sum(emuCpu), sum(duckCpu)) ?? NaN,
      target: N,
      batch: B,
      batches: BATCHES,
      newFraction: NEW,
      softDelete: SOFT_DELETE ? 1 : 0,
    },
    floor: { seconds: duckTotal, cpuSeconds: sum(duckCpu) },
    ratio: ratioOf(emuTotal, duckTotal),
  };
}
