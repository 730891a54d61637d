/**
 * Cache refresh end to end: the real snowflake-sdk against the emulator, a real Temporal dev server with a
 * worker of the cache activities on its own task queue (the run's shared workflow bundle), PostgreSQL
 * (control plane and DuckLake catalog), DuckLake Parquet files in a temp dir, and the cache router behind
 * floe's auth (fixture: test/helpers/cache-refresh-env.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/src/index.js';
import { createCacheRefreshActivities } from '../../src/activities/cache-refresh/index.js';
import type { LakeSettings } from '../../src/jobs/cache-refresh/storage.js';
import { credentialResolver } from '../../src/credentials/store.js';
import { credentialsRouter } from '../../src/api/routes/credentials.js';
import { generateEncryptionKey, secretKeys as keysOf } from '../../src/secrets/crypto.js';
import type { SnowflakeSession, SnowflakeSettings } from '../../src/connectors/snowflake.js';
import { floeError, NonRetryable, wrapActivities } from '../../src/errors.js';
import { cacheRefreshWorkflowId } from '../../src/jobs/cache-refresh/contract.js';
import { cacheRefreshScheduled } from '../../src/workflows/cacheRefresh.js';
import { createLogger } from '../../src/logger.js';
import { jobMetricsSinks } from '../../src/metrics/jobs.js';
import { serveCacheApi, type CacheApi } from '../helpers/cache-refresh-api.js';
import { startCacheRefreshEnv, type CacheRefreshEnv } from '../helpers/cache-refresh-env.js';
import type { FreshDatabase } from '../helpers/db.js';
import { sharedWorkflowBundle, temporalTarget } from '../helpers/temporal.js';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}

const taskQueue = `floe-cache-test-${process.pid}`;
let env: CacheRefreshEnv;
let pool: pg.Pool;
let emu: RunningEmulator;
let sf: SnowflakeSession;
let db: FreshDatabase;
let client: Client;
let worker: Worker;
let running: Promise<void>;
let native: NativeConnection;
let cacheApi: CacheApi;
let lake: LakeSettings;
let sfSettings: SnowflakeSettings;
const secretKeys = keysOf(generateEncryptionKey())!;

/** Per-cache behaviour injected between download and the DuckLake transaction. */
const beforeLoad = new Map<string, () => Promise<void>>();
/** [start, end] of every load, per cache (to prove serialization). */
const loads: Record<string, [number, number][]> = {};

const api = (method: string, url: string, body?: unknown, auth = true) => cacheApi.call(method, url, body, auth);
const refresh = (name: string, force = false) => api('POST', `/api/v1/caches/${name}/refresh`, { force });
const query = (body: Record<string, unknown>) => api('POST', '/api/v1/query', body);

beforeAll(async () => {
  env = await startCacheRefreshEnv({
    prefix: 'floe_cache',
    seed: [
      'CREATE DATABASE SRC',
      'CREATE SCHEMA SRC.S1',
      'CREATE SCHEMA SRC.S2',
      'CREATE TABLE SRC.S1.SALES (REGION VARCHAR, AMOUNT NUMBER(38,0), TS TIMESTAMP_TZ)',
      'CREATE TABLE SRC.S2.SALES (REGION VARCHAR, AMOUNT NUMBER(38,0))',
      'CREATE TABLE SRC.S1.PRODUCTS (ID NUMBER(38,0), NAME VARCHAR)',
      `INSERT INTO SRC.S1.SALES VALUES ('EU', 10, '2024-01-01 10:00:00 +0200'), ('EU', 5, NULL), ('US', 12345678901234567890123, NULL)`,
      `INSERT INTO SRC.S2.SALES VALUES ('EU', 1)`,
      `INSERT INTO SRC.S1.PRODUCTS VALUES (1, 'a'), (2, 'b')`,
    ],
  });
  ({ pool, emu, sf, db, client, lake, sfSettings } = env);
  const credentials = credentialResolver(pool, secretKeys, sfSettings);
  const logger = createLogger({ level: 'silent' });
  native = await NativeConnection.connect({ address: temporalTarget().address });
  const acts = createCacheRefreshActivities({
    pool,
    lake,
    credentials,
    tmpDir: path.join(env.root, 'tmp'),
    logger,
    hooks: {
      async beforeLoad(name) {
        const t0 = Date.now();
        await beforeLoad.get(name)?.();
        (loads[name] ??= []).push([t0, Date.now()]);
      },
    },
  });
  worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: sharedWorkflowBundle(),
    sinks: jobMetricsSinks(),
    activities: wrapActivities(acts),
    namespace: temporalTarget().namespace,
  });
  running = worker.run();

  cacheApi = await serveCacheApi(
    pool,
    { pool, temporal: client, taskQueue, lake, credentials, logger, refreshWaitMs: 60_000 },
    [credentialsRouter({ pool, secretKeys })],
  );
}, 240_000);

