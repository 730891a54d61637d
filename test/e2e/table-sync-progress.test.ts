/**
 * Table sync progress while it runs, against the real pieces: the emulator through snowflake-sdk,
 * PostgreSQL, the run's Temporal dev server, an in-process worker (heartbeat details forwarded every
 * 200 ms instead of 5 s, so a short test sees several) and the API.
 *
 * - `GET /api/v1/sync/jobs/{id}` of a stream full refresh shows `rowsLoaded` growing batch by batch
 *   with `rowsTotal` known, and ending equal to the job's final count.
 * - The stage method's transfer activity (run in Temporal's mock activity environment, which records
 *   every heartbeat) reports the unload's row count, the bytes of the files, and rows as DuckDB's load
 *   progresses; cancelled while it loads, it leaves the previous target and no staging table behind.
 * - A retried stage transfer whose unload had finished (heartbeat details) loads the files still on the
 *   stage without unloading again, and unloads again when the path holds none.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  createTableSyncActivities,
  type SourceDescription,
  type TransferResult,
} from '../../src/activities/table-sync/index.js';
import type { TransferDetails } from '../../src/activities/table-sync/types.js';
import { startTableSync, waitForJob } from '../../src/client/tableSync.js';
import { withDuckDb } from '../../src/connectors/duckdb.js';
import type { TableSyncJobProgress } from '../../src/jobs/table-sync/contract.js';
import type { ApiHarness } from '../helpers/api-harness.js';
import {
  emulatorSession,
  runOnEmulator,
  startTableSyncStack,
  type TableSyncStack,
} from '../helpers/table-sync-stack.js';
import { stageOf } from '../../src/activities/table-sync/types.js';
import { jobSegment, unloadToStage } from '../../src/connectors/snowflake-stage.js';
import { snowflakeStagePath } from '../../src/sql/quote.js';
import * as S from '../../src/jobs/table-sync/sql.js';

const DB = 'PROGDB';
const ROWS = 60_000;
const BATCH_ROWS = 2_000;
/** Enough rows for several unloaded files: DuckDB's COPY rotates files between row groups of 122,880 rows. */
const STAGED_ROWS = 300_000;

let stack: TableSyncStack;
let h: ApiHarness;
let token: string;

beforeAll(async () => {
  stack = await startTableSyncStack({
    setup: [
      `CREATE DATABASE ${DB}`,
      `CREATE SCHEMA ${DB}.S`,
      `CREATE TABLE ${DB}.S.EVENTS (ID NUMBER(38,0), NAME VARCHAR, AMOUNT NUMBER(12,2))`,
      `INSERT INTO ${DB}.S.EVENTS SELECT SEQ4() + 1, 'event-' || SEQ4(), (SEQ4() % 10000) / 100 FROM TABLE(GENERATOR(ROWCOUNT => ${ROWS}))`,
      `CREATE TABLE ${DB}.S.STAGED AS SELECT SEQ4() + 1 AS ID, 'staged-' || SEQ4() AS NAME FROM TABLE(GENERATOR(ROWCOUNT => ${STAGED_ROWS}))`,
    ],
    env: { SNOWFLAKE_DATABASE: DB, SNOWFLAKE_SCHEMA: 'S', FLOE_TASK_QUEUE: `floe-test-progress-${process.pid}` },
    heartbeatThrottle: '200ms',
  });
  h = stack.h;
  token = await h.login();
});

afterAll(async () => {
  await stack?.close();
});

