/**
 * Prometheus metrics end to end, each process scraped where it serves them: the API in this process
 * (real app, PostgreSQL, Temporal dev server, the Snowflake emulator) and a worker as a child process
 * (`src/worker.ts --jobs table-sync,cache-refresh` with WORKER_METRICS_PORT, behind METRICS_TOKEN).
 * A real table sync, cache refresh and routed queries move the job counters on the worker's endpoint
 * and the request, cache-query, staleness and queue metrics on the API's; the API labels requests by
 * route template, never by the raw URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/src/index.js';
import { waitForJob } from '../../src/client/tableSync.js';
import { freePort } from '../../src/infra/process.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { runOnEmulator, TEST_SNOWFLAKE_USER, testEnv } from '../helpers/env.js';
import { parseExposition, sample } from '../helpers/metrics.js';

const DB = 'METRICSDB';
const TABLE = `${DB}.S1.ORDERS`;
const METRICS_TOKEN = 'metrics-token-for-the-e2e-test-0123456789';

let tmp: string;
let emulator: RunningEmulator;
let h: ApiHarness;
let worker: ChildProcess;
let workerOutput = '';
let workerMetricsUrl: string;
let token: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'floe-metrics-'));
  emulator = await startEmulator({ port: 0, dataDir: path.join(tmp, 'emulator'), user: TEST_SNOWFLAKE_USER });
  await runOnEmulator(emulator.url, [
    `CREATE DATABASE ${DB}`,
    `CREATE SCHEMA ${DB}.S1`,
    `CREATE TABLE ${TABLE} (ID NUMBER(10,0), AMOUNT NUMBER(12,2))`,
    `INSERT INTO ${TABLE} VALUES (1, 10.00), (2, 20.00), (3, 30.00)`,
  ]);
  // One configuration for both processes, as a deployment gives them.
  const shared = {
    SNOWFLAKE_ACCESS_URL: emulator.url,
    SNOWFLAKE_ACCOUNT: 'floe',
    SNOWFLAKE_DATABASE: DB,
    FLOE_TASK_QUEUE: `floe-metrics-${process.pid}`,
    FLOE_STATE_DIR: path.join(tmp, 'state'),
    METRICS_AUTH: 'bearer',
    METRICS_TOKEN,
  };
  h = await startApiHarness(shared);
  token = await h.login();
  const port = await freePort();
  workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  const env = testEnv({
    ...shared,
    DATABASE_URL: h.db.url,
    DUCKDB_PATH: h.duckdbPath,
    WORKER_METRICS_PORT: String(port),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  });
  worker = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(process.cwd(), 'src/worker.ts'), '--jobs', 'table-sync,cache-refresh'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const started = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      workerOutput += d.toString();
      if (workerOutput.includes('worker started')) resolve();
    };
    worker.stdout!.on('data', onData);
    worker.stderr!.on('data', onData);
    worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before starting:\n${workerOutput}`)));
  });
  await started;
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }
  await h?.close();
  await emulator?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const post = (p: string, body: unknown) => h.request('POST', p, { token, body });
const scrape = async (url: string, bearer: string | null = METRICS_TOKEN) => {
  const r = await fetch(url, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
  return { status: r.status, text: await r.text() };
};
const apiMetrics = async () => (await scrape(`${h.api.url}/metrics`)).text;

describe('metrics after real jobs', () => {
  it('the worker serves the job metrics of a table sync and a cache refresh it ran', async () => {
    expect((await post('/api/v1/sync/tables/register', { table_name: 'ORDERS', schema_name: 'S1' })).status).toBe(201);
    const start = await post('/api/v1/sync/start', { table_name: 'ORDERS', schema_name: 'S1', strategy: 'full' });
    expect(start.status, start.text).toBe(202);
    expect((await waitForJob(h.temporal, start.json.job_id, { timeoutMs: 90_000 })).status).toBe('completed');
    expect((await h.request('GET', `/api/v1/sync/jobs/${start.json.job_id}`, { token })).status).toBe(200);

    const source = { driver_type: 'snowflake', credentials_ref: 'default' };
    expect(
      (await post('/api/v1/cache/sources', { ...source, source_name: 'emu', passthrough_enabled: true })).status,
    ).toBe(201);
    const cache = { source_name: 'emu', source_query: `SELECT COUNT(*) AS N FROM ${TABLE}` };
    expect((await post('/api/v1/caches', { ...cache, cache_name: 'orders_count' })).status).toBe(201);
    const refresh = await post('/api/v1/caches/orders_count/refresh', { force: true });
    expect(refresh.json.result, refresh.text).toBe('REFRESHED');

    expect((await scrape(workerMetricsUrl, null)).status).toBe(401);
    const w = await scrape(workerMetricsUrl);
    expect(w.status).toBe(200);
    // Sink calls are processed after the workflow task that ends the run: poll until they are in.
    await expect
      .poll(async () =>
        sample((await scrape(workerMetricsUrl)).text, 'floe_jobs_completed_total', { job: 'cache-refresh' }),
      )
      .toBe(1);
    const text = (await scrape(workerMetricsUrl)).text;
    const sync = { job: 'table-sync', table: TABLE };
    expect(sample(text, 'floe_jobs_started_total', sync)).toBe(1);
    expect(sample(text, 'floe_jobs_completed_total', sync)).toBe(1);
    expect(sample(text, 'floe_jobs_failed_total', sync)).toBe(0);
    expect(sample(text, 'floe_job_rows_total', sync)).toBe(3);
    expect(sample(text, 'floe_job_duration_seconds_count', { job: 'table-sync', outcome: 'completed' })).toBe(1);
    const refreshed = { job: 'cache-refresh', table: 'orders_count' };
    expect(sample(text, 'floe_jobs_started_total', refreshed)).toBe(1);
    expect(sample(text, 'floe_job_rows_total', refreshed)).toBe(1);
    expect(sample(text, 'floe_cache_refreshes_total', { cache: 'orders_count', result: 'refreshed' })).toBe(1);
    // PostgreSQL-backed metrics are the API's: a worker does not repeat them.
    expect(text).not.toContain('floe_execution_upload_queue_items');
    expect(text).not.toContain('sync_success_count');

    // ...and the API process ran no job: its job counters did not move.
    expect(sample(await apiMetrics(), 'floe_jobs_completed_total')).toBe(0);
  });

  it('the API serves request durations by route template, and cache hits, passthroughs and misses', async () => {
    const hit = await post('/api/v1/query', { sql: 'SELECT * FROM orders_count' });
    expect(hit.json.route, hit.text).toBe('cache');
    const through = await post('/api/v1/query', { sql: `SELECT ID FROM ${TABLE}`, source_name: 'emu' });
    expect(through.json.route, through.text).toBe('passthrough');
    const closed = { driver_type: 'snowflake', credentials_ref: 'default', source_name: 'closed' };
    expect((await post('/api/v1/cache/sources', closed)).status).toBe(201);
    const unready = { cache_name: 'never_refreshed', source_name: 'closed', source_query: `SELECT ID FROM ${TABLE}` };
    expect((await post('/api/v1/caches', unready)).status).toBe(201);
    const miss = await post('/api/v1/query', { sql: 'SELECT * FROM never_refreshed' });
    expect(miss.status, miss.text).toBe(409);

    expect((await scrape(`${h.api.url}/metrics`, null)).status).toBe(401);
    const text = await apiMetrics();
    expect(sample(text, 'floe_cache_queries_total', { outcome: 'hit' })).toBe(1);
    expect(sample(text, 'floe_cache_queries_total', { outcome: 'passthrough' })).toBe(1);
    expect(sample(text, 'floe_cache_queries_total', { outcome: 'miss' })).toBe(1);
    expect(sample(text, 'floe_cache_hits_total', { cache: 'orders_count' })).toBe(1);
    const staleness = parseExposition(text).filter((s) => s.name === 'floe_cache_staleness_seconds');
    expect(staleness.map((s) => s.labels.cache)).toEqual(['orders_count']);
    expect(staleness[0]!.value).toBeGreaterThanOrEqual(0);

    const requests = { name: 'floe_http_request_duration_seconds_count' };
    expect(sample(text, requests.name, { method: 'POST', route: '/api/v1/sync/start', status: '202' })).toBe(1);
    expect(sample(text, requests.name, { method: 'GET', route: '/api/v1/sync/jobs/:job_id', status: '200' })).toBe(1);
    expect(sample(text, requests.name, { method: 'POST', route: '/api/v1/query', status: '409' })).toBe(1);
    const routes = parseExposition(text)
      .filter((s) => s.name === requests.name)
      .map((s) => s.labels.route!);
    for (const route of routes) expect(route).not.toMatch(/tableSync-|orders_count\/refresh$/);
    expect(routes).toContain('/api/v1/caches/:name/refresh');
    // The watermark sync's gauges keep their names.
    expect(text).toContain('# TYPE sync_success_count gauge');
  });

  it('reads the execution-upload queue depth and latency from PostgreSQL at scrape time', async () => {
    const before = await apiMetrics();
    expect(sample(before, 'floe_execution_upload_queue_items', { status: 'pending' })).toBe(0);
    const executionId = `metrics-${randomUUID()}`;
    // The queue trigger enqueues a completed execution.
    await h.pool.query(
      `INSERT INTO workflow_executions (execution_id, user_id, status, results, completed_at) VALUES ($1, $2, 'completed', '[]', now())`,
      [executionId, randomUUID()],
    );
    const queued = await apiMetrics();
    expect(sample(queued, 'floe_execution_upload_queue_items', { status: 'pending' })).toBe(1);
    expect(sample(queued, 'floe_execution_upload_queue_oldest_pending_seconds')).toBeGreaterThanOrEqual(0);
    // Completed 90 s after it was queued (no upload worker runs here: the row is what an upload writes).
    await h.pool.query(
      `UPDATE snowflake_sync_queue SET status = 'completed', created_at = now() - interval '90 seconds',
              processed_at = now(), updated_at = now() WHERE execution_id = $1`,
      [executionId],
    );
    const latency = 'floe_execution_upload_queue_latency_seconds';
    await expect.poll(async () => sample(await apiMetrics(), `${latency}_count`), { timeout: 15_000 }).toBe(1);
    const after = await apiMetrics();
    expect(sample(after, `${latency}_bucket`, { le: '60' })).toBe(0);
    expect(sample(after, `${latency}_bucket`, { le: '120' })).toBe(1);
    expect(sample(after, 'floe_execution_upload_queue_items', { status: 'completed' })).toBe(1);
    expect(sample(after, 'floe_execution_upload_queue_items', { status: 'pending' })).toBe(0);
  });
});
