/**
 * What queries routed to the cache reuse: pooled connections of the sandboxed DuckDB instance (a
 * connection serves one query after another) and the remembered plans and lake rewrites of statements
 * seen before. Real PostgreSQL (control plane and DuckLake catalog), real DuckLake
 * Parquet files in a temp dir, routeQuery called directly (the HTTP route is covered by
 * test/e2e/cache-refresh-sandbox.test.ts). The connection a query ran on is told apart by object identity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/index.js';
import { planQuery } from '../../src/jobs/cache-refresh/queryPlan.js';
import { routeQuery, type RouterDeps } from '../../src/jobs/cache-refresh/queryRouter.js';
import { closeLakes, currentSnapshot, withLake, type LakeSettings } from '../../src/jobs/cache-refresh/storage.js';
import * as store from '../../src/jobs/cache-refresh/store.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let root: string;
let db: FreshDatabase;
let pool: pg.Pool;
let lake: LakeSettings;
let deps: RouterDeps;

/** Replace the cache's table with `rows` rows in one DuckLake transaction and record it, as a refresh does. */
async function refresh(rows: number): Promise<number> {
  const snapshot = await withLake(lake, async (c) => {
    await c.run('BEGIN');
    await c.run(`CREATE OR REPLACE TABLE lake.main.orders AS SELECT i AS id, i % 3 AS k FROM range(${rows}) t(i)`);
    await c.run('COMMIT');
    return currentSnapshot(c, lake);
  });
  await store.recordRefreshed(pool, {
    cacheName: 'orders',
    jobId: 'test',
    stateHash: 'h',
    lastAltered: {},
    rows,
    snapshotId: snapshot,
  });
  return snapshot;
}

/** The connection the next sandboxed call gets (it goes back to the pool). */
const nextConnection = () => withLake(lake, async (c) => c, { sandbox: true });

/** Run `sql` on the next sandboxed connection: 'ran', or the error message. */
const attempt = (sql: string, seen?: (c: DuckDBConnection) => void) =>
  withLake(
    lake,
    async (c) => {
      seen?.(c);
      await c.runAndReadAll(sql);
    },
    { sandbox: true },
  ).then(
    () => 'ran',
    (e: Error) => e.message,
  );

const count = async (sql = 'SELECT count(*) AS n FROM orders') => {
  const r = await routeQuery(deps, { sql });
  expect(r.route).toBe('cache');
  return r.rows;
};

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'floe-query-pool-'));
  db = await freshDatabase({ prefix: 'floe_query_pool' });
  pool = createPool(db.url, { max: 4 });
  lake = { catalogUrl: db.url, dataPath: path.join(root, 'lake') };
  deps = { pool, lake, credentials: async () => undefined };
  await store.upsertSource(pool, { sourceName: 'prod', credentialsRef: 'default', passthroughEnabled: false });
  await store.insertCache(pool, {
    cache_name: 'orders',
    source_name: 'prod',
    source_query: 'SELECT * FROM SRC.S1.ORDERS',
    monitor_tables: [],
    monitor_tables_derived: false,
    ttl_seconds: null,
    schedule_interval_seconds: null,
  });
  await refresh(10);
}, 120_000);

afterAll(async () => {
  await closeLakes();
  await pool?.end();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

describe('pooled connections of the sandboxed lake instance', () => {
  it('serves query after query on one connection, which still refuses host files and setting changes', async () => {
    const pooled = await nextConnection();
    expect(await count()).toEqual([{ n: '10' }]);
    // A name written in another case than the cache's is rewritten with the cache's own name.
    expect(await count('SELECT k, count(*) AS n FROM "ORDERS" GROUP BY k ORDER BY k')).toEqual([
      { k: '0', n: '4' },
      { k: '1', n: '3' },
      { k: '2', n: '3' },
    ]);
    expect(await nextConnection()).toBe(pooled);
    // `SET` fails (and so closes that connection); reading a host file is refused on a fresh pooled one.
    expect(await attempt('SET enable_external_access = true', (c) => expect(c).toBe(pooled))).toMatch(
      /configuration has been locked/,
    );
    const next = await nextConnection();
    expect(await count()).toEqual([{ n: '10' }]);
    expect(await attempt("SELECT * FROM read_csv('/etc/passwd')", (c) => expect(c).toBe(next))).toMatch(
      /Permission Error/,
    );
    expect(await attempt('SELECT count(*) FROM lake.main.orders')).toBe('ran');
  });

  it("sees each refresh's new snapshot on the same pooled connection", async () => {
    const pooled = await nextConnection();
    expect(await count()).toEqual([{ n: '10' }]);
    const snapshot = await refresh(25);
    const r = await routeQuery(deps, { sql: 'SELECT count(*) AS n FROM orders' });
    expect(r.rows).toEqual([{ n: '25' }]);
    expect(r.caches[0]?.snapshot_id).toBe(snapshot);
    await refresh(7);
    expect(await count()).toEqual([{ n: '7' }]);
    expect(await nextConnection()).toBe(pooled);
  });

  it('closes a connection whose statement failed or was interrupted instead of pooling it', async () => {
    let failed: DuckDBConnection | undefined;
    expect(await attempt('SELECT * FROM lake.main.no_such_table', (c) => (failed = c))).toMatch(/Catalog Error/);
    expect(await nextConnection()).not.toBe(failed);
    await expect(failed!.run('SELECT 1')).rejects.toThrow(/closed|disconnected/i);

    let interrupted: DuckDBConnection | undefined;
    const message = await withLake(
      lake,
      async (c) => {
        interrupted = c;
        const long = c.run('SELECT count(*) FROM range(1000000000000) a');
        setTimeout(() => c.interrupt(), 50);
        await long;
      },
      { sandbox: true },
    ).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(message).toMatch(/INTERRUPT/i);
    expect(await nextConnection()).not.toBe(interrupted);
    await expect(interrupted!.run('SELECT 1')).rejects.toThrow(/closed|disconnected/i);
    expect(await count()).toEqual([{ n: '7' }]);
  });
});

describe('statements seen before', () => {
  it('are planned once, refused every time, and rewritten for each snapshot they read', async () => {
    const sql = 'SELECT count(*) AS n FROM orders';
    expect(await planQuery(sql)).toBe(await planQuery(sql));
    for (let i = 0; i < 2; i++) {
      await expect(planQuery("SELECT * FROM orders, read_csv('/etc/passwd')")).rejects.toMatchObject({
        code: 'sql_not_allowed',
      });
    }
    const first = await refresh(4);
    const second = await refresh(9);
    for (let i = 0; i < 2; i++) {
      expect((await routeQuery(deps, { sql, snapshot: first })).rows).toEqual([{ n: '4' }]);
      expect((await routeQuery(deps, { sql, snapshot: second })).rows).toEqual([{ n: '9' }]);
      expect((await routeQuery(deps, { sql })).rows).toEqual([{ n: '9' }]);
    }
    // The same text with the snapshot also written in it is refused whatever was remembered.
    await expect(
      routeQuery(deps, { sql: 'SELECT count(*) AS n FROM orders AT (VERSION => 1)', snapshot: first }),
    ).rejects.toMatchObject({ status: 400, details: { field: 'snapshot' } });
  });
});