describe('progress of a running table sync', () => {
  it('GET /sync/jobs/{id} shows rowsLoaded growing per batch and ending at the final count', async () => {
    const reg = await h.request('POST', '/api/v1/sync/tables/register', {
      token,
      body: { table_name: 'EVENTS', schema_name: 'S' },
    });
    expect(reg.status, reg.text).toBe(201);
    // Started through the client to choose small batches (the API keeps the default of 50,000 rows).
    const { jobId } = await startTableSync(
      h.temporal,
      {
        tableId: reg.json.table_id,
        database: DB,
        schema: 'S',
        table: 'EVENTS',
        target: { schema: reg.json.target_schema, table: reg.json.target_table },
        strategy: 'full',
        method: 'stream',
        batchRows: BATCH_ROWS,
      },
      { taskQueue: h.config.temporal.taskQueue },
    );
    const seen: TableSyncJobProgress[] = [];
    for (;;) {
      const g = await h.request('GET', `/api/v1/sync/jobs/${jobId}`, { token });
      expect(g.status, g.text).toBe(200);
      if (g.json.status !== 'running' && g.json.status !== 'pending') break;
      if (g.json.progress) seen.push(g.json.progress);
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = await waitForJob(h.temporal, jobId, { timeoutMs: 120_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');
    expect(done.stats?.rowsRead).toBe(ROWS);

    const streamed = seen.filter((p) => p.phase === 'stream');
    const rows = streamed.map((p) => p.rowsLoaded);
    // Growing: never down, and seen strictly between the start and the end (per batch, not at the end only).
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(
      rows.some((n) => n > 0 && n < ROWS),
      JSON.stringify(seen),
    ).toBe(true);
    expect(rows.every((n) => n % BATCH_ROWS === 0 && n <= ROWS)).toBe(true);
    // The total is the source's COUNT(*) read with the first rows; no bytes for the stream method.
    for (const p of streamed) {
      if (p.rowsLoaded > 0) expect(p).toMatchObject({ rowsTotal: ROWS, bytes: 0 });
    }
    expect(streamed.some((p) => p.rowsPerSecond !== null && p.rowsPerSecond > 0)).toBe(true);
    expect(seen[0]?.phase).toMatch(/^(schema|transfer|stream)$/);
  });

  const stagedSource = { database: DB, schema: 'S', table: 'STAGED' };
  const stagedTarget = { schema: 'PROGRESS', table: 'STAGED' };
  /**
   * A stage transfer's activities (small files, progress read every 2 ms) on a fresh local directory,
   * the source's description, and the transfer's input for a job id.
   */
  const stageRig = async () => {
    const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'floe-progress-tmp-'));
    onTestFinished(() => rmSync(tmpDir, { recursive: true, force: true }));
    const activities = createTableSyncActivities({
      snowflake: h.config.snowflake,
      duckdbPath: h.config.duckdbPath,
      tmpDir,
      // Files of about 200 KB: a file per row group.
      maxFileSizeBytes: 200_000,
      loadProgressEveryMs: 2,
    });
    const desc: SourceDescription = await new MockActivityEnvironment().run(activities.tableSyncDescribe, {
      tableId: 'progress-stage',
      ...stagedSource,
    });
    const input = (jobId: string) => ({
      jobId,
      tableId: 'progress-stage',
      source: stagedSource,
      target: stagedTarget,
      strategy: 'full' as const,
      method: 'stage' as const,
      columns: desc.columns,
    });
    return { tmpDir, activities, desc, input };
  };
  const targetRows = () =>
    withDuckDb(h.config.duckdbPath, async (c) =>
      Number((await c.runAndReadAll('SELECT count(*) FROM "PROGRESS"."STAGED"')).getRows()[0][0]),
    );

  it('the stage method reports the unload, the downloaded bytes and rows as the load progresses', async () => {
    const { activities, input } = await stageRig();
    const env = new MockActivityEnvironment();
    const beats: TransferDetails[] = [];
    env.on('heartbeat', (d: TransferDetails) => beats.push(d));
    const r: TransferResult = await env.run(activities.tableSyncTransfer, input('progress-stage'));
    expect(r).toMatchObject({ method: 'stage', rowsInTarget: STAGED_ROWS });
    expect(r.files).toBeGreaterThan(1);
    expect(r.bytes).toBeGreaterThan(0);
    expect(beats[0]).toMatchObject({ phase: 'unload', rowsLoaded: 0, bytes: 0 });
    expect(beats.find((b) => b.phase === 'download')).toMatchObject({
      rowsLoaded: 0,
      rowsTotal: STAGED_ROWS,
      bytes: r.bytes,
    });
    const loads = beats.filter((b) => b.phase === 'load' && b.rowsLoaded > 0);
    // Growing, never past the unload's row count, the last one at it (the INSERT's own count).
    const rows = loads.map((b) => b.rowsLoaded);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual([...rows].sort((x, y) => x - y));
    expect(rows.every((n) => n <= STAGED_ROWS)).toBe(true);
    expect(rows.at(-1)).toBe(STAGED_ROWS);
    expect(loads.every((b) => b.rowsTotal === STAGED_ROWS && b.bytes === r.bytes)).toBe(true);
    expect(await targetRows()).toBe(STAGED_ROWS);
  });

  it('a stage transfer cancelled while it loads stops: previous target kept, no staging table, no local files', async () => {
    // Runs after the test above: the target holds STAGED_ROWS rows; the source now has one more.
    await runOnEmulator(stack.emulator, [`INSERT INTO ${DB}.S.STAGED VALUES (${STAGED_ROWS + 1}, 'late')`]);
    const { tmpDir, activities, input } = await stageRig();
    const env = new MockActivityEnvironment();
    // Cancelled at the first report of the load: the INSERT is interrupted (or, had it just finished,
    // the check after it stops the transfer before the swap).
    env.on('heartbeat', (d: TransferDetails) => {
      if (d.phase === 'load' && d.rowsLoaded > 0) env.cancel();
    });
    const err = await env
      .run(activities.tableSyncTransfer, input('progress-stage-cancelled'))
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(await targetRows()).toBe(STAGED_ROWS);
    expect(
      await withDuckDb(h.config.duckdbPath, async (c) =>
        (
          await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_floe%' ESCAPE '\\'`)
        ).getRows(),
      ),
    ).toEqual([]);
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('a retried stage transfer resumes at the GET when its files are still on the stage, and unloads again when not', async () => {
    const { tmpDir, activities, desc, input } = await stageRig();
    const stagePath = (jobId: string) =>
      snowflakeStagePath(
        stageOf({ snowflake: h.config.snowflake, duckdbPath: '', tmpDir }, stagedSource),
        jobSegment(jobId),
      );
    // What the previous attempt left: an unload of the first 1,000 rows only (the source has 300,001),
    // so a transfer that loads 1,000 rows used these files rather than unloading again.
    const sf = await emulatorSession(stack.emulator);
    onTestFinished(() => sf.close());
    const out = await unloadToStage(
      sf,
      stagePath('progress-resumed'),
      S.unloadSelect(stagedSource, desc.columns, '"ID" <= 1000'),
    );
    expect(out.rowsUnloaded).toBe(1000);
    const details = (bytes: number): TransferDetails => ({
      phase: 'download',
      rowsLoaded: 0,
      rowsTotal: 1000,
      bytes,
      unloaded: { rows: 1000, bytes },
    });
    const resumed: TransferResult = await new MockActivityEnvironment({
      heartbeatDetails: details(out.outputBytes),
    }).run(activities.tableSyncTransfer, input('progress-resumed'));
    expect(resumed).toMatchObject({ rowsInTarget: 1000, bytes: out.outputBytes });
    expect(await targetRows()).toBe(1000);
    // The same details, nothing on the stage (removed since): the unload runs again, over every row.
    const again: TransferResult = await new MockActivityEnvironment({
      heartbeatDetails: details(out.outputBytes),
    }).run(activities.tableSyncTransfer, input('progress-unloaded-again'));
    expect(again).toMatchObject({ rowsInTarget: STAGED_ROWS + 1 });
    expect(await targetRows()).toBe(STAGED_ROWS + 1);
    // Both attempts removed their stage path.
    expect(await sf.query(`LIST ${stagePath('progress-resumed')}`)).toEqual([]);
  });
});
