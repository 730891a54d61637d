/**
 * `npm run bench -- cache [--rows 1000000] [--checks 40] [--repeat 3] [--queries 30]`: the query-result cache.
 *
 * Starts its own PostgreSQL (control plane + DuckLake catalog), a Temporal dev server with the persistent
 * store `npm run stack` gives it (src/infra/temporal.ts), the emulator (in process) with a generated table
 * of `--rows` rows, and an in-process worker of the cache workflows (floe's workflow bundle with its job-metrics
 * interceptor, as src/worker.ts builds it). Prints in one run:
 * - the refresh of a `--rows`-row result (forced `cacheRefresh` workflow, end to end: describe, unload to
 *   Parquet, GET, one DuckLake transaction);
 * - SKIPPED-check latency p50/p95 (`cacheRefresh` without force when nothing changed: workflow start,
 *   LAST_ALTERED read from INFORMATION_SCHEMA, hash compare, result) — the headline — and its floor, the
 *   same checks issued directly: one PostgreSQL read of the cache row and one LAST_ALTERED query on an
 *   open Snowflake session (also with a fresh sign-in); and Temporal's own share, the same workflow on a
 *   second worker whose check does no I/O. Refreshes start as `npm run stack`'s API starts them: on the
 *   worker's connection, with eager workflow start; the same check started from a client on a connection
 *   of its own (an API process apart from the workers) is printed beside it. The checks run in `--repeat`
 *   blocks of `--checks` rounds; the figures are over every block's samples together, and each block's
 *   p50 is printed (how far the load of a shared machine moved them during the run);
 * - routed-query latency p50: an aggregate over the cache in DuckDB/DuckLake, its floor (the same query
 *   on the same DuckLake table in a plain DuckDB connection) and the same query passed through to the
 *   emulator (the cache inlined as its source query). The floor is the same work without floe: DuckDB
 *   parses and binds the statement, DuckLake reads its catalog from PostgreSQL at the start of the
 *   transaction and scans the same Parquet files, and the rows are converted to JSON objects as the route
 *   converts them. The routed statement repeats, as a dashboard's do, so floe's remembered plan serves it;
 *   a statement floe has not seen (its text changed every round) is printed beside it.
 * A figure and its floor are measured in alternation (one of each per round), so that the load of a
 * shared machine weighs on both alike and their ratio holds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DuckDBInstance } from '@duckdb/node-api';
import { startEmulator } from '../emulator/src/index.js';
import { createCacheRefreshActivities } from '../src/activities/cache-refresh/index.js';
import { runCacheRefresh } from '../src/client/cacheRefresh.js';
import { routeQuery } from '../src/jobs/cache-refresh/queryRouter.js';
import { attachSql, cacheTableName, closeLakes, setupStorage } from '../src/jobs/cache-refresh/storage.js';
import { readLastAltered } from '../src/jobs/cache-refresh/smart.js';
import { credentialResolver } from '../src/credentials/store.js';
import * as store from '../src/jobs/cache-refresh/store.js';
import { connectSnowflake } from '../src/connectors/snowflake.js';
import { createPool, migrate } from '../src/db/index.js';
import { wrapActivities } from '../src/errors.js';
import { duckdbInstanceOptions } from '../src/infra/paths.js';
import { jobMetricsSinks } from '../src/metrics/jobs.js';
import { bundleWorkflows } from '../src/worker.js';
import { startPostgres } from '../src/infra/postgres.js';
import { startTemporal } from '../src/infra/temporal.js';
import { createLogger, setLogLevel } from '../src/logger.js';
import { median, noIoCacheCheck, percentile, ratioOf, round3, type BenchResult } from './common.js';

const pct = percentile;
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Latencies (ms) of `n` sequential calls of `fn`, after `warm` unmeasured ones. */
async function latencies(n: number, fn: () => Promise<unknown>, warm = 0): Promise<number[]> {
  return (await alternated(n, [fn], warm))[0]!;
}

/**
 * Latencies (ms) of each of `fns` over `n` rounds (after `warm` unmeasured ones), each round calling
 * every one once in turn: what a figure is compared with is measured under the same load.
 */