afterAll(async () => {
  cacheApi?.close();
  worker?.shutdown();
  await running?.catch(() => undefined);
  await native?.close();
  await env?.close();
});

describe('cache API and cacheRefresh', () => {
  it('rejects bad input on every route (and requests without a token)', async () => {
    expect((await api('GET', '/api/v1/caches', undefined, false)).status).toBe(401);
    const bad: [string, string, unknown, number, string?][] = [
      ['POST', '/api/v1/cache/storage', { data_path: '/etc' }, 400, 'data_path'],
      [
        'POST',
        '/api/v1/cache/sources',
        { source_name: 'x', driver_type: 'postgres', credentials_ref: 'default' },
        400,
        'driver_type',
      ],
      [
        'POST',
        '/api/v1/cache/sources',
        { source_name: 'x', driver_type: 'snowflake', credentials_ref: 'default', password: 'pw' },
        400,
        'password',
      ],
      [
        'POST',
        '/api/v1/cache/sources',
        { source_name: '1bad', driver_type: 'snowflake', credentials_ref: 'default' },
        400,
        'source_name',
      ],
      [
        'POST',
        '/api/v1/cache/sources',
        { source_name: 'x', driver_type: 'snowflake', credentials_ref: 'nope' },
        422,
        'credentials_ref',
      ],
      [
        'POST',
        '/api/v1/caches',
        { cache_name: 'bad-name', source_name: 'prod', source_query: 'SELECT 1' },
        400,
        'cache_name',
      ],
      [
        'POST',
        '/api/v1/caches',
        { cache_name: 'c', source_name: 'prod', source_query: 'SELECT 1', ttl_seconds: -1 },
        400,
        'ttl_seconds',
      ],
      [
        'POST',
        '/api/v1/caches',
        { cache_name: 'c', source_name: 'prod', source_query: 'SELECT 1', monitor_tables: 'x' },
        400,
        'monitor_tables',
      ],
      [
        'POST',
        '/api/v1/caches',
        { cache_name: 'c', source_name: 'nope', source_query: 'SELECT 1' },
        404,
        'source_name',
      ],
      ['POST', '/api/v1/caches', '{not json', 400],
      ['GET', '/api/v1/caches/bad-name', undefined, 400, 'name'],
      ['GET', '/api/v1/caches/nope', undefined, 404, 'name'],
      ['DELETE', '/api/v1/caches/nope', undefined, 404, 'name'],
      ['POST', '/api/v1/caches/nope/refresh', {}, 404, 'name'],
      ['POST', '/api/v1/query', { sql: '' }, 400, 'sql'],
      ['POST', '/api/v1/query', { sql: 'SELECT 1', snapshot: 'x' }, 400, 'snapshot'],
      ['POST', '/api/v1/query', { sql: 'DROP TABLE x' }, 422, 'sql'],
      ['POST', '/api/v1/query', { sql: 'SELECT 1; SELECT 2' }, 422, 'sql'],
    ];
    for (const [method, url, body, status, field] of bad) {
      const r = await api(method, url, body);
      expect({ url, body, status: r.status }).toEqual({ url, body, status });
      if (field) expect(r.body.error.field ?? r.body.error.message).toContain(field);
    }
  });

  it('sets up DuckLake storage idempotently without leaking the catalog password', async () => {
    const a = await api('POST', '/api/v1/cache/storage', {});
    const b = await api('POST', '/api/v1/cache/storage', {});
    expect(a.status).toBe(200);
    expect(b.body.data_path).toBe(a.body.data_path);
    expect(a.body.metadata_schema).toBe('floe_ducklake');
    const pw = decodeURIComponent(new URL(db.url).password);
    expect(JSON.stringify(a.body)).not.toContain(pw);
    expect(
      (await pool.query(`SELECT count(*)::int n FROM information_schema.tables WHERE table_schema = 'floe_ducklake'`))
        .rows[0].n,
    ).toBeGreaterThan(5);
  });

  it('registers sources by credentials reference', async () => {
    const r = await api('POST', '/api/v1/cache/sources', {
      source_name: 'prod',
      driver_type: 'snowflake',
      credentials_ref: 'default',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ source_name: 'prod', passthrough_enabled: false, credentials_ref: 'default' });
    expect(JSON.stringify(r.body)).not.toContain('sf-secret-pw');
    expect(
      (
        await api('POST', '/api/v1/cache/sources', {
          source_name: 'prod',
          driver_type: 'snowflake',
          credentials_ref: 'default',
        })
      ).status,
    ).toBe(200);
    expect((await api('GET', '/api/v1/cache/sources')).body.count).toBe(1);
  });

  let firstSnapshot = 0;
  it('creates a cache (monitor tables derived, fully qualified), refreshes it, then SKIPS when nothing changed', async () => {
    const c = await api('POST', '/api/v1/caches', {
      cache_name: 'sales_summary',
      source_name: 'prod',
      source_query: 'SELECT region, SUM(amount) AS total, MAX(ts) AS last_ts FROM sales GROUP BY region',
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      cache_name: 'sales_summary',
      monitor_tables: ['SRC.S1.SALES'],
      monitor_tables_derived: true,
      state: 'empty',
      rows: null,
    });
    expect(
      (
        await api('POST', '/api/v1/caches', {
          cache_name: 'sales_summary',
          source_name: 'prod',
          source_query: 'SELECT 1 FROM sales',
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await api('POST', '/api/v1/caches', {
          cache_name: 'ghost',
          source_name: 'prod',
          source_query: 'SELECT * FROM missing_table',
        })
      ).status,
    ).toBe(422);

    const r1 = await refresh('sales_summary');
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ result: 'REFRESHED', rows_refreshed: 2 });
    expect(r1.body.duration_ms).toBeGreaterThan(0);
    firstSnapshot = r1.body.snapshot_id;
    const r2 = await refresh('sales_summary');
    expect(r2.body).toMatchObject({ result: 'SKIPPED', rows_refreshed: 0, snapshot_id: firstSnapshot });
    const show = await api('GET', '/api/v1/caches/sales_summary');
    expect(show.body).toMatchObject({
      state: 'ready',
      rows: 2,
      snapshot_id: firstSnapshot,
      last_result: 'SKIPPED',
      expires_at: null,
      stale: false,
    });
    expect(show.body.refreshed_at).toBeTruthy();
    expect((await api('GET', '/api/v1/caches')).body.count).toBe(1);

    // Values survive: NUMBER(38,0) beyond 2^64 and TIMESTAMP_TZ instants.
    const q = await query({ sql: 'SELECT region, total, last_ts FROM sales_summary ORDER BY region' });
    expect(q.status).toBe(200);
    expect(q.body.route).toBe('cache');
    expect(q.body.rows).toEqual(
      [
        { REGION: 'EU', total: '15', last_ts: expect.stringMatching(/^2024-01-01[ T]08:00:00/) },
        { REGION: 'US', total: '12345678901234567890123', last_ts: null },
      ].map((r) => ({ REGION: r.REGION, TOTAL: r.total, LAST_TS: r.last_ts })),
    );
    expect(q.body.caches).toEqual([
      expect.objectContaining({ cache_name: 'sales_summary', snapshot_id: firstSnapshot, stale: false }),
    ]);
  });

  it('REFRESHES after DML on a monitored table, but not after DML on a same-named table in another schema', async () => {
    await sf.query(`INSERT INTO SRC.S2.SALES VALUES ('EU', 1000)`);
    expect((await refresh('sales_summary')).body.result).toBe('SKIPPED');
    await sf.query(`UPDATE SRC.S1.SALES SET AMOUNT = 20 WHERE AMOUNT = 10`);
    const r = await refresh('sales_summary');
    expect(r.body).toMatchObject({ result: 'REFRESHED', rows_refreshed: 2 });
    expect(r.body.message).toContain('changed');
    const q = await query({ sql: "SELECT total FROM sales_summary WHERE region = 'EU'" });
    expect(q.body.rows).toEqual([{ TOTAL: '25' }]);
  });

  it('force refreshes regardless; TTL expiry refreshes', async () => {
    expect((await refresh('sales_summary', true)).body).toMatchObject({
      result: 'REFRESHED',
      message: expect.stringContaining('forced'),
    });
    const c = await api('POST', '/api/v1/caches', {
      cache_name: 'products_ttl',
      source_name: 'prod',
      source_query: 'SELECT * FROM SRC.S1.PRODUCTS',
      ttl_seconds: 1,
    });
    expect(c.body.monitor_tables).toEqual(['SRC.S1.PRODUCTS']);
    expect((await refresh('products_ttl')).body.result).toBe('REFRESHED');
    const shown = await api('GET', '/api/v1/caches/products_ttl');
    expect(new Date(shown.body.expires_at).getTime() - new Date(shown.body.refreshed_at).getTime()).toBeCloseTo(
      1000,
      -2,
    );
    await new Promise((r) => setTimeout(r, 1100));
    expect((await api('GET', '/api/v1/caches/products_ttl')).body.stale).toBe(true);
    expect((await refresh('products_ttl')).body).toMatchObject({
      result: 'REFRESHED',
      message: expect.stringContaining('TTL expired'),
    });
  });

  it('a change committed during a refresh is caught by the next check', async () => {
    let once = true;
    beforeLoad.set('products_ttl', async () => {
      if (once) await sf.query(`INSERT INTO SRC.S1.PRODUCTS VALUES (3, 'c')`);
      once = false;
    });
    await api('POST', '/api/v1/caches', {
      cache_name: 'products',
      source_name: 'prod',
      source_query: 'SELECT * FROM SRC.S1.PRODUCTS',
    });
    beforeLoad.set('products', beforeLoad.get('products_ttl')!);
    const r1 = await refresh('products');
    expect(r1.body).toMatchObject({ result: 'REFRESHED', rows_refreshed: 2 }); // unloaded before the insert
    const r2 = await refresh('products');
    expect(r2.body).toMatchObject({ result: 'REFRESHED', rows_refreshed: 3 });
    expect((await refresh('products')).body.result).toBe('SKIPPED');
    beforeLoad.delete('products');
    beforeLoad.delete('products_ttl');
  });

  it('serializes concurrent refreshes of one cache; readers never see it empty', async () => {
    beforeLoad.set('sales_summary', () => new Promise((r) => setTimeout(r, 400)));
    loads.sales_summary = [];
    let reading = true;
    const counts: number[] = [];
    const reader = (async () => {
      while (reading) {
        const q = await query({ sql: 'SELECT count(*) AS n FROM sales_summary' });
        counts.push(Number(q.body.rows[0].n));
      }
    })();
    const [a, b, c] = await Promise.all([
      refresh('sales_summary', true),
      refresh('sales_summary', true),
      refresh('sales_summary'),
    ]);
    reading = false;
    await reader;
    beforeLoad.delete('sales_summary');
    expect([a.body.result, b.body.result]).toEqual(['REFRESHED', 'REFRESHED']);
    expect(['REFRESHED', 'SKIPPED']).toContain(c.body.result);
    const spans = loads.sales_summary!.sort((x, y) => x[0] - y[0]);
    expect(spans.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.every((n) => n === 2)).toBe(true);
  });

  it('a failing refresh returns ERROR and leaves the previous result readable', async () => {
    const before = await api('GET', '/api/v1/caches/sales_summary');
    beforeLoad.set('sales_summary', async () => {
      throw floeError(NonRetryable.InvalidRequest, 'injected failure before load');
    });
    const r = await refresh('sales_summary', true);
    beforeLoad.delete('sales_summary');
    expect(r.body).toMatchObject({ result: 'ERROR', rows_refreshed: 0 });
    expect(r.body.message).toContain('injected failure');
    const after = await api('GET', '/api/v1/caches/sales_summary');
    expect(after.body).toMatchObject({
      state: 'ready',
      last_result: 'ERROR',
      snapshot_id: before.body.snapshot_id,
      rows: 2,
    });
    const q = await query({ sql: 'SELECT count(*) AS n FROM sales_summary' });
    expect(q.body.rows).toEqual([{ n: '2' }]);
  });

  it('routes: caches to DuckLake, time travel by snapshot, staleness, passthrough off and on', async () => {
    // Time travel: the first refresh had EU = 15.
    const tt = await query({ sql: "SELECT total FROM sales_summary s WHERE region = 'EU'", snapshot: firstSnapshot });
    expect(tt.body).toMatchObject({ route: 'cache', snapshot: firstSnapshot, rows: [{ TOTAL: '15' }] });
    const join = await query({ sql: 'SELECT count(*) AS n FROM sales_summary a JOIN products p ON true' });
    expect(join.body.rows).toEqual([{ n: '6' }]);
    expect(join.body.caches.map((c: { cache_name: string }) => c.cache_name).sort()).toEqual([
      'products',
      'sales_summary',
    ]);

    // Not everything cached, passthrough off → 422 listing the uncached tables.
    const off = await query({ sql: 'SELECT * FROM sales_summary JOIN SRC.S2.SALES x ON true' });
    expect(off.status).toBe(422);
    expect(off.body.error).toMatchObject({ code: 'uncached_tables', uncached_tables: ['SRC.S2.SALES'] });
    expect((await query({ sql: "SELECT * FROM read_csv('/etc/passwd')" })).status).toBe(422);
    // Too stale for the caller and no passthrough → 409.
    const stale = await query({ sql: 'SELECT * FROM sales_summary', max_staleness_seconds: 0 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('cache_stale');

    await api('POST', '/api/v1/cache/sources', {
      source_name: 'prod',
      driver_type: 'snowflake',
      credentials_ref: 'default',
      passthrough_enabled: true,
    });
    const on = await query({ sql: 'SELECT COUNT(*) AS N FROM SRC.S2.SALES' });
    expect(on.body).toMatchObject({ route: 'passthrough', source_name: 'prod', rows: [{ N: '2' }] });
    // Mixed: the cache is inlined as its source query, the whole query runs in Snowflake.
    const mixed = await query({
      sql: 'SELECT s.total, x.amount FROM sales_summary s JOIN SRC.S2.SALES x ON s.region = x.region WHERE x.amount = 1',
    });
    expect(mixed.body).toMatchObject({ route: 'passthrough', rows: [{ TOTAL: '25', AMOUNT: '1' }] });
    const fresh = await query({ sql: 'SELECT COUNT(*) AS N FROM sales_summary', max_staleness_seconds: 0 });
    expect(fresh.body).toMatchObject({ route: 'passthrough', rows: [{ N: '2' }] });
    expect(fresh.body.caches[0].stale).toBe(true);
  });

  it('manages a Schedule per cache; the scheduled workflow runs the smart refresh; drop removes everything', async () => {
    const c = await api('POST', '/api/v1/caches', {
      cache_name: 'sched',
      source_name: 'prod',
      source_query: 'SELECT * FROM PRODUCTS',
      schedule_interval_seconds: 3600,
    });
    expect(c.status).toBe(201);
    expect(c.body.schedule).toMatchObject({ interval_seconds: 3600, schedule_id: 'cacheRefresh-schedule-sched' });
    await client.schedule.getHandle('cacheRefresh-schedule-sched').describe();
    const r = await client.workflow.execute(cacheRefreshScheduled, {
      taskQueue,
      workflowId: `sched-test-${Date.now()}`,
      args: [{ cacheName: 'sched' }],
    });
    expect(r).toMatchObject({ result: 'REFRESHED', rows_refreshed: 3 });
    const d = await api('DELETE', '/api/v1/caches/sched');
    expect(d.body).toEqual({ cache_name: 'sched', deleted: true });
    await expect(client.schedule.getHandle('cacheRefresh-schedule-sched').describe()).rejects.toThrow();
    // No longer a cache: the query passes through, and Snowflake has no such table.
    const gone = await query({ sql: 'SELECT * FROM sched' });
    expect(gone.status).toBe(400);
    expect(gone.body.error.message).toMatch(/SCHED/);
    const missing = await query({ sql: 'SELECT * FROM sales_summary', snapshot: 999_999 });
    expect(missing.status).toBe(404);
    expect(cacheRefreshWorkflowId('sched')).toBe('cacheRefresh-sched');
  });

  /** The token and private key the named credentials below hold (scanned for in histories). */
  const storedSecrets: string[] = [];

  it('refreshes caches whose sources sign in with stored named credentials: password, key pair, programmatic access token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bare = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    await sf.query(`CREATE USER cache_kp RSA_PUBLIC_KEY = '${bare}' TYPE = SERVICE`);
    await sf.query('CREATE USER cache_pat TYPE = SERVICE');
    const [{ token_secret: pat }] = await sf.query<{ token_secret: string }>(
      'ALTER USER cache_pat ADD PROGRAMMATIC ACCESS TOKEN floe',
    );
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    storedSecrets.push(pat, pem.split('\n')[1]!);
    const at = { account: 'floe', access_url: emu.url, database: 'SRC', schema: 'S1' };
    const signIns: Record<string, unknown>[] = [
      { name: 'named_pw', user: 'u', authenticator: 'SNOWFLAKE', password: 'sf-secret-pw', ...at },
      { name: 'named_kp', user: 'cache_kp', authenticator: 'SNOWFLAKE_JWT', private_key: pem, ...at },
      { name: 'named_pat', user: 'cache_pat', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: pat, ...at },
    ];
    for (const cred of signIns) {
      const name = String(cred.name);
      expect((await api('POST', '/api/v1/credentials', cred)).status).toBe(201);
      expect(
        (
          await api('POST', '/api/v1/cache/sources', {
            source_name: `src_${name}`,
            driver_type: 'snowflake',
            credentials_ref: name,
          })
        ).status,
      ).toBe(201);
      const c = await api('POST', '/api/v1/caches', {
        cache_name: `products_${name}`,
        source_name: `src_${name}`,
        source_query: 'SELECT ID, NAME FROM PRODUCTS',
      });
      expect(c.status).toBe(201);
      expect(c.body.monitor_tables).toEqual(['SRC.S1.PRODUCTS']);
      const r = await refresh(`products_${name}`);
      expect({ name, ...r.body }).toMatchObject({ name, result: 'REFRESHED', rows_refreshed: 3 });
    }
  });

  it('a refresh with a wrong credential fails with the Snowflake code, naming the credential and not the secret', async () => {
    const wrong = `wrong-${Date.now()}`;
    expect(
      (
        await api('PUT', '/api/v1/credentials/named_pw', {
          user: 'u',
          authenticator: 'SNOWFLAKE',
          password: wrong,
          account: 'floe',
          access_url: emu.url,
          database: 'SRC',
          schema: 'S1',
        })
      ).status,
    ).toBe(200);
    const r = await refresh('products_named_pw', true);
    expect(r.body).toMatchObject({ result: 'ERROR', rows_refreshed: 0 });
    expect(r.body.message).toContain("credentials 'named_pw' of source src_named_pw");
    expect(r.body.message).toContain('390100');
    expect(JSON.stringify(r.body)).not.toContain(wrong);
    expect((await api('GET', '/api/v1/caches/products_named_pw')).body).toMatchObject({
      state: 'ready',
      last_result: 'ERROR',
      rows: 3,
    });
    // The refreshes' Temporal histories (inputs, results, failures) carry no secret.
    let scanned = '';
    for (const name of ['named_pw', 'named_kp', 'named_pat']) {
      const h = await client.workflow.getHandle(cacheRefreshWorkflowId(`products_${name}`)).fetchHistory();
      scanned +=
        JSON.stringify(h) +
        JSON.stringify(h, (k, v) =>
          k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v,
        );
    }
    expect(scanned).toContain('390100');
    const { rows } = await pool.query<{ secret_encrypted: string }>(
      'SELECT secret_encrypted FROM snowflake_credentials',
    );
    for (const s of [wrong, 'sf-secret-pw', ...storedSecrets, ...rows.map((r) => r.secret_encrypted)])
      expect(scanned.includes(s)).toBe(false);
  });
});
