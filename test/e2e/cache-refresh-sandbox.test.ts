/**
 * The cache route of `POST /query` under attack, through HTTP: the cache router behind floe's auth, a
 * real PostgreSQL (control plane and DuckLake catalog), DuckLake Parquet files in a temp dir, the
 * Snowflake emulator behind passthrough. Caches are written straight into the lake (the refresh
 * workflow is not what is tested here; test/e2e/cache-refresh.test.ts covers it).
 *
 * Every attack must be refused with 422 naming the construct — with passthrough enabled, so a refusal
 * cannot be mistaken for "not routed" — and after all of them no file was written anywhere under the
 * test's directory, no row of a secret file came back, and the catalog password never appeared.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSnapshot, withLake, type LakeSettings } from '../../src/jobs/cache-refresh/storage.js';
import * as store from '../../src/jobs/cache-refresh/store.js';
import { credentialResolver } from '../../src/credentials/store.js';
import { createLogger } from '../../src/logger.js';
import { serveCacheApi, type CacheApi } from '../helpers/cache-refresh-api.js';
import { startCacheRefreshEnv, type CacheRefreshEnv } from '../helpers/cache-refresh-env.js';

const root = path.join(os.tmpdir(), `floe-sandbox-${process.pid}-${Date.now()}`);
const secretDir = path.join(root, 'secret');
const secretFile = path.join(secretDir, 'secret.csv');
const MARKER = `FLOE_SECRET_${process.pid}_${Date.now()}`;
const outDir = path.join(root, 'out');
const outFile = path.join(outDir, 'x.csv');

let env: CacheRefreshEnv;
let pool: pg.Pool;
let cacheApi: CacheApi;
let lake: LakeSettings;
let firstSnapshot: number;
let catalogPassword: string;

const query = (sql: string, extra: Record<string, unknown> = {}) =>
  cacheApi.call('POST', '/api/v1/query', { sql, ...extra });

/** Every file under the secret, output and lake directories, sorted. */
function listFiles(): string[] {
  return [secretDir, outDir, lake.dataPath]
    .flatMap((dir) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name)),
    )
    .sort();
}

/** Create or replace a cache table in the lake and record it as refreshed; returns the snapshot. */
async function loadCache(name: string, selectSql: string): Promise<number> {
  const snapshot = await withLake(lake, async (c) => {
    await c.run(`CREATE OR REPLACE TABLE lake.main.${name} AS ${selectSql}`);
    return currentSnapshot(c, lake);
  });
  await store.insertCache(pool, {
    cache_name: name,
    source_name: 'prod',
    source_query: `SELECT * FROM SRC.S1.${name.toUpperCase()}`,
    monitor_tables: [],
    monitor_tables_derived: false,
    ttl_seconds: null,
    schedule_interval_seconds: null,
  });
  await store.recordRefreshed(pool, {
    cacheName: name,
    jobId: 'test',
    stateHash: 'h',
    lastAltered: {},
    rows: 0,
    snapshotId: snapshot,
  });
  return snapshot;
}