async function alternated(n: number, fns: (() => Promise<unknown>)[], warm = 0): Promise<number[][]> {
  const out = fns.map((): number[] => []);
  for (let i = 0; i < warm + n; i++) {
    for (const [j, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      if (i >= warm) out[j]!.push(performance.now() - t);
    }
  }
  return out;
}

export async function run(args: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: 'string' },
      checks: { type: 'string' },
      repeat: { type: 'string' },
      queries: { type: 'string' },
    },
  });
  const rows = Number(values.rows ?? 1_000_000);
  const checks = Number(values.checks ?? 40);
  const repeat = Math.max(1, Number(values.repeat ?? 3));
  const queries = Number(values.queries ?? 30);
  setLogLevel('warn');
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed */
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'floe-bench-cache-'));
  const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const t0 = Date.now();
  const started = await Promise.allSettled([
    startPostgres({ dataDir: path.join(root, 'pg'), ephemeral: true, startTimeoutMs: 180_000 }),
    startTemporal({ uiPort: false, startTimeoutMs: 240_000, dbFile: path.join(root, 'temporal.db') }),
    startEmulator({ port: 0, dataDir: path.join(root, 'emu'), user: { name: 'bench', password: 'bench' } }),
    // floe's bundle as the worker builds it, with the job-metrics interceptor (its sinks registered below).
    bundleWorkflows({ logger: silent }),
  ] as const);
  const [pgS, temporalS, emuS, bundleS] = started;
  const stops: (() => Promise<unknown>)[] = [];
  if (pgS.status === 'fulfilled') stops.push(() => pgS.value.stop());
  if (temporalS.status === 'fulfilled') stops.push(() => temporalS.value.stop());
  if (emuS.status === 'fulfilled') stops.push(() => emuS.value.close());
  if (
    pgS.status === 'rejected' ||
    temporalS.status === 'rejected' ||
    emuS.status === 'rejected' ||
    bundleS.status === 'rejected'
  ) {
    // One failed to start: stop the others and remove the directory, so nothing is left running.
    for (const stop of stops) await stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    throw started.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
  }
  const [pg, temporal, emu, bundle] = [pgS.value, temporalS.value, emuS.value, bundleS.value];
  try {
    await migrate(pg.url);
    const pool = createPool(pg.url);
    stops.unshift(() => pool.end());
    const settings = {
      account: 'floe',
      username: 'bench',
      password: 'bench',
      accessUrl: emu.url,
      database: 'BENCH',
      schema: 'S',
    };
    const sf = await connectSnowflake(settings);
    await sf.query('CREATE DATABASE BENCH');
    await sf.query('CREATE SCHEMA BENCH.S');
    const tg = Date.now();
    await sf.query(
      `CREATE TABLE BENCH.S.EVENTS AS SELECT SEQ4() AS ID, MOD(SEQ4(), 100) AS K, 'name_' || SEQ4() AS NAME, (SEQ4() * 1.25)::NUMBER(18,2) AS V FROM TABLE(GENERATOR(ROWCOUNT => ${rows}))`,
    );
    console.log(
      `set-up ${((Date.now() - t0) / 1000).toFixed(1)} s (table of ${rows} rows generated in ${((Date.now() - tg) / 1000).toFixed(1)} s)`,
    );

    const lake = { catalogUrl: pg.url, dataPath: path.join(root, 'lake'), alias: 'lake' };
    await setupStorage(lake);
    const credentials = credentialResolver(pool, undefined, settings);
    const native = await NativeConnection.connect({ address: temporal.address });
    const conn = await Connection.connect({ address: temporal.address });
    // The stack's API client shares the worker's connection (eager start); `apart` is an API process of its own.
    const client = new Client({ connection: native });
    const apart = new Client({ connection: conn });
    const taskQueue = 'floe-bench-cache';
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: bundle,
      sinks: jobMetricsSinks(),
      activities: wrapActivities(
        createCacheRefreshActivities({
          pool,
          lake,
          credentials,
          tmpDir: path.join(root, 'tmp'),
          logger: createLogger({ level: 'warn' }),
        }),
      ),
    });
    // Temporal's own share of a check: the same workflow, on a worker whose check does no I/O.
    const noIoQueue = `${taskQueue}-no-io`;
    const noIoWorker = await Worker.create({
      connection: native,
      taskQueue: noIoQueue,
      workflowBundle: bundle,
      sinks: jobMetricsSinks(),
      activities: { cacheCheck: noIoCacheCheck },
    });
    const running = Promise.all([worker.run(), noIoWorker.run()]);
    stops.unshift(async () => {
      worker.shutdown();
      noIoWorker.shutdown();
      await running;
      await conn.close();
      await native.close();
      await closeLakes();
      await sf.close();
    });

    await store.upsertSource(pool, { sourceName: 'bench', credentialsRef: 'default', passthroughEnabled: true });
    await store.insertCache(pool, {
      cache_name: 'events',
      source_name: 'bench',
      source_query: 'SELECT * FROM BENCH.S.EVENTS',
      monitor_tables: ['BENCH.S.EVENTS'],
      monitor_tables_derived: false,
      ttl_seconds: null,
      schedule_interval_seconds: null,
    });

    const tr = Date.now();
    const r = await runCacheRefresh(client, { cacheName: 'events', force: true }, { taskQueue });
    const refreshMs = Date.now() - tr;
    if (r.result !== 'REFRESHED') throw new Error(`refresh failed: ${r.message}`);
    console.log(
      `refresh of a ${r.rows_refreshed}-row result: ${(refreshMs / 1000).toFixed(2)} s (${Math.round(r.rows_refreshed / (refreshMs / 1000))} rows/s; workflow duration_ms ${r.duration_ms})`,
    );

    const skipped =
      (cacheName: string, queue: string, c = client) =>
      async () => {
        const x = await runCacheRefresh(c, { cacheName }, { taskQueue: queue, eagerStart: c === client });
        if (x.result !== 'SKIPPED') throw new Error(`expected SKIPPED, got ${x.result}: ${x.message}`);
      };
    // Floor: the same two reads issued directly (the cache row, then LAST_ALTERED of its monitored table).
    const direct = async (session: typeof sf) => {
      const c = await store.getCache(pool, 'events');
      await readLastAltered(session, c!.monitor_tables);
    };
    // `repeat` blocks of `checks` rounds; a figure is over every block's samples, each block's p50 is printed.
    const blocks: number[][][] = [];
    for (let b = 0; b < repeat; b++)
      blocks.push(
        await alternated(
          checks,
          [
            skipped('events', taskQueue),
            () => direct(sf),
            skipped('no_io', noIoQueue),
            skipped('events', taskQueue, apart),
          ],
          b === 0 ? 2 : 0,
        ),
      );
    const [lat, floorLat, machineryLat, apartLat] = [0, 1, 2, 3].map((j) => blocks.flatMap((bl) => bl[j]!)) as [
      number[],
      number[],
      number[],
      number[],
    ];
    const byBlock = (j: number) => blocks.map((bl) => pct(bl[j]!, 50));
    const floorLoginLat = await latencies(checks, async () => {
      const fresh = await connectSnowflake(settings);
      try {
        await direct(fresh);
      } finally {
        await fresh.close();
      }
    });
    console.log(
      `SKIPPED check (workflow end to end, n=${lat.length} in ${repeat} blocks of ${checks}): p50 ${ms(pct(lat, 50))}, p95 ${ms(pct(lat, 95))}; floor (one PostgreSQL read + one LAST_ALTERED query, open session) p50 ${ms(pct(floorLat, 50))}, with a fresh sign-in p50 ${ms(pct(floorLoginLat, 50))}; ratio ${(pct(lat, 50) / pct(floorLat, 50)).toFixed(2)} (target p50 ≤ 50 ms); Temporal's share (the same workflow, a check without I/O) p50 ${ms(pct(machineryLat, 50))}, floor + that share ${ms(pct(floorLat, 50) + pct(machineryLat, 50))}; started by a client apart from the worker (no eager start) p50 ${ms(pct(apartLat, 50))}`,
    );
    const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    console.log(
      `p50 of each block, ms: SKIPPED ${list(byBlock(0))}; floor ${list(byBlock(1))}; Temporal's share ${list(byBlock(2))}`,
    );

    const sql = 'SELECT K, COUNT(*) AS N, SUM(V) AS TOTAL FROM events GROUP BY K ORDER BY K';
    const deps = { pool, lake, credentials };
    const passed = await latencies(
      queries,
      async () => {
        // Too stale → passthrough (the same query, the cache inlined as its source query).
        const b = await routeQuery(deps, { sql, max_staleness_seconds: 0 });
        if (b.route !== 'passthrough' || b.row_count !== 100) throw new Error('unexpected route');
      },
      2,
    );
    // Floor: the same aggregate on the same DuckLake table in a plain DuckDB connection.
    const plain = await DuckDBInstance.create(':memory:', duckdbInstanceOptions());
    const pc = await plain.connect();
    let routed: number[], plainLat: number[], unseen: number[];
    try {
      await pc.run('LOAD ducklake; LOAD postgres;');
      await pc.run(attachSql(lake, { readOnly: true }));
      const plainSql = sql.replace('FROM events', `FROM ${cacheTableName(lake, 'events')}`);
      const routedOnce = async (text: string) => {
        const a = await routeQuery(deps, { sql: text });
        if (a.route !== 'cache' || a.row_count !== 100) throw new Error('unexpected route');
      };
      let round = 0;
      [routed, plainLat, unseen] = (await alternated(
        queries,
        [
          () => routedOnce(sql),
          async () => (await pc.runAndReadAll(plainSql)).getRowObjectsJson(),
          () => routedOnce(sql.replace('SELECT K,', `SELECT K, ${++round} AS R,`)),
        ],
        2,
      )) as [number[], number[], number[]];
    } finally {
      pc.closeSync();
      plain.closeSync();
    }
    // Each round's routed query and floor ran one after the other: their ratio is the least touched by load drift.
    const pairedRatio = median(routed.map((t, i) => t / plainLat[i]!));
    console.log(
      `routed query over ${rows} rows (n=${queries}): cache (DuckDB/DuckLake) p50 ${ms(pct(routed, 50))}, p95 ${ms(pct(routed, 95))}; floor (plain DuckDB on the same DuckLake table) p50 ${ms(pct(plainLat, 50))}, ratio ${(pct(routed, 50) / pct(plainLat, 50)).toFixed(2)} (target ≤ 1.2); a statement not seen before p50 ${ms(pct(unseen, 50))}, ratio ${(pct(unseen, 50) / pct(plainLat, 50)).toFixed(2)}; median of the rounds' own ratios (each routed query over the floor measured beside it) ${pairedRatio.toFixed(2)}; passthrough to the emulator p50 ${ms(pct(passed, 50))}, p95 ${ms(pct(passed, 95))}`,
    );
    return {
      bench: 'cache',
      headline: `SKIPPED check p50 ${ms(pct(lat, 50))} (p95 ${ms(pct(lat, 95))})`,
      target: 'SKIPPED p50 ≤ 50 ms; routed ratio ≤ 1.2',
      figures: {
        skippedP50Ms: round3(pct(lat, 50)),
        skippedP95Ms: round3(pct(lat, 95)),
        skippedBlockP50MinMs: round3(Math.min(...byBlock(0))),
        skippedBlockP50MaxMs: round3(Math.max(...byBlock(0))),
        skippedFloorWithSignInP50Ms: round3(pct(floorLoginLat, 50)),
        skippedTemporalShareP50Ms: round3(pct(machineryLat, 50)),
        skippedClientApartP50Ms: round3(pct(apartLat, 50)),
        refreshSeconds: round3(refreshMs / 1000),
        refreshRows: r.rows_refreshed,
        routedP50Ms: round3(pct(routed, 50)),
        routedP95Ms: round3(pct(routed, 95)),
        routedFloorP50Ms: round3(pct(plainLat, 50)),
        routedRatio: ratioOf(pct(routed, 50), pct(plainLat, 50)) ?? NaN,
        routedPairedRatio: round3(pairedRatio),
        routedUnseenP50Ms: round3(pct(unseen, 50)),
        routedUnseenRatio: ratioOf(pct(unseen, 50), pct(plainLat, 50)) ?? NaN,
        passthroughP50Ms: round3(pct(passed, 50)),
      },
      floor: { p50Ms: round3(pct(floorLat, 50)), p95Ms: round3(pct(floorLat, 95)) },
      ratio: ratioOf(pct(lat, 50), pct(floorLat, 50)),
    };
  } finally {
    for (const s of stops) await s().catch((e) => console.error('stop failed:', (e as Error).message));
    fs.rmSync(root, { recursive: true, force: true });
  }
}
