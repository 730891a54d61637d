/**
 * API against the real pieces: the Snowflake emulator (through snowflake-sdk), PostgreSQL, the run's
 * Temporal dev server and an in-process tableSync worker. Covers listing and registering tables,
 * starting/inspecting/listing/cancelling jobs, "one running sync per table", table status, samples
 * in every format, the busy-target 409, and schedules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/src/index.js';
import { listJobs, startTableSync, waitForJob } from '../../src/client/tableSync.js';
import { withDuckDb } from '../../src/connectors/duckdb.js';
import type { ApiHarness } from '../helpers/api-harness.js';
import { runOnEmulator, startTableSyncStack, type TableSyncStack } from '../helpers/table-sync-stack.js';

let emulator: RunningEmulator;
let h: ApiHarness;
let stack: TableSyncStack;
let token: string;

const DB = 'APIDB';
const DB2 = 'APIDB2';

beforeAll(async () => {
  // The first table-stats query of SLOWPOKE (sent by the workflow's describe activity, not by the API)
  // fails with a transient Snowflake error, so its job stays running (activity retry after 1 s) long
  // enough to query its progress.
  stack = await startTableSyncStack({
    faults: { failStatement: { pattern: /^SELECT ROW_COUNT, BYTES, LAST_ALTERED .*'SLOWPOKE'/, nth: 1 } },
    setup: [
      `CREATE DATABASE ${DB}`,
      `CREATE SCHEMA ${DB}.S1`,
      `CREATE SCHEMA ${DB}.EMPTY_SCHEMA`,
      `CREATE TABLE ${DB}.S1.ORDERS (ID NUMBER(38,0), AMOUNT NUMBER(12,2), NOTE VARCHAR, UPDATED_AT TIMESTAMP_NTZ, TAGS VARIANT)`,
      `INSERT INTO ${DB}.S1.ORDERS (ID, AMOUNT, NOTE, UPDATED_AT) VALUES
         (12345678901234567890123456789, 12.50, 'first', '2024-01-01 10:00:00.123456'),
         (2, 0.01, 'second, with a comma', '2024-01-02 11:00:00'),
         (3, -7.00, NULL, '2024-01-03 12:00:00')`,
      `CREATE TABLE ${DB}.S1.EVENTS (EVENT_ID NUMBER(10,0), TS TIMESTAMP_NTZ, PAYLOAD VARCHAR)`,
      `INSERT INTO ${DB}.S1.EVENTS VALUES (1, '2024-05-01 00:00:00', 'a'), (2, '2024-05-02 00:00:00', 'b')`,
      `CREATE TABLE ${DB}.S1.UNSYNCED (ID NUMBER(10,0))`,
      `CREATE TABLE ${DB}.S1.GONE (ID NUMBER(10,0))`,
      `CREATE TABLE ${DB}.S1.SLOWPOKE (ID NUMBER(10,0))`,
      `CREATE TABLE ${DB}.S1.TWIN (ID NUMBER(10,0))`,
      `CREATE TABLE ${DB}.S1."twin" ("id" NUMBER(10,0), "Note" VARCHAR)`,
      `CREATE TABLE ${DB}.S1."quoted_only" (ID NUMBER(10,0))`,
      `INSERT INTO ${DB}.S1.SLOWPOKE VALUES (1)`,
      // Same schema and table names in another database: a target of its own.
      `CREATE DATABASE ${DB2}`,
      `CREATE SCHEMA ${DB2}.S1`,
      `CREATE TABLE ${DB2}.S1.ORDERS (ID NUMBER(38,0), AMOUNT NUMBER(12,2), NOTE VARCHAR, UPDATED_AT TIMESTAMP_NTZ, TAGS VARIANT)`,
      `INSERT INTO ${DB2}.S1.ORDERS (ID, AMOUNT, NOTE, UPDATED_AT) VALUES (100, 1.00, 'db2 only', '2024-02-01 00:00:00'), (101, 2.00, 'db2 too', '2024-02-02 00:00:00')`,
      `CREATE TABLE ${DB2}.S1.EVENTS (EVENT_ID NUMBER(10,0), TS TIMESTAMP_NTZ, PAYLOAD VARCHAR)`,
      `INSERT INTO ${DB2}.S1.EVENTS VALUES (7, '2024-05-07 00:00:00', 'x')`,
    ],
    env: { SNOWFLAKE_DATABASE: DB },
  });
  ({ emulator, h } = stack);
  token = await h.login();
});

afterAll(async () => {
  await stack?.close();
});

const get = (p: string) => h.request('GET', p, { token });
const post = (p: string, body?: unknown) => h.request('POST', p, { token, body });

describe('GET /sync/tables/{schema}', () => {
  it('lists tables with rows, bytes and last_altered', async () => {
    const r = await get('/api/v1/sync/tables/S1');
    expect(r.status, r.text).toBe(200);
    expect(r.json.database).toBe(DB);
    expect(r.json.schema).toBe('S1');
    const names = r.json.tables.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ORDERS', 'EVENTS', 'UNSYNCED']));
    const orders = r.json.tables.find((t: { name: string }) => t.name === 'ORDERS');
    expect(orders.rows).toBe('3');
    expect(orders.bytes).toMatch(/^\d+$/);
    expect(orders.last_altered).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('folds an unquoted lower-case schema like Snowflake', async () => {
    const r = await get(`/api/v1/sync/tables/s1?database=${DB.toLowerCase()}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json.schema).toBe('S1');
  });

  it('an empty schema lists nothing; missing schema or database is a 404 naming it', async () => {
    const empty = await get('/api/v1/sync/tables/EMPTY_SCHEMA');
    expect(empty.status, empty.text).toBe(200);
    expect(empty.json.tables).toEqual([]);
    const noSchema = await get('/api/v1/sync/tables/NOPE');
    expect(noSchema.status, noSchema.text).toBe(404);
    expect(noSchema.json.error.field).toBe('schema');
    expect(noSchema.json.error.message).toContain('NOPE');
    const noDb = await get('/api/v1/sync/tables/S1?database=NODB');
    expect(noDb.status, noDb.text).toBe(404);
    expect(noDb.json.error.field).toBe('database');
  });
});

describe('POST /sync/tables/register', () => {
  it('registers a table with its columns and keys (unquoted names fold to upper case)', async () => {
    const r = await post('/api/v1/sync/tables/register', {
      table_name: 'orders',
      schema_name: 's1',
      primary_key: 'id',
      watermark_column: 'updated_at',
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({
      created: true,
      database_name: DB,
      schema_name: 'S1',
      table_name: 'ORDERS',
      primary_key: ['ID'],
      watermark_column: 'UPDATED_AT',
      column_count: 5,
      row_count: '3',
    });
    expect(r.json.columns.map((c: { name: string }) => c.name)).toEqual(['ID', 'AMOUNT', 'NOTE', 'UPDATED_AT', 'TAGS']);
    const { rows } = await h.pool.query('SELECT column_count, row_count FROM table_metadata WHERE table_id = $1', [
      r.json.table_id,
    ]);
    expect(rows[0]).toMatchObject({ column_count: 5, row_count: '3' });
  });

  it("resolves names by Snowflake's identifier rules and answers with the object it picked", async () => {
    // Unquoted `twin` is TWIN, never the table created as "twin".
    const upper = await post('/api/v1/sync/tables/register', { table_name: 'twin', schema_name: 's1' });
    expect(upper.status, upper.text).toBe(201);
    expect(upper.json).toMatchObject({ table_name: 'TWIN', column_count: 1 });
    // Quoted names are exact, columns included.
    const exact = await post('/api/v1/sync/tables/register', {
      table_name: '"twin"',
      schema_name: 'S1',
      primary_key: '"id"',
      // DuckDB matches names case-insensitively: TWIN's default target would be taken.
      target_table: 'twin_quoted',
    });
    expect(exact.status, exact.text).toBe(201);
    expect(exact.json).toMatchObject({ table_name: 'twin', primary_key: ['id'], column_count: 2 });
    const unquotedColumn = await post('/api/v1/sync/tables/register', {
      table_name: '"twin"',
      schema_name: 'S1',
      primary_key: 'id',
    });
    expect(unquotedColumn.status, unquotedColumn.text).toBe(422);
    expect(unquotedColumn.json.error.message).toContain("'id'");
    // A table that exists only quoted is not found unquoted; the 404 names what was looked up.
    const missing = await post('/api/v1/sync/tables/register', { table_name: 'quoted_only', schema_name: 'S1' });
    expect(missing.status, missing.text).toBe(404);
    expect(missing.json.error.message).toContain(`${DB}.S1.QUOTED_ONLY`);
    const status = await get(`/api/v1/sync/tables/S1/${encodeURIComponent('"twin"')}/status`);
    expect(status.status, status.text).toBe(200);
    expect(status.json.table_name).toBe('twin');
  });

  it('re-registering is idempotent and updates the keys given', async () => {
    const first = await post('/api/v1/sync/tables/register', { table_name: 'ORDERS', schema_name: 'S1' });
    expect(first.status, first.text).toBe(200);
    expect(first.json.created).toBe(false);
    expect(first.json.primary_key).toEqual(['ID']);
    const second = await post('/api/v1/sync/tables/register', {
      table_name: 'ORDERS',
      schema_name: 'S1',
      primary_key: ['ID', 'NOTE'],
    });
    expect(second.status).toBe(200);
    expect(second.json.table_id).toBe(first.json.table_id);
    expect(second.json.primary_key).toEqual(['ID', 'NOTE']);
    expect(second.json.watermark_column).toBe('UPDATED_AT');
    const third = await post('/api/v1/sync/tables/register', {
      table_name: 'ORDERS',
      schema_name: 'S1',
      primary_key: 'ID',
    });
    expect(third.json.primary_key).toEqual(['ID']);
    const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM allowed_tables WHERE table_name = $1', [
      'ORDERS',
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('404 naming a table that does not exist', async () => {
    const r = await post('/api/v1/sync/tables/register', { table_name: 'GHOST', schema_name: 'S1' });
    expect(r.status, r.text).toBe(404);
    expect(r.json.error.field).toBe('table_name');
    expect(r.json.error.message).toContain('GHOST');
  });

  it('422 naming a key column the table lacks or cannot use', async () => {
    let r = await post('/api/v1/sync/tables/register', {
      table_name: 'ORDERS',
      schema_name: 'S1',
      primary_key: ['ID', 'NOPE'],
    });
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.field).toBe('primary_key.1');
    expect(r.json.error.message).toContain('NOPE');
    r = await post('/api/v1/sync/tables/register', {
      table_name: 'ORDERS',
      schema_name: 'S1',
      watermark_column: 'MISSING',
    });
    expect(r.status).toBe(422);
    expect(r.json.error.field).toBe('watermark_column');
    r = await post('/api/v1/sync/tables/register', {
      table_name: 'ORDERS',
      schema_name: 'S1',
      watermark_column: 'TAGS',
    });
    expect(r.status).toBe(422);
    expect(r.json.error.message).toMatch(/TAGS.*VARIANT/);
  });
});

describe('jobs', () => {
  let jobId: string;

  it('POST /sync/start → 202 with a readable job id; the job completes and is visible', async () => {
    const r = await post('/api/v1/sync/start', { table_name: 'ORDERS', schema_name: 'S1', strategy: 'full' });
    expect(r.status, r.text).toBe(202);
    jobId = r.json.job_id;
    expect(jobId).toMatch(/^tableSync-APIDB\.S1\.ORDERS-\d{14}-[0-9a-f]{4}$/);
    expect(r.headers.get('location')).toBe(`/api/v1/sync/jobs/${jobId}`);
    expect(r.json).toMatchObject({ status: 'pending', strategy: 'full', method: 'auto', table: 'APIDB.S1.ORDERS' });

    const early = await get(`/api/v1/sync/jobs/${jobId}`);
    expect(early.status).toBe(200);
    expect(['pending', 'running', 'completed']).toContain(early.json.status);

    const done = await waitForJob(h.temporal, jobId, { timeoutMs: 90_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');

    const g = await get(`/api/v1/sync/jobs/${jobId}`);
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({
      job_id: jobId,
      status: 'completed',
      strategy: 'full',
      table: 'APIDB.S1.ORDERS',
      error: null,
    });
    expect(g.json.stats).toMatchObject({ rowsRead: 3, rowsInTarget: 3, strategy: 'full' });
    expect(g.json.completed_at).toMatch(/Z$/);
    expect(new Date(g.json.completed_at).getTime()).toBeGreaterThanOrEqual(new Date(g.json.started_at).getTime());
  });

  it('GET /sync/jobs filters by table and status', async () => {
    let r = await get('/api/v1/sync/jobs?table=APIDB.S1.ORDERS');
    expect(r.status, r.text).toBe(200);
    expect(r.json.jobs.map((j: { job_id: string }) => j.job_id)).toContain(jobId);
    r = await get('/api/v1/sync/jobs?table=s1.orders&status=completed');
    expect(r.json.jobs.map((j: { job_id: string }) => j.job_id)).toContain(jobId);
    r = await get('/api/v1/sync/jobs?table=APIDB.S1.ORDERS&status=failed');
    expect(r.json.jobs).toEqual([]);
    r = await get('/api/v1/sync/jobs?table=APIDB.S1.EVENTS');
    expect(r.json.jobs).toEqual([]);
    r = await get(`/api/v1/sync/jobs?table=${encodeURIComponent("APIDB.S1.it's")}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json.jobs).toEqual([]);
    r = await get('/api/v1/sync/jobs?limit=1');
    expect(r.json.jobs.length).toBeLessThanOrEqual(1);
  });

  it('cancelling a finished job is a 409', async () => {
    const r = await post(`/api/v1/sync/jobs/${jobId}/cancel`);
    expect(r.status, r.text).toBe(409);
    expect(r.json.error.code).toBe('job_not_running');
  });

  it('GET /sync/tables/{schema}/{table}/status joins registration, last sync and the DuckDB target', async () => {
    const r = await get('/api/v1/sync/tables/S1/ORDERS/status');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      database_name: DB,
      schema_name: 'S1',
      table_name: 'ORDERS',
      last_sync_id: jobId,
      last_sync_status: 'completed',
      running_job_id: null,
    });
    expect(r.json.duckdb).toMatchObject({ exists: true, row_count: '3', busy: false });
  });

  it('one running sync per table: 409 naming the running job; cancel → cancelled', async () => {
    const reg = await post('/api/v1/sync/tables/register', {
      table_name: 'EVENTS',
      schema_name: 'S1',
      primary_key: 'EVENT_ID',
      watermark_column: 'TS',
    });
    expect(reg.status, reg.text).toBe(201);
    // A job on a queue no worker polls stays running for as long as we need.
    const { jobId: stuck } = await startTableSync(
      h.temporal,
      { tableId: reg.json.table_id, database: DB, schema: 'S1', table: 'EVENTS', strategy: 'full', method: 'auto' },
      { taskQueue: `nobody-polls-${process.pid}` },
    );
    const r = await post('/api/v1/sync/start', { table_name: 'EVENTS', schema_name: 'S1', strategy: 'incremental' });
    expect(r.status, r.text).toBe(409);
    expect(r.json.error.code).toBe('sync_already_running');
    expect(r.json.error.running_job_id).toBe(stuck);
    expect(r.json.error.message).toContain(stuck);

    const running = await get(`/api/v1/sync/jobs/${stuck}`);
    expect(running.json.status).toBe('pending');
    expect(running.json.progress).toBeNull();
    const listed = await get('/api/v1/sync/jobs?status=pending');
    expect(listed.json.jobs.map((j: { job_id: string }) => j.job_id)).toContain(stuck);
    const st = await get('/api/v1/sync/tables/S1/EVENTS/status');
    expect(st.json.running_job_id).toBe(stuck);

    const c = await post(`/api/v1/sync/jobs/${stuck}/cancel`);
    expect(c.status, c.text).toBe(202);
    expect(c.json.status).toBe('cancelling');
    // Nobody runs the workflow, so the cancel request cannot complete it: terminate to clean up.
    await h.temporal.workflow.getHandle(stuck).terminate('test cleanup');
    const after = await get(`/api/v1/sync/jobs/${stuck}`);
    expect(after.json.status).toBe('cancelled');
    expect(after.json.error).toMatch(/terminated|test cleanup/i);

    const inc = await post('/api/v1/sync/start', {
      table_name: 'EVENTS',
      schema_name: 'S1',
      strategy: 'incremental',
      lag_seconds: 60,
    });
    expect(inc.status, inc.text).toBe(202);
    const done = await waitForJob(h.temporal, inc.json.job_id, { timeoutMs: 90_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');
    expect(done.stats).toMatchObject({ strategy: 'incremental', rowsInTarget: 2 });
  });
});

describe('one target per source table', () => {
  const sample = async (database: string, table: string) => {
    const r = await post('/api/v1/sample_data', {
      database_name: database,
      schema_name: 'S1',
      table_name: table,
      sample_size: 100,
    });
    expect(r.status, r.text).toBe(200);
    return r;
  };
  const syncFull = async (database: string, table: string) => {
    const r = await post('/api/v1/sync/start', {
      database_name: database,
      schema_name: 'S1',
      table_name: table,
      strategy: 'full',
    });
    expect(r.status, r.text).toBe(202);
    const done = await waitForJob(h.temporal, r.json.job_id, { timeoutMs: 90_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');
    return done;
  };

  it('DB1.S1.ORDERS and DB2.S1.ORDERS, registered and synced, each keep their own rows', async () => {
    const reg = await post('/api/v1/sync/tables/register', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'ORDERS',
      primary_key: 'ID',
    });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.json).toMatchObject({ target_schema: `${DB2}__S1`, target_table: 'ORDERS' });
    const one = await syncFull(DB, 'ORDERS');
    const two = await syncFull(DB2, 'ORDERS');
    expect(one.stats).toMatchObject({ target: `"${DB}__S1"."ORDERS"`, sourceRows: 3, rowsRead: 3, rowsInTarget: 3 });
    expect(two.stats).toMatchObject({ target: `"${DB2}__S1"."ORDERS"`, sourceRows: 2, rowsRead: 2, rowsInTarget: 2 });
    expect(two.target).toBe(`"${DB2}__S1"."ORDERS"`);

    const s1 = await sample(DB, 'ORDERS');
    expect(s1.json).toMatchObject({ target_schema: `${DB}__S1`, target_table: 'ORDERS', row_count: 3 });
    expect(s1.json.rows.map((r: { ID: string }) => r.ID)).toEqual(['2', '3', '12345678901234567890123456789']);
    const s2 = await sample(DB2, 'ORDERS');
    expect(s2.json).toMatchObject({ target_schema: `${DB2}__S1`, target_table: 'ORDERS', row_count: 2 });
    expect(s2.json.rows.map((r: { NOTE: string }) => r.NOTE)).toEqual(['db2 only', 'db2 too']);
    // The DuckDB file itself: two tables, each with its own database's rows.
    const counts = await withDuckDb(h.duckdbPath, async (c) =>
      (
        await c.runAndReadAll(
          `SELECT (SELECT count(*) FROM "${DB}__S1"."ORDERS")::INT, (SELECT count(*) FROM "${DB2}__S1"."ORDERS" WHERE "NOTE" LIKE 'db2%')::INT`,
        )
      ).getRowsJson(),
    );
    expect(counts).toEqual([[3, 2]]);

    const listed = await get(`/api/v1/sync/jobs?table=${DB2}.S1.ORDERS`);
    expect(listed.json.jobs[0]).toMatchObject({ table: `${DB2}.S1.ORDERS`, target: `"${DB2}__S1"."ORDERS"` });
    const st = await get(`/api/v1/sync/tables/S1/ORDERS/status?database=${DB2}`);
    expect(st.json).toMatchObject({ target_schema: `${DB2}__S1`, target_table: 'ORDERS', row_count: '2' });
    expect(st.json.duckdb).toMatchObject({ table: `${DB2}__S1.ORDERS`, exists: true, row_count: '2' });
  });

  it('a target another registration writes is refused with 409 naming it (case-insensitively, as DuckDB matches names)', async () => {
    const r = await post('/api/v1/sync/tables/register', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      target_schema: `${DB.toLowerCase()}__s1`,
      target_table: 'orders',
    });
    expect(r.status, r.text).toBe(409);
    expect(r.json.error).toMatchObject({ code: 'target_taken', field: 'target_table' });
    expect(r.json.error.message).toContain(`${DB}.S1.ORDERS`);
    expect(r.json.error.other_registration).toMatchObject({
      database_name: DB,
      schema_name: 'S1',
      table_name: 'ORDERS',
    });
    const none = await h.pool.query('SELECT 1 FROM allowed_tables WHERE database_name = $1 AND table_name = $2', [
      DB2,
      'EVENTS',
    ]);
    expect(none.rowCount).toBe(0);
    const reserved = await post('/api/v1/sync/tables/register', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      target_schema: '_floe',
    });
    expect(reserved.status).toBe(400);
    expect(reserved.json.error.field).toBe('target_schema');
  });

  it('takes a custom target_schema / target_table, and moves to a new one on re-register', async () => {
    const r = await post('/api/v1/sync/tables/register', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      watermark_column: 'TS',
      target_schema: 'analytics',
      target_table: 'events_db2',
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ target_schema: 'analytics', target_table: 'events_db2' });
    const done = await syncFull(DB2, 'EVENTS');
    expect(done.stats).toMatchObject({ target: '"analytics"."events_db2"', rowsInTarget: 1 });
    expect((await sample(DB2, 'EVENTS')).json).toMatchObject({
      target_schema: 'analytics',
      target_table: 'events_db2',
      row_count: 1,
    });

    const moved = await post('/api/v1/sync/tables/register', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      target_table: 'events_moved',
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.json).toMatchObject({
      target_schema: 'analytics',
      target_table: 'events_moved',
      watermark_column: 'TS',
    });
    // The last sync described the old target.
    const st = await get(`/api/v1/sync/tables/S1/EVENTS/status?database=${DB2}`);
    expect(st.json).toMatchObject({
      last_sync_id: null,
      row_count: null,
      duckdb: { table: 'analytics.events_moved', exists: false },
    });
  });

  it('lag_seconds on an incremental sync without a primary key is a 422 saying why', async () => {
    const r = await post('/api/v1/sync/start', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      strategy: 'incremental',
      lag_seconds: 30,
    });
    expect(r.status, r.text).toBe(422);
    expect(r.json.error.field).toBe('lag_seconds');
    expect(r.json.error.message).toMatch(/primary key.*appended a second time/);
    const sched = await post('/api/v1/sync/schedules', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      strategy: 'incremental',
      lag_seconds: 30,
      interval_seconds: 3600,
    });
    expect(sched.status, sched.text).toBe(422);
    const ok = await post('/api/v1/sync/start', {
      database_name: DB2,
      schema_name: 'S1',
      table_name: 'EVENTS',
      strategy: 'incremental',
    });
    expect(ok.status, ok.text).toBe(202);
    const done = await waitForJob(h.temporal, ok.json.job_id, { timeoutMs: 90_000 });
    expect(done.stats).toMatchObject({
      strategy: 'incremental',
      rowsRead: 1,
      rowsInserted: 1,
      rowsUpdated: 0,
      rowsInTarget: 1,
      target: '"analytics"."events_moved"',
    });
  });
});

describe('a running job', () => {
  it('answers GET /sync/jobs/{id} with its progress (the workflow query)', async () => {
    const reg = await post('/api/v1/sync/tables/register', { table_name: 'SLOWPOKE', schema_name: 'S1' });
    expect(reg.status, reg.text).toBe(201);
    const r = await post('/api/v1/sync/start', {
      table_name: 'SLOWPOKE',
      schema_name: 'S1',
      strategy: 'full',
      method: 'stream',
    });
    expect(r.status, r.text).toBe(202);
    let seen: { status: string; progress: { phase: string; rowsLoaded: number } | null } | undefined;
    for (let i = 0; i < 100; i++) {
      const g = await get(`/api/v1/sync/jobs/${r.json.job_id}`);
      if (g.json.status === 'running' && g.json.progress) {
        seen = g.json;
        break;
      }
      if (g.json.status === 'completed') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(seen?.progress).toMatchObject({ phase: 'schema', rowsLoaded: 0 });
    const done = await waitForJob(h.temporal, r.json.job_id, { timeoutMs: 90_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');
    expect(done.progress).toBeNull();
    expect(done.stats).toMatchObject({ rowsInTarget: 1 });
  });
});

describe('a failing job', () => {
  it('reports failed with the cause and its type, and is listed as failed', async () => {
    const reg = await post('/api/v1/sync/tables/register', { table_name: 'GONE', schema_name: 'S1' });
    expect(reg.status, reg.text).toBe(201);
    await runOnEmulator(emulator, [`DROP TABLE ${DB}.S1.GONE`]);
    const r = await post('/api/v1/sync/start', {
      table_name: 'GONE',
      schema_name: 'S1',
      strategy: 'full',
      method: 'stream',
    });
    expect(r.status, r.text).toBe(202);
    await waitForJob(h.temporal, r.json.job_id, { timeoutMs: 90_000 });
    const g = await get(`/api/v1/sync/jobs/${r.json.job_id}`);
    expect(g.status).toBe(200);
    expect(g.json.status).toBe('failed');
    expect(g.json.error).toContain('GONE');
    expect(g.json.error_type).toBe('TableNotFound');
    expect(g.json.stats).toBeNull();
    const failed = await get('/api/v1/sync/jobs?status=failed');
    expect(failed.json.jobs.map((j: { job_id: string }) => j.job_id)).toContain(r.json.job_id);
    const st = await get('/api/v1/sync/tables/S1/GONE/status');
    expect(st.json).toMatchObject({ last_sync_status: 'failed', last_sync_id: r.json.job_id });
    expect(st.json.last_error).toContain('GONE');
    expect(st.json.duckdb.exists).toBe(false);
  });
});

describe('POST /sample_data', () => {
  const base = { table_name: 'ORDERS', schema_name: 'S1' };

  it('JSON keeps exact values: big numbers and decimals as strings, ISO timestamps', async () => {
    const r = await post('/api/v1/sample_data', {
      ...base,
      sample_type: 'first',
      sample_size: 10,
      output_format: 'JSON',
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.row_count).toBe(3);
    const rows = r.json.rows as Record<string, unknown>[];
    const first = rows.find((row) => row.NOTE === 'first')!;
    expect(first.ID).toBe('12345678901234567890123456789');
    expect(first.AMOUNT).toBe('12.50');
    expect(first.UPDATED_AT).toBe('2024-01-01T10:00:00.123456');
    expect(rows.find((row) => row.ID === '3')!.AMOUNT).toBe('-7.00');
    // `first` follows the registered primary key.
    expect(rows.map((row) => row.ID)).toEqual(['2', '3', '12345678901234567890123456789']);
  });

  it('random samples the requested size', async () => {
    const r = await post('/api/v1/sample_data', { ...base, sample_type: 'random', sample_size: 2 });
    expect(r.status, r.text).toBe(200);
    expect(r.json.rows).toHaveLength(2);
  });

  it('CSV is text with a header', async () => {
    const r = await post('/api/v1/sample_data', { ...base, sample_size: 5, output_format: 'CSV' });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = r.text.trim().split('\n');
    expect(lines[0]).toBe('ID,AMOUNT,NOTE,UPDATED_AT,TAGS');
    expect(lines).toHaveLength(4);
    expect(r.text).toContain('"second, with a comma"');
    expect(r.text).toContain('12345678901234567890123456789');
  });

  it('Parquet is a Parquet file', async () => {
    const r = await post('/api/v1/sample_data', { ...base, sample_size: 5, output_format: 'parquet' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    expect(r.bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(r.bytes.subarray(-4).toString()).toBe('PAR1');
  });

  it('404 for a registered table that was never synced', async () => {
    const reg = await post('/api/v1/sync/tables/register', { table_name: 'UNSYNCED', schema_name: 'S1' });
    expect(reg.status).toBe(201);
    const r = await post('/api/v1/sample_data', { table_name: 'UNSYNCED', schema_name: 'S1' });
    expect(r.status, r.text).toBe(404);
    expect(r.json.error.code).toBe('table_not_synced');
    expect(r.json.error.field).toBe('table_name');
  });

  it('409 while another process holds the DuckDB target', async () => {
    const holder = await holdDuckDbFile(h.duckdbPath);
    try {
      const r = await post('/api/v1/sample_data', { ...base });
      expect(r.status, r.text).toBe(409);
      expect(r.json.error.message).toMatch(/target is being written/);
      const st = await get('/api/v1/sync/tables/S1/ORDERS/status');
      expect(st.status).toBe(200);
      expect(st.json.duckdb.busy).toBe(true);
    } finally {
      holder.kill('SIGTERM');
      await new Promise((r) => holder.once('exit', r));
    }
    const again = await post('/api/v1/sample_data', { ...base });
    expect(again.status).toBe(200);
  });
});

describe('schedules', () => {
  it('create, list, trigger, delete', async () => {
    const body = { table_name: 'ORDERS', schema_name: 'S1', strategy: 'full', interval_seconds: 3600 };
    const c = await post('/api/v1/sync/schedules', body);
    expect(c.status, c.text).toBe(201);
    const id = c.json.schedule_id as string;
    expect(id).toBe('tableSync-APIDB.S1.ORDERS');
    expect(c.json.overlap).toBe('skip');

    const dup = await post('/api/v1/sync/schedules', body);
    expect(dup.status, dup.text).toBe(409);

    const cron = await post('/api/v1/sync/schedules', {
      table_name: 'EVENTS',
      schema_name: 'S1',
      strategy: 'incremental',
      cron: '*/5 * * * *',
    });
    expect(cron.status, cron.text).toBe(201);

    let listed: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50; i++) {
      const l = await get('/api/v1/sync/schedules');
      expect(l.status).toBe(200);
      listed = l.json.schedules;
      if (listed.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const mine = listed.find((s) => s.schedule_id === id);
    expect(mine).toMatchObject({ table: 'APIDB.S1.ORDERS', strategy: 'full', interval_seconds: 3600, paused: false });
    expect(listed.find((s) => s.schedule_id === cron.json.schedule_id)).toMatchObject({
      cron: '*/5 * * * *',
      strategy: 'incremental',
    });

    // A scheduled run is an ordinary job: same search attributes, visible in the job list.
    await h.temporal.schedule.getHandle(id).trigger();
    let scheduled: string | undefined;
    for (let i = 0; i < 100 && !scheduled; i++) {
      const jobs = await listJobs(h.temporal, { table: 'APIDB.S1.ORDERS' });
      scheduled = jobs.find((j) => j.job_id.startsWith(`${id}-`))?.job_id;
      if (!scheduled) await new Promise((r) => setTimeout(r, 200));
    }
    expect(scheduled).toBeDefined();
    const done = await waitForJob(h.temporal, scheduled!, { timeoutMs: 90_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');

    const d = await h.request('DELETE', `/api/v1/sync/schedules/${id}`, { token });
    expect(d.status, d.text).toBe(200);
    expect(d.json.deleted).toBe(true);
    const d2 = await h.request('DELETE', `/api/v1/sync/schedules/${id}`, { token });
    expect(d2.status).toBe(404);
    const d3 = await h.request('DELETE', `/api/v1/sync/schedules/${cron.json.schedule_id}`, { token });
    expect(d3.status).toBe(200);
  });
});

/** Spawn a process that opens (and so locks) the DuckDB file; resolves once it holds it. */
async function holdDuckDbFile(file: string): Promise<ChildProcess> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const i = await DuckDBInstance.create(${JSON.stringify(file)});
    process.stdout.write('held\\n');
    setInterval(() => void i, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}
