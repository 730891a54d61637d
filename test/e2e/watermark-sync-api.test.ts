/**
 * Watermark sync's control surface (Schedule apply / pause / resume / trigger / backfill, status,
 * discovery, metrics) through the API router against real Temporal, PostgreSQL and the emulator,
 * and through the whole API app (the `/api/v1/pg-sync` alias, the source database).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors.js';
import { createWatermarkSyncRouter } from '../../src/api/routes/watermarkSync.js';
import { parseWatermarkSyncConfig } from '../../src/jobs/watermark-sync/config.js';
import { scheduleId } from '../../src/jobs/watermark-sync/contract.js';
import { apiMetricsHandler } from '../../src/metrics/http.js';
import { getWatermark } from '../../src/jobs/watermark-sync/store.js';
import { createLogger } from '../../src/logger.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { makeRig, type WmRig } from '../helpers/watermark-sync-rig.js';

describe('watermark sync control surface', () => {
  let rig: WmRig;
  let worker: { stop(): Promise<void> };
  let server: Server;
  let base: string;
  const name = `api${process.pid}`;

  beforeAll(async () => {
    rig = await makeRig('api');
    worker = await rig.startWorker();
    const app = express();
    app.use(express.json());
    app.use(
      '/api/v1/watermark-sync',
      createWatermarkSyncRouter({
        pool: rig.pool,
        temporal: rig.client,
        taskQueue: rig.taskQueue,
        snowflake: rig.settings,
      }),
    );
    app.get('/metrics', apiMetricsHandler(rig.pool));
    app.use(errorHandler(createLogger({ level: 'silent' })));
    server = app.listen(0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await rig.pool.query(
      `CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric, meta jsonb, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await rig.pool.query(`INSERT INTO public.orders SELECT i, i * 1.5, '{}'::jsonb FROM generate_series(1, 20) i`);
  });

  afterAll(async () => {
    await rig?.client.schedule
      .getHandle(scheduleId(name))
      .delete()
      .catch(() => undefined);
    server?.close();
    await worker?.stop();
    await rig?.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: r.status,
      body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text(),
    };
  };
  const yaml = `name: ${name}\nsync_interval_seconds: 3600\ntables:\n  - source: public.orders\n    target: ANALYTICS.S.ORDERS\n    pk: id\n    watermark_column: updated_at\n`;

  it('discovers (dry run, then create) the target DDL', async () => {
    const dry = await call('POST', '/api/v1/watermark-sync/discover', { yaml });
    expect(dry.status).toBe(200);
    expect(dry.body.ddl).toContain(
      'CREATE TABLE IF NOT EXISTS "ANALYTICS"."S"."ORDERS" (\n  "ID" NUMBER(38,0) NOT NULL,\n  "AMOUNT" NUMBER(38,20),\n  "META" VARIANT,\n  "UPDATED_AT" TIMESTAMP_TZ NOT NULL,\n  PRIMARY KEY ("ID")\n)',
    );
    expect(dry.body.tables[0]).toMatchObject({ targetExists: false, created: false });
    const made = await call('POST', '/api/v1/watermark-sync/discover', { yaml, create: true });
    expect(made.body.tables[0]).toMatchObject({ created: true });
    expect((await rig.sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.S.ORDERS'))[0].N).toBe('0');
  });

  it('applies the config idempotently, pauses, resumes, triggers, backfills, and reports status and metrics', async () => {
    const bad = await call('POST', '/api/v1/watermark-sync/apply', { yaml: yaml.replace('pk: id', 'pk: []') });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('tables[0] (public.orders).pk');

    expect((await call('POST', '/api/v1/watermark-sync/apply', { yaml })).body.action).toBe('created');
    expect((await call('POST', '/api/v1/watermark-sync/apply', { yaml })).body.action).toBe('unchanged');
    expect(
      (await call('POST', '/api/v1/watermark-sync/apply', { yaml: yaml.replace('3600', '1800') })).body.action,
    ).toBe('updated');
    const d = await rig.client.schedule.getHandle(scheduleId(name)).describe();
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.spec.intervals?.[0]?.every).toBe(1_800_000);

    expect((await call('POST', '/api/v1/watermark-sync/pause', { name })).status).toBe(200);
    expect((await call('GET', `/api/v1/watermark-sync/status?name=${name}`)).body.schedule.paused).toBe(true);
    await call('POST', '/api/v1/watermark-sync/resume', { name });
    expect((await call('POST', '/api/v1/watermark-sync/pause', { name: 'nope' })).status).toBe(404);

    expect((await call('POST', '/api/v1/watermark-sync/trigger', { name })).status).toBe(200);
    const waitFor = async (pred: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await pred()); i++) await new Promise((r) => setTimeout(r, 150));
    };
    await waitFor(async () => (await getWatermark(rig.pool, 'public.orders'))?.lastStatus === 'success');
    const w = await getWatermark(rig.pool, 'public.orders');
    expect(w, String(w?.lastError)).toMatchObject({ lastStatus: 'success', rowsProcessed: 20 });

    const bf = await call('POST', '/api/v1/watermark-sync/backfill', { name, tables: ['public.orders'] });
    expect(bf.status).toBe(202);
    const result = await rig.client.workflow.getHandle(bf.body.workflow_id).result();
    expect(result).toMatchObject({ rows: 20, failed: 0 });
    expect((await rig.sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.S.ORDERS'))[0].N).toBe('20');
    expect((await call('POST', '/api/v1/watermark-sync/backfill', { name, tables: ['public.other'] })).status).toBe(
      400,
    );

    const status = await call('GET', `/api/v1/watermark-sync/status?name=${name}`);
    expect(status.body.tables[0]).toMatchObject({
      source_table: 'public.orders',
      last_status: 'success',
      sync_success_count: 2,
      rows_processed: 20,
    });
    const metrics = await call('GET', '/metrics');
    expect(metrics.body).toContain('sync_success_count{table="public.orders"} 2');
    expect(metrics.body).toContain('rows_processed{table="public.orders"} 20');
    expect(metrics.body).toMatch(/last_sync_duration_seconds\{table="public.orders"\} [\d.]+/);
    expect(metrics.body).toContain('sync_failure_count{table="public.orders"} 0');

    // The runs are in Temporal's job log with floe's search attributes.
    await waitFor(async () => {
      let n = 0;
      for await (const _ of rig.client.workflow.list({
        query: `FloeJobKind = 'watermark_sync' AND FloeTable = 'public.orders' AND FloeStatus = 'completed'`,
      }))
        n++;
      return n >= 2;
    });
    let n = 0;
    for await (const _ of rig.client.workflow.list({
      query: `FloeJobKind = 'watermark_sync' AND FloeTable = 'public.orders' AND FloeStatus = 'completed'`,
    }))
      n++;
    expect(n).toBeGreaterThanOrEqual(2);
  });

  it('GET /errors shows the first primary keys of the batch that failed', async () => {
    // The batch fails in the MERGE: 'x' does not fit the hand-made target's NUMBER column.
    await rig.pool.query(
      `CREATE TABLE public.badcast (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01')`,
    );
    await rig.pool.query(`INSERT INTO public.badcast (id, v) VALUES (1, '1'), (2, 'x'), (3, '3')`);
    await rig.sf.query('CREATE TABLE ANALYTICS.S.BADCAST (ID NUMBER(38,0), V NUMBER(38,0), UPDATED_AT TIMESTAMP_TZ)');
    const config = parseWatermarkSyncConfig(
      `name: bad${process.pid}\ntables:\n  - source: public.badcast\n    target: S.BADCAST\n    pk: id\n    watermark_column: updated_at\n`,
    );
    expect((await rig.run(config)).failed).toBe(1);
    const r = await call('GET', '/api/v1/watermark-sync/errors?table=public.badcast');
    expect(r.status).toBe(200);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0]).toMatchObject({
      source_table: 'public.badcast',
      batch_size: 1000,
      sample_keys: [['1'], ['2'], ['3']],
    });
  });
});

describe('watermark sync through the API', () => {
  let rig: WmRig;
  let worker: { stop(): Promise<void> };
  let source: FreshDatabase;
  let h: ApiHarness;
  let token: string;

  beforeAll(async () => {
    rig = await makeRig('srcdb');
    worker = await rig.startWorker();
    // The source database is not the control plane: PG_SYNC_SOURCE_URL points elsewhere.
    source = await freshDatabase({ prefix: 'floe_wm_source', migrated: false });
    h = await startApiHarness({
      PG_SYNC_SOURCE_URL: source.url,
      SNOWFLAKE_ACCESS_URL: rig.emu.url,
      SNOWFLAKE_ACCOUNT: 'floe',
      SNOWFLAKE_DATABASE: 'ANALYTICS',
      SNOWFLAKE_USER: rig.settings.username,
      SNOWFLAKE_PASSWORD: rig.settings.password,
    });
    token = await h.login();
  });

  afterAll(async () => {
    await h?.close();
    await source?.drop();
    await worker?.stop();
    await rig?.close();
  });

  const yamlFor = (table: string, target: string) =>
    `name: src${process.pid}\ntables:\n  - source: ${table}\n    target: ${target}\n    pk: id\n    watermark_column: updated_at\n`;

  it('POST /discover (dry run and create) reads PG_SYNC_SOURCE_URL, not the control-plane database', async () => {
    const pg = await import('pg');
    const src = new pg.default.Client({ connectionString: source.url });
    await src.connect();
    try {
      await src.query(
        'CREATE TABLE public.only_in_source (id int PRIMARY KEY, label text, updated_at timestamptz NOT NULL DEFAULT now())',
      );
    } finally {
      await src.end();
    }
    const dry = await h.request('POST', '/api/v1/watermark-sync/discover', {
      token,
      body: { yaml: yamlFor('public.only_in_source', 'S.ONLY_IN_SOURCE') },
    });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json.tables[0].error).toBeUndefined();
    expect(dry.json.tables[0].columns.map((c: { name: string }) => c.name)).toEqual(['id', 'label', 'updated_at']);
    // The path of earlier releases is an alias of the same router.
    const made = await h.request('POST', '/api/v1/pg-sync/discover', {
      token,
      body: { yaml: yamlFor('public.only_in_source', 'S.ONLY_IN_SOURCE'), create: true },
    });
    expect(made.json.tables[0]).toMatchObject({ created: true });
    expect(
      await rig.sf.query(
        "SELECT COLUMN_NAME FROM ANALYTICS.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'ONLY_IN_SOURCE' ORDER BY ORDINAL_POSITION",
      ),
    ).toEqual([{ COLUMN_NAME: 'ID' }, { COLUMN_NAME: 'LABEL' }, { COLUMN_NAME: 'UPDATED_AT' }]);
    // A table of the control plane is not in the source database.
    const control = await h.request('POST', '/api/v1/watermark-sync/discover', {
      token,
      body: { yaml: yamlFor('public.allowed_tables', 'S.ALLOWED') },
    });
    expect(control.json.tables[0].error).toMatch(/public\.allowed_tables does not exist/);
  });
});
