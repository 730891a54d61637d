/**
 * `npm run bench -- emulator-catalog [--tables 5000] [--step 1000] [--probes 20]`: the emulator's cost
 * per statement as the number of tables grows.
 *
 * The emulator runs as a child process on a fresh data directory. At 0 tables and then every `--step`
 * tables up to `--tables` (each added by one `CREATE TABLE` through snowflake-sdk, which is itself timed),
 * `--probes` probes run, each a `CREATE TABLE` + `INSERT` of one row + `SELECT` of it. Prints per
 * checkpoint the median wall milliseconds of the CREATE TABLE + INSERT pair and of the SELECT, and the
 * emulator's CPU milliseconds per pair (from /proc: steadier than wall time on a shared machine).
 * Headline: the pair at `--tables` tables; floor: the same pair at 0 tables (after one unmeasured round of
 * probes); target ratio ≤ 1.2 (flat).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectSnowflake, type SnowflakeSession } from '../src/connectors/snowflake.js';
import { cpuMs, peakRssMiB, percentile, ratioOf, round3, startBenchEmulator, type BenchResult } from './common.js';

interface Checkpoint {
  tables: number;
  pairMs: number;
  selectMs: number;
  pairCpuMs: number;
}

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: { tables: { type: 'string' }, step: { type: 'string' }, probes: { type: 'string' } },
  });
  const total = Number(values.tables ?? 5000);
  const step = Number(values.step ?? 1000);
  const probes = Number(values.probes ?? 20);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-catalog-'));
  const emu = await startBenchEmulator(dataDir);
  const pid = emu.child.pid!;
  let sf: SnowflakeSession | null = null;
  try {
    sf = await connectSnowflake(emu.settings);
    await sf.query('CREATE DATABASE BENCH');
    await sf.query('CREATE SCHEMA BENCH.S');
    const s = sf;
    let probe = 0;
    const measure = async (tables: number, print = true): Promise<Checkpoint> => {
      const pair: number[] = [];
      const select: number[] = [];
      let cpu = 0;
      for (let i = 0; i < probes; i++) {
        const name = `BENCH.S.PROBE_${probe++}`;
        const c0 = cpuMs(pid);
        let t0 = performance.now();
        await s.query(`CREATE TABLE ${name} (ID NUMBER(38,0), NAME VARCHAR, AT TIMESTAMP_NTZ)`);
        await s.query(`INSERT INTO ${name} VALUES (1, 'one', '2024-01-01 00:00:00')`);
        pair.push(performance.now() - t0);
        cpu += cpuMs(pid) - c0;
        t0 = performance.now();
        await s.query(`SELECT ID, NAME FROM ${name} WHERE ID = 1`);
        select.push(performance.now() - t0);
        await s.query(`DROP TABLE ${name}`);
      }
      const c: Checkpoint = {
        tables,
        pairMs: round3(percentile(pair, 50)),
        selectMs: round3(percentile(select, 50)),
        pairCpuMs: round3(cpu / probes),
      };
      if (print)
        console.log(
          `${String(tables).padStart(6)} tables: CREATE TABLE + INSERT ${c.pairMs.toFixed(1)} ms (emulator CPU ${c.pairCpuMs.toFixed(1)} ms), SELECT ${c.selectMs.toFixed(1)} ms (medians of ${probes})`,
        );
      return c;
    };

    await measure(0, false); // warm-up (first statements compile and fill caches): not counted
    const points = [await measure(0)];
    let created = 0;
    let growMs = 0;
    while (created < total) {
      const upTo = Math.min(total, created + step);
      const t0 = performance.now();
      for (; created < upTo; created++)
        await s.query(`CREATE TABLE BENCH.S.T_${created} (ID NUMBER(38,0), NAME VARCHAR, AT TIMESTAMP_NTZ)`);
      growMs += performance.now() - t0;
      points.push(await measure(created));
    }
    const first = points[0];
    const last = points[points.length - 1];
    console.log(
      `${total} CREATE TABLEs in ${(growMs / 1000).toFixed(1)} s (${(growMs / Math.max(total, 1)).toFixed(1)} ms each); at ${total} / at 0 tables: ${(last.pairMs / first.pairMs).toFixed(2)} wall, ${(last.pairCpuMs / first.pairCpuMs).toFixed(2)} emulator CPU (target ≤ 1.2)`,
    );
    const figures: Record<string, number> = {
      pairMs: last.pairMs,
      tables: total,
      pairCpuMs: last.pairCpuMs,
      pairCpuRatio: ratioOf(last.pairCpuMs, first.pairCpuMs) ?? NaN,
      selectMs: last.selectMs,
      selectRatio: ratioOf(last.selectMs, first.selectMs) ?? NaN,
      createTableMeanMs: round3(growMs / Math.max(total, 1)),
    };
    for (const p of points.slice(1, -1)) figures[`pairMsAt${p.tables}`] = p.pairMs;
    figures.emulatorPeakRssMiB = peakRssMiB(pid);
    return {
      bench: 'emulator-catalog',
      headline: `CREATE TABLE + INSERT at ${total} tables ${last.pairMs.toFixed(1)} ms (at 0: ${first.pairMs.toFixed(1)} ms)`,
      target: 'ratio ≤ 1.2 (flat)',
      figures,
      floor: { pairMs: first.pairMs, pairCpuMs: first.pairCpuMs, selectMs: first.selectMs },
      ratio: ratioOf(last.pairMs, first.pairMs),
    };
  } finally {
    await sf?.close();
    await emu.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