beforeAll(async () => {
  env = await startCacheRefreshEnv({
    prefix: 'floe_sandbox',
    seed: [
      'CREATE DATABASE SRC',
      'CREATE SCHEMA SRC.S1',
      'CREATE TABLE SRC.S1.T (ID NUMBER(38,0))',
      'INSERT INTO SRC.S1.T VALUES (1), (2), (3)',
    ],
  });
  ({ pool, lake } = env);
  mkdirSync(secretDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(secretFile, `a,b\n${MARKER},1\n`);
  catalogPassword = decodeURIComponent(new URL(env.db.url).password);
  await store.upsertSource(pool, { sourceName: 'prod', credentialsRef: 'default', passthroughEnabled: true });

  firstSnapshot = await loadCache('sales', `SELECT * FROM (VALUES (1, 'EU', 10), (2, 'US', 20)) v(id, region, total)`);
  await withLake(lake, (c) => c.run(`INSERT INTO lake.main.sales VALUES (3, 'APAC', 30)`));
  await store.recordRefreshed(pool, {
    cacheName: 'sales',
    jobId: 'test',
    stateHash: 'h',
    lastAltered: {},
    rows: 3,
    snapshotId: await withLake(lake, (c) => currentSnapshot(c, lake)),
  });
  await loadCache('products', `SELECT * FROM (VALUES (1, 'apple'), (2, 'pear')) v(id, name)`);

  cacheApi = await serveCacheApi(pool, {
    pool,
    temporal: env.client,
    taskQueue: 'unused',
    lake,
    credentials: credentialResolver(pool, undefined, env.sfSettings),
    logger: createLogger({ level: 'silent' }),
  });
}, 180_000);

afterAll(async () => {
  cacheApi?.close();
  await env?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('POST /query sandbox', () => {
  it('serves legitimate cache queries: joins, CTEs (also one shadowing a cache), set operations, subqueries, time travel', async () => {
    const ok = async (sql: string, extra: Record<string, unknown> = {}) => {
      const r = await query(sql, extra);
      expect({ sql, status: r.status, route: r.body.route }).toEqual({ sql, status: 200, route: 'cache' });
      return r.body.rows as Record<string, unknown>[];
    };
    expect(await ok('SELECT s.region, p.name FROM sales s JOIN products p ON p.id = s.id ORDER BY s.id')).toEqual([
      { region: 'EU', name: 'apple' },
      { region: 'US', name: 'pear' },
    ]);
    expect(await ok('WITH big AS (SELECT * FROM sales WHERE total > 15) SELECT count(*) AS n FROM big')).toEqual([
      { n: '2' },
    ]);
    expect(await ok('WITH sales AS (SELECT * FROM sales WHERE total > 25) SELECT count(*) AS n FROM sales')).toEqual([
      { n: '1' },
    ]);
    expect(await ok('SELECT id FROM sales UNION SELECT id FROM products ORDER BY id')).toEqual([
      { id: 1 },
      { id: 2 },
      { id: 3 },
    ]);
    expect(
      await ok(
        'SELECT name, (SELECT max(total) FROM sales) AS m FROM products WHERE EXISTS (SELECT 1 FROM sales WHERE sales.id = products.id) ORDER BY name',
      ),
    ).toEqual([
      { name: 'apple', m: 30 },
      { name: 'pear', m: 30 },
    ]);
    expect(
      await ok(
        'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT count(*) AS n FROM r JOIN "SALES" ON r.n = "SALES".id',
      ),
    ).toEqual([{ n: '3' }]);
    // Text and identifiers holding quotes and semicolons are just text.
    expect(await ok(`SELECT 'é;''--' AS "x;""y", region FROM sales AS "s; DROP TABLE sales" WHERE id = 1`)).toEqual([
      { 'x;"y': "é;'--", region: 'EU' },
    ]);
    // Time travel: the snapshot before the third row, with an alias and a column alias list.
    expect(await ok('SELECT count(*) AS n FROM sales AS s(i, r, t)', { snapshot: firstSnapshot })).toEqual([
      { n: '2' },
    ]);
    expect(await ok('SELECT count(*) AS n FROM sales')).toEqual([{ n: '3' }]);
  });

  it('refuses file paths, DuckDB table functions and statements other than one SELECT with 422 naming the construct; nothing written, nothing leaked', async () => {
    const before = listFiles();
    const file = `'${secretFile}'`;
    const attacks: [string, RegExp][] = [
      [`SELECT * FROM ${file}`, /file path '.*secret\.csv'/],
      [`SELECT * FROM sales, ${file}`, /file path/],
      [`SELECT * FROM sales JOIN ${file} f ON true`, /file path/],
      [`SELECT * FROM (SELECT * FROM ${file}) x`, /file path/],
      [`SELECT * FROM sales WHERE region IN (SELECT a FROM ${file})`, /file path/],
      [`WITH f AS (SELECT * FROM ${file}) SELECT * FROM sales, f`, /file path/],
      [`SELECT region FROM sales UNION ALL SELECT a FROM ${file}`, /file path/],
      [`SELECT (SELECT max(a) FROM ${file}) AS m FROM sales`, /file path/],
      [`SELECT * FROM sales, LATERAL (SELECT * FROM ${file})`, /file path/],
      [`SELECT * FROM read_csv(${file})`, /table function read_csv is not allowed/],
      [
        `SELECT * FROM sales WHERE EXISTS (SELECT 1 FROM read_text(${file}))`,
        /table function read_text is not allowed/,
      ],
      [`WITH g AS (SELECT * FROM glob('${root}/*')) SELECT * FROM sales, g`, /table function glob is not allowed/],
      [`SELECT * FROM read_parquet('${lake.dataPath}/**/*.parquet')`, /table function read_parquet is not allowed/],
      [`SELECT * FROM sales, read_blob(${file})`, /table function read_blob is not allowed/],
      ['SELECT * FROM duckdb_databases()', /table function duckdb_databases is not allowed/],
      ['SELECT * FROM lake.snapshots()', /table function lake.snapshots is not allowed/],
      [
        `SELECT * FROM query('SELECT * FROM read_csv(${file.replaceAll("'", "''")})')`,
        /table function query is not allowed/,
      ],
      [`SELECT * FROM SRC.S1.T, read_csv(${file})`, /table function read_csv is not allowed/],
      [`ATTACH '${outDir}/evil.duckdb' AS evil`, /ATTACH statements are not allowed/],
      [`COPY (SELECT * FROM sales) TO '${outFile}'`, /COPY statements are not allowed/],
      [`COPY sales TO '${outFile}'`, /COPY statements are not allowed/],
      [`EXPORT DATABASE '${outDir}/exp'`, /EXPORT statements are not allowed/],
      ['INSTALL httpfs', /INSTALL statements are not allowed/],
      ['LOAD httpfs', /LOAD statements are not allowed/],
      ['SET enable_external_access = true', /SET statements are not allowed/],
      ['RESET lock_configuration', /RESET statements are not allowed/],
      ['PRAGMA enable_profiling', /PRAGMA statements are not allowed/],
      ['CALL duckdb_settings()', /CALL statements are not allowed/],
      ['DESCRIBE sales', /DESCRIBE\/SHOW\/SUMMARIZE is not allowed/],
      ['SHOW TABLES', /DESCRIBE\/SHOW\/SUMMARIZE is not allowed/],
      [`SELECT * FROM sales, E'${secretFile}'`, /file path '.*secret\.csv'/],
      [`SELECT * FROM sales JOIN $$${secretFile}$$ ON true`, /file path '.*secret\.csv'/],
      ['SELECT * FROM sales; SELECT * FROM products', /multi-statement payloads are not allowed \(2 statements\)/],
      [`SELECT * FROM sales; COPY sales TO '${outFile}'`, /multi-statement payloads are not allowed/],
      [`SELECT * FROM sales;;SELECT * FROM ${file}`, /multi-statement payloads are not allowed/],
      // Snowflake syntax DuckDB cannot parse: judged on the token scan.
      [`SELECT * FROM TABLE(FLATTEN(input => [1])) f, ${file}`, /file path/],
      [
        `SELECT * FROM TABLE(FLATTEN(input => [1])) f JOIN read_csv(${file}) r ON true`,
        /table function read_csv is not allowed/,
      ],
      [
        `SELECT * FROM TABLE(FLATTEN(input => [1])) f WHERE EXISTS (SELECT 1 FROM glob('${root}/*'))`,
        /table function glob is not allowed/,
      ],
      [`SELECT read_text(${file}) FROM TABLE(FLATTEN(input => [1])) f`, /table function read_text is not allowed/],
      [
        'SELECT * FROM TABLE(FLATTEN(input => [1])) f, sales',
        /DuckDB cannot parse this query .* reads cache\(s\) sales/,
      ],
      // A syntax error at a token of thousands of characters, which DuckDB's serializer answers with nothing.
      [`${'🦆'.repeat(5000)} FROM sales`, /statements are not allowed: send one SELECT/],
    ];
    for (const [sql, message] of attacks) {
      const r = await query(sql);
      expect({ sql, status: r.status, code: r.body.error?.code }).toEqual({
        sql,
        status: 422,
        code: 'sql_not_allowed',
      });
      expect(r.body.error.message).toMatch(message);
      expect(r.body.error.field).toBe('sql');
      expect(r.text).not.toContain(MARKER);
      expect(r.text).not.toContain(catalogPassword);
    }
    expect(listFiles()).toEqual(before);
  });

  it('keeps quoted identifiers that look like paths, and DuckDB system views, away from DuckDB: not caches, so 422 uncached_tables without passthrough', async () => {
    await store.upsertSource(pool, { sourceName: 'prod', credentialsRef: 'default', passthroughEnabled: false });
    try {
      for (const sql of [
        `SELECT * FROM sales, "${secretFile}"`,
        'SELECT * FROM "sales; COPY sales TO \'x\'"',
        'SELECT * FROM sales JOIN "products"";SELECT 1" ON true',
        'SELECT * FROM sales, duckdb_databases',
      ]) {
        const r = await query(sql);
        expect({ sql, status: r.status, code: r.body.error?.code }).toEqual({
          sql,
          status: 422,
          code: 'uncached_tables',
        });
        expect(r.body.error.uncached_tables).toHaveLength(1);
        expect(r.text).not.toContain(MARKER);
        expect(r.text).not.toContain(catalogPassword);
      }
    } finally {
      await store.upsertSource(pool, { sourceName: 'prod', credentialsRef: 'default', passthroughEnabled: true });
    }
  });

  it('passes queries that name only Snowflake tables through to Snowflake', async () => {
    const r = await query('SELECT COUNT(*) AS N FROM SRC.S1.T');
    expect(r.body).toMatchObject({ route: 'passthrough', rows: [{ N: '3' }] });
    const mixed = await query('SELECT COUNT(*) AS N FROM sales s JOIN SRC.S1.T t ON true');
    expect(mixed.status).toBe(400); // inlined as its source query, SRC.S1.SALES, which Snowflake does not have
    expect(mixed.body.error.message).toMatch(/SALES/);
  });

  it('runs cache queries on a DuckDB instance that refuses host access and configuration changes by itself', async () => {
    const attempt = (sql: string) =>
      withLake(lake, (c) => c.runAndReadAll(sql), { sandbox: true }).then(
        () => 'ran',
        (e: Error) => e.message,
      );
    expect(await attempt(`SELECT * FROM read_csv('${secretFile}')`)).toMatch(/Permission Error/);
    expect(await attempt(`COPY (SELECT 1) TO '${outFile}'`)).toMatch(/Permission Error/);
    expect(await attempt(`ATTACH '${outDir}/x.duckdb' AS x`)).toMatch(/Permission Error/);
    expect(await attempt('LOAD httpfs')).toMatch(/Permission Error|disabled/);
    for (const setting of [
      'enable_external_access = true',
      'lock_configuration = false',
      "allowed_directories = ['/']",
      'autoload_known_extensions = true',
    ]) {
      expect(await attempt(`SET ${setting}`)).toMatch(/configuration has been locked/);
    }
    expect(await attempt("INSERT INTO lake.main.sales VALUES (9, 'X', 9)")).toMatch(/read-only|read only/i);
    expect(await attempt('SELECT count(*) FROM lake.main.sales')).toBe('ran');
    expect(readdirSync(outDir)).toEqual([]);
  });
});
