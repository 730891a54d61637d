/**
 * tableSync end to end: the real snowflake-sdk against the emulator, a real Temporal dev server
 * (test/global-setup.ts), real PostgreSQL (freshDatabase) and real DuckDB files. Each "rig" is one
 * emulator + one worker on its own task queue and DuckDB file, so fault-injecting emulators do not
 * disturb other tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmulator, type FaultOptions, type RunningEmulator } from '../../emulator/src/index.js';
import { connectSnowflake, type SnowflakeSession } from '../../src/connectors/snowflake.js';
import { withDuckDb } from '../../src/connectors/duckdb.js';
import { createPool } from '../../src/db/index.js';
import { migrate, migrationsDir } from '../../src/db/migrate.js';
import * as S from '../../src/jobs/table-sync/sql.js';
import type { TableSyncInput, TableSyncResult } from '../../src/jobs/table-sync/contract.js';
import { SA } from '../../src/jobs/common.js';
import { ensureKeyPair } from '../../src/infra/keys.js';
import { createWorker, workflowsPath, type FloeWorker } from '../../src/worker.js';
import { progressQuery, tableSync } from '../../src/workflows/tableSync.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';
import { TEST_SNOWFLAKE_USER, testConfig, testEnv } from '../helpers/env.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'floe-tablesync-'));
let db: FreshDatabase;
let pool: pg.Pool;
let bundle: WorkflowBundle;
let nativeConnection: NativeConnection;
let clientConnection: Connection;
let client: Client;
const rigs: Rig[] = [];
let rigCount = 0;

interface Rig {
  name: string;
  emu: RunningEmulator;
  sf: SnowflakeSession;
  duckdbPath: string;
  stateDir: string;
  taskQueue: string;
  env: Record<string, string | undefined>;
  worker: FloeWorker | null;
  running: Promise<void> | null;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A rig; with `keyPair`, floe's user has a key pair made under the rig's directory (no password) and
 * floe signs in with SNOWFLAKE_JWT, else with TEST_SNOWFLAKE_USER's password.
 */
async function makeRig(faults?: FaultOptions, opts: { worker?: boolean; keyPair?: boolean } = {}): Promise<Rig> {
  const name = `rig${++rigCount}`;
  const dir = path.join(root, name);
  const key = opts.keyPair ? ensureKeyPair(path.join(dir, 'keys')) : null;
  const user = key ? { name: TEST_SNOWFLAKE_USER.name, publicKey: key.publicKey } : TEST_SNOWFLAKE_USER;
  const emu = await startEmulator({ port: 0, dataDir: path.join(dir, 'emu'), faults, user });
  const env: Record<string, string | undefined> = {
    ...(key && { SNOWFLAKE_PASSWORD: undefined, SNOWFLAKE_PRIVATE_KEY_PATH: key.privateKeyPath }),
    DATABASE_URL: db.url,
    SNOWFLAKE_ACCESS_URL: emu.url,
    SNOWFLAKE_DATABASE: 'SRC',
    SNOWFLAKE_SCHEMA: 'S',
    DUCKDB_PATH: path.join(dir, 'target.duckdb'),
    FLOE_STATE_DIR: path.join(dir, 'state'),
    FLOE_TASK_QUEUE: `floe-test-${process.pid}-${name}`,
  };
  const config = testConfig(env);
  const sf = await connectSnowflake(config.snowflake);
  const rig: Rig = {
    name,
    emu,
    sf,
    duckdbPath: config.duckdbPath,
    stateDir: config.stateDir,
    taskQueue: config.temporal.taskQueue,
    env,
    worker: null,
    running: null,
    async startWorker() {
      const config = testConfig(env);
      const worker = await createWorker({
        config,
        connection: nativeConnection,
        workflowBundle: bundle,
        pool,
        jobs: ['table-sync'],
      });
      rig.worker = worker;
      rig.running = worker.run();
    },
    async stopWorker() {
      if (rig.worker && rig.worker.getState() === 'RUNNING') rig.worker.shutdown();
      await rig.running?.catch(() => undefined);
      rig.worker = null;
      rig.running = null;
    },
    async close() {
      await rig.stopWorker();
      await sf.close();
      await emu.close();
    },
  };
  await sf.query('CREATE DATABASE IF NOT EXISTS SRC');
  await sf.query('CREATE SCHEMA IF NOT EXISTS SRC.S');
  if (opts.worker !== false) await rig.startWorker();
  rigs.push(rig);
  return rig;
}

/** Register SRC.S.<table> with the default target "SRC__S".<table>. */
async function register(table: string, pk: string[] | null, wm: string | null): Promise<string> {
  const r = await pool.query<{ table_id: string }>(
    `INSERT INTO allowed_tables (database_name, schema_name, table_name, primary_key, watermark_column, target_schema, target_table)
     VALUES ('SRC', 'S', $1, $2, $3, 'SRC__S', $1)
     ON CONFLICT (database_name, schema_name, table_name) DO UPDATE SET primary_key = excluded.primary_key RETURNING table_id`,
    [table, pk, wm],
  );
  return r.rows[0].table_id;
}

let jobSeq = 0;
async function start(
  rig: Rig,
  input: Omit<TableSyncInput, 'database' | 'schema'>,
): Promise<WorkflowHandle<typeof tableSync>> {
  return client.workflow.start(tableSync, {
    taskQueue: rig.taskQueue,
    workflowId: `tableSync-test-${process.pid}-${++jobSeq}`,
    args: [{ database: 'SRC', schema: 'S', ...input }],
  });
}

async function run(rig: Rig, input: Omit<TableSyncInput, 'database' | 'schema'>): Promise<TableSyncResult> {
  const h = await start(rig, input);
  return h.result();
}

async function duck<T = unknown[]>(rig: Rig, sql: string): Promise<T[]> {
  return withDuckDb(rig.duckdbPath, async (c) => (await c.runAndReadAll(sql)).getRowsJson() as T[]);
}

async function sourceRows(rig: Rig, sql: string): Promise<Record<string, unknown>[]> {
  return rig.sf.query(sql);
}

async function stageFiles(rig: Rig): Promise<number> {
  return (await rig.sf.query('LIST @SRC.S.FLOE_STAGE')).length;
}

function tmpJobDirs(rig: Rig): string[] {
  const d = path.join(rig.stateDir, 'tmp', 'table-sync');
  return existsSync(d) ? readdirSync(d) : [];
}

async function heartbeat(h: WorkflowHandle): Promise<{ rowsLoaded?: number } | null> {
  const d = await h.describe();
  const p = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
  return p ? (defaultPayloadConverter.fromPayload(p) as { rowsLoaded?: number }) : null;
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  db = await freshDatabase();
  pool = createPool(db.url);
  bundle = await bundleWorkflowCode({
    workflowsPath,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  clientConnection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection: clientConnection, namespace: inject('temporalNamespace') });
});

afterAll(async () => {
  for (const r of rigs) await r.close().catch(() => undefined);
  await nativeConnection?.close();
  await clientConnection?.close();
  await pool?.end();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

// Canonical text of every column of the ALLTYPES target, so comparisons are value-exact.
const ALLTYPES_SELECT = `SELECT CAST("ID" AS VARCHAR), CAST("BIG" AS VARCHAR), CAST("SMALLN" AS VARCHAR), CAST("DEC" AS VARCHAR), CAST("F" AS VARCHAR),
  "S", hex("B"), CAST("FLAG" AS VARCHAR), CAST("D" AS VARCHAR), CAST("TM" AS VARCHAR), CAST("NTZ" AS VARCHAR),
  CAST(epoch_us("TZ") AS VARCHAR), CAST(epoch_us("LTZ") AS VARCHAR), CAST("V" AS VARCHAR), "lower name",
  (SELECT string_agg(data_type, ',' ORDER BY column_index) FROM duckdb_columns() WHERE schema_name = 'SRC__S' AND table_name = 'ALLTYPES')
  FROM "SRC__S"."ALLTYPES" ORDER BY "ID"`;
const TYPES =
  'DECIMAL(38,0),DECIMAL(38,0),BIGINT,DECIMAL(12,4),DOUBLE,VARCHAR,BLOB,BOOLEAN,DATE,TIME,TIMESTAMP,TIMESTAMP WITH TIME ZONE,TIMESTAMP WITH TIME ZONE,JSON,VARCHAR';
const EXPECTED = [
  [
    '1',
    '10000000000000000000000000000000000001',
    '999999999',
    '12345678.1234',
    '0.1',
    'héllo ✓ 日本 "q" \'s',
    'DEADBEEF',
    'true',
    '0001-01-01',
    '23:59:59.123456',
    '9999-12-31 23:59:59.999999',
    String(Date.UTC(2024, 0, 1, 4, 15) * 1000),
    String(Date.UTC(2024, 5, 1, 12) * 1000 + 123456),
    '{"a":[1,2,{"b":null}],"n":12345678901234567890}',
    'lower',
    TYPES,
  ],
  [
    '2',
    '-99999999999999999999999999999999999999',
    '-999999999',
    '-0.0001',
    '-1.5e+300',
    '',
    '',
    'false',
    '9999-12-31',
    '00:00:00',
    '0001-01-01 00:00:00',
    String(Date.UTC(1969, 11, 31, 23, 59, 59) * 1000 + 999999 + 8 * 3600 * 1_000_000),
    String(Date.UTC(2262, 3, 12) * 1000),
    '[]',
    '',
    TYPES,
  ],
  ['3', null, null, null, null, null, null, null, null, null, null, null, null, null, null, TYPES],
];

describe('tableSync full refresh', () => {
  let rig: Rig;
  let tableId: string;
  beforeAll(async () => {
    rig = await makeRig();
    await rig.sf
      .query(`CREATE TABLE SRC.S.ALLTYPES (ID NUMBER(38,0), BIG NUMBER(38,0), SMALLN NUMBER(9,0), DEC NUMBER(12,4), F FLOAT, S VARCHAR,
      B BINARY, FLAG BOOLEAN, D DATE, TM TIME, NTZ TIMESTAMP_NTZ, TZ TIMESTAMP_TZ, LTZ TIMESTAMP_LTZ, V VARIANT, "lower name" VARCHAR)`);
    await rig.sf
      .query(`INSERT INTO SRC.S.ALLTYPES (ID, BIG, SMALLN, DEC, F, S, FLAG, D, TM, NTZ, TZ, LTZ, "lower name") VALUES
      (1, 10000000000000000000000000000000000001, 999999999, 12345678.1234, 0.1, 'héllo ✓ 日本 "q" ''s', TRUE, '0001-01-01', '23:59:59.123456',
       '9999-12-31 23:59:59.999999', '2024-01-01 10:00:00 +05:45', '2024-06-01 12:00:00.123456', 'lower'),
      (2, -99999999999999999999999999999999999999, -999999999, -0.0001, -1.5e300, '', FALSE, '9999-12-31', '00:00:00',
       '0001-01-01 00:00:00', '1969-12-31 23:59:59.999999 -08:00', '2262-04-12 00:00:00', ''),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    await rig.sf.query(
      `UPDATE SRC.S.ALLTYPES SET V = PARSE_JSON('{"a":[1,2,{"b":null}],"n":12345678901234567890}'), B = TO_BINARY('DEADBEEF', 'HEX') WHERE ID = 1`,
    );
    await rig.sf.query(`UPDATE SRC.S.ALLTYPES SET V = PARSE_JSON('[]'), B = TO_BINARY('', 'HEX') WHERE ID = 2`);
    tableId = await register('ALLTYPES', ['ID'], null);
  });

  for (const method of ['stage', 'stream'] as const) {
    it(`by ${method}: every type value-exact, status recorded, nothing left behind`, async () => {
      const h = await start(rig, { tableId, table: 'ALLTYPES', strategy: 'full', method, primaryKey: ['ID'] });
      const r = (await h.result()) as TableSyncResult;
      expect(r).toMatchObject({
        sourceRows: 3,
        rowsRead: 3,
        rowsInserted: 3,
        rowsUpdated: 0,
        rowsInTarget: 3,
        method,
        strategy: 'full',
        target: '"SRC__S"."ALLTYPES"',
        watermark: null,
      });
      expect(await duck(rig, ALLTYPES_SELECT)).toEqual(EXPECTED);
      expect(await h.query(progressQuery)).toEqual({ phase: 'done', rowsLoaded: 3, rowsTotal: 3 });
      const d = await h.describe();
      expect(d.typedSearchAttributes.get(SA.status)).toBe('completed');
      expect(d.typedSearchAttributes.get(SA.rows)).toBe(3);
      expect(d.typedSearchAttributes.get(SA.rowsRead)).toBe(3);
      expect(d.typedSearchAttributes.get(SA.table)).toBe('SRC.S.ALLTYPES');
      expect(d.typedSearchAttributes.get(SA.jobKind)).toBe('table_sync');
      const st = await pool.query(
        'SELECT last_sync_status, row_count, last_job_id FROM table_sync_status WHERE table_id = $1',
        [tableId],
      );
      expect(st.rows[0]).toMatchObject({ last_sync_status: 'completed', row_count: '3', last_job_id: h.workflowId });
      const md = await pool.query('SELECT column_count FROM table_metadata WHERE table_id = $1', [tableId]);
      expect(md.rows[0].column_count).toBe(15);
      expect(
        await duck(
          rig,
          `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_floe\\_staging%' ESCAPE '\\'`,
        ),
      ).toEqual([]);
      expect(await stageFiles(rig)).toBe(0);
      expect(tmpJobDirs(rig)).toEqual([]);
    });
  }

  // One row per batch: every batch goes through the two alternating landing tables, each applied
  // while the next is read (unpaged: one statement; paged: one statement per page).
  for (const primaryKey of [[], ['ID']]) {
    it(`by stream in batches of one row, ${primaryKey.length ? 'paged on the primary key' : 'unpaged'}: value-exact, nothing left behind`, async () => {
      const h = await start(rig, {
        tableId,
        table: 'ALLTYPES',
        strategy: 'full',
        method: 'stream',
        primaryKey,
        batchRows: 1,
      });
      expect(await h.result()).toMatchObject({ sourceRows: 3, rowsRead: 3, rowsInTarget: 3, method: 'stream' });
      expect(await duck(rig, ALLTYPES_SELECT)).toEqual(EXPECTED);
      expect(
        await duck(rig, `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_floe%' ESCAPE '\\'`),
      ).toEqual([]);
    });
  }

  it('auto picks stream below AUTO_STAGE_MIN_ROWS', async () => {
    const r = await run(rig, { tableId, table: 'ALLTYPES', strategy: 'full', method: 'auto' });
    expect(r.method).toBe('stream');
    expect(await duck(rig, ALLTYPES_SELECT)).toEqual(EXPECTED);
  });

  it('a missing table fails fast (TableNotFound, no retries) naming the table', async () => {
    const h = await start(rig, { tableId: 'none', table: 'NOPE', strategy: 'full', method: 'stage' });
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('TableNotFound');
    expect(cause.message).toMatch(/table sync of SRC\.S\.NOPE failed: .*SRC\.S\.NOPE/);
    expect((await h.describe()).typedSearchAttributes.get(SA.status)).toBe('failed');
  });
});

describe('tableSync signed in with a key pair', () => {
  let rig: Rig;
  let tableId: string;
  beforeAll(async () => {
    rig = await makeRig(undefined, { keyPair: true });
    await rig.sf.query('CREATE TABLE SRC.S.KEYED (ID NUMBER(38,0), NAME VARCHAR)');
    await rig.sf.query(`INSERT INTO SRC.S.KEYED VALUES (1, 'a'), (2, 'b')`);
    tableId = await register('KEYED', ['ID'], null);
  });

  it('syncs with SNOWFLAKE_JWT, keeps working across a rotation to RSA_PUBLIC_KEY_2, and fails naming the credential once the key is no longer registered', async () => {
    expect(testConfig(rig.env).snowflake).toMatchObject({
      authenticator: 'SNOWFLAKE_JWT',
      username: TEST_SNOWFLAKE_USER.name,
    });
    expect(testConfig(rig.env).snowflake.password).toBeUndefined();
    const sync = () => run(rig, { tableId, table: 'KEYED', strategy: 'full', method: 'stage', primaryKey: ['ID'] });
    expect(await sync()).toMatchObject({ rowsRead: 2, rowsInTarget: 2 });
    expect(await duck(rig, 'SELECT CAST("ID" AS VARCHAR), "NAME" FROM "SRC__S"."KEYED" ORDER BY 1')).toEqual([
      ['1', 'a'],
      ['2', 'b'],
    ]);

    // Rotation: register the new key as RSA_PUBLIC_KEY_2, move floe to it, drop the old one.
    const oldKeyPath = rig.env.SNOWFLAKE_PRIVATE_KEY_PATH!;
    const next = ensureKeyPair(path.join(root, rig.name, 'next-keys'));
    const bare = (pem: string) => pem.replace(/-----(BEGIN|END) PUBLIC KEY-----|\s+/g, '');
    await rig.sf.query(`ALTER USER ${TEST_SNOWFLAKE_USER.name} SET RSA_PUBLIC_KEY_2 = '${bare(next.publicKey)}'`);
    rig.env.SNOWFLAKE_PRIVATE_KEY_PATH = next.privateKeyPath;
    await rig.stopWorker();
    await rig.startWorker();
    await rig.sf.query(`INSERT INTO SRC.S.KEYED VALUES (3, 'c')`);
    expect(await sync()).toMatchObject({ rowsInTarget: 3 });
    await rig.sf.query(`ALTER USER ${TEST_SNOWFLAKE_USER.name} UNSET RSA_PUBLIC_KEY`);
    expect(await sync()).toMatchObject({ rowsInTarget: 3 });

    // The old key is no longer registered: the job fails at once, naming how floe signed in, not the key.
    rig.env.SNOWFLAKE_PRIVATE_KEY_PATH = oldKeyPath;
    await rig.stopWorker();
    await rig.startWorker();
    const h = await start(rig, { tableId, table: 'KEYED', strategy: 'full', method: 'stage', primaryKey: ['ID'] });
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('AuthenticationFailed');
    expect(cause.message).toMatch(/SNOWFLAKE_JWT as floe \(key pair\).*390144 JWT token is invalid/);
    const history = JSON.stringify(await h.fetchHistory());
    for (const secret of [readFileSync(oldKeyPath, 'utf8'), readFileSync(next.privateKeyPath, 'utf8')]) {
      const body = secret.split('\n')[1];
      expect(cause.message).not.toContain(body);
      expect(history).not.toContain(body);
    }
    expect(await duck(rig, 'SELECT count(*)::VARCHAR FROM "SRC__S"."KEYED"')).toEqual([['3']]);
  });
});

describe('tableSync incremental', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await makeRig();
  });

  for (const method of ['stage', 'stream'] as const) {
    it(`by ${method}: MERGE keeps boundary ties, re-reads late rows within the lag, mirrors the high-water mark`, async () => {
      const table = `EV_${method.toUpperCase()}`;
      const tableId = await register(table, ['ID'], 'UPDATED_AT');
      await rig.sf.query(`CREATE TABLE SRC.S.${table} (ID NUMBER(38,0), UPDATED_AT TIMESTAMP_NTZ, V VARCHAR)`);
      await rig.sf
        .query(`INSERT INTO SRC.S.${table} VALUES (1, '2024-01-01 00:00:01', 'a'), (2, '2024-01-01 00:00:02', 'b'),
        (3, '2024-01-01 00:00:03', 'c'), (4, '2024-01-01 00:00:04', 'd'), (5, '2024-01-01 00:00:05', 'e'),
        (6, '2024-01-01 00:00:05', 'f'), (7, '2024-01-01 00:00:05', 'g')`);
      const input = {
        tableId,
        table,
        strategy: 'incremental' as const,
        method,
        watermarkColumn: 'UPDATED_AT',
        primaryKey: ['ID'],
        lagSeconds: 10,
        batchRows: 2,
      };
      const compare = async () => {
        const src = (await sourceRows(rig, `SELECT ID, UPDATED_AT, V FROM SRC.S.${table} ORDER BY ID`)).map((r) => [
          String(r.ID),
          String(r.V),
        ]);
        const dst = await duck<[string, string]>(
          rig,
          `SELECT CAST("ID" AS VARCHAR), "V" FROM "SRC__S"."${table}" ORDER BY "ID"`,
        );
        expect(dst).toEqual(src);
        const dups = await duck(rig, `SELECT "ID" FROM "SRC__S"."${table}" GROUP BY 1 HAVING count(*) > 1`);
        expect(dups).toEqual([]);
      };
      const r1 = await run(rig, input);
      expect(r1).toMatchObject({
        sourceRows: null,
        rowsRead: 7,
        rowsInserted: 7,
        rowsUpdated: 0,
        rowsInTarget: 7,
        watermark: '2024-01-01 00:00:05.000000',
      });
      await compare();

      // A row tied on the boundary value committed late, a late row within the lag, an update, a new row.
      await rig.sf.query(
        `INSERT INTO SRC.S.${table} VALUES (8, '2024-01-01 00:00:05', 'h'), (9, '2024-01-01 00:00:02', 'i'), (10, '2024-01-01 00:00:07', 'j')`,
      );
      await rig.sf.query(`UPDATE SRC.S.${table} SET V = 'c2', UPDATED_AT = '2024-01-01 00:00:06' WHERE ID = 3`);
      const r2 = await run(rig, input);
      // The 10 s lag re-reads every row: 3 new (8, 9, 10), the 7 known ones (3 changed) updated.
      expect(r2).toMatchObject({
        rowsRead: 10,
        rowsInserted: 3,
        rowsUpdated: 7,
        rowsInTarget: 10,
        watermark: '2024-01-01 00:00:07.000000',
      });
      await compare();

      // Nothing new: idempotent.
      const r3 = await run(rig, input);
      expect(r3).toMatchObject({
        rowsRead: 10,
        rowsInserted: 0,
        rowsUpdated: 10,
        rowsInTarget: 10,
        watermark: '2024-01-01 00:00:07.000000',
      });
      await compare();
      const st = await pool.query(
        'SELECT high_water_mark, last_sync_status FROM table_sync_status WHERE table_id = $1',
        [tableId],
      );
      expect(st.rows[0]).toEqual({ high_water_mark: '2024-01-01 00:00:07.000000', last_sync_status: 'completed' });
      const state = await duck(rig, `SELECT high_water_mark FROM "_floe"."state" WHERE target = '"SRC__S"."${table}"'`);
      expect(state).toEqual([['2024-01-01 00:00:07.000000']]);
    });
  }

  it('without a primary key appends strictly past the high-water mark, never twice', async () => {
    await rig.sf.query(`CREATE TABLE SRC.S.LOGS (SEQ NUMBER(38,0), MSG VARCHAR)`);
    await rig.sf.query(`INSERT INTO SRC.S.LOGS VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    const input = {
      tableId: 'logs',
      table: 'LOGS',
      strategy: 'incremental' as const,
      method: 'stream' as const,
      watermarkColumn: 'SEQ',
    };
    expect(await run(rig, input)).toMatchObject({
      rowsRead: 3,
      rowsInserted: 3,
      rowsUpdated: 0,
      rowsInTarget: 3,
      watermark: '3',
    });
    await rig.sf.query(`INSERT INTO SRC.S.LOGS VALUES (4, 'd'), (5, 'e')`);
    expect(await run(rig, { ...input, method: 'stage' })).toMatchObject({
      rowsRead: 2,
      rowsInserted: 2,
      rowsInTarget: 5,
      watermark: '5',
    });
    expect(await run(rig, input)).toMatchObject({ rowsRead: 0, rowsInserted: 0, rowsInTarget: 5, watermark: '5' });
    expect(await duck(rig, `SELECT CAST("SEQ" AS VARCHAR), "MSG" FROM "SRC__S"."LOGS" ORDER BY 1`)).toEqual([
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
      ['4', 'd'],
      ['5', 'e'],
    ]);

    // A lag would re-read rows before the high-water mark and, without a key to MERGE on, append them twice.
    const h = await start(rig, { ...input, lagSeconds: 10 });
    const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as { type?: string }).type).toBe('InvalidRequest');
    expect(err.cause?.message).toMatch(/table sync of SRC\.S\.LOGS failed: lag_seconds needs a primary key/);
    expect(await duck(rig, `SELECT count(*)::INT FROM "SRC__S"."LOGS"`)).toEqual([[5]]);
  });

  for (const method of ['stage', 'stream'] as const) {
    it(`by ${method}: counts that cannot be right (a target whose primary key is not unique) fail the job, nothing committed`, async () => {
      const table = `DUPKEY_${method.toUpperCase()}`;
      const tableId = await register(table, ['ID'], 'TS');
      await rig.sf.query(`CREATE TABLE SRC.S.${table} (ID NUMBER(38,0), TS NUMBER(38,0), V VARCHAR)`);
      await rig.sf.query(`INSERT INTO SRC.S.${table} VALUES (1, 1, 'a'), (2, 2, 'b')`);
      const input = {
        tableId,
        table,
        strategy: 'incremental' as const,
        method,
        watermarkColumn: 'TS',
        primaryKey: ['ID'],
      };
      expect(await run(rig, input)).toMatchObject({ rowsRead: 2, rowsInserted: 2, rowsInTarget: 2, watermark: '2' });
      // Someone wrote a second row for key 2 into the target; the next MERGE of key 2 would change both.
      await withDuckDb(rig.duckdbPath, (c) => c.run(`INSERT INTO "SRC__S"."${table}" VALUES (2, 0, 'copy')`));
      await rig.sf.query(`UPDATE SRC.S.${table} SET V = 'b2', TS = 3 WHERE ID = 2`);
      await rig.sf.query(`INSERT INTO SRC.S.${table} VALUES (3, 4, 'c')`);
      const h = await start(rig, input);
      const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err.cause as { type?: string }).type).toBe('VerificationFailed');
      expect(err.cause?.message).toMatch(
        new RegExp(
          `table sync of SRC\\.S\\.${table} failed: .*MERGE changed 3 target rows for 2 distinct keys .*not unique.*nothing committed`,
        ),
      );
      expect(await duck(rig, `SELECT CAST("ID" AS VARCHAR), "V" FROM "SRC__S"."${table}" ORDER BY 1, 2`)).toEqual([
        ['1', 'a'],
        ['2', 'b'],
        ['2', 'copy'],
      ]);
      expect(
        await duck(rig, `SELECT high_water_mark FROM "_floe"."state" WHERE target = '"SRC__S"."${table}"'`),
      ).toEqual([['2']]);
      expect(
        (
          await pool.query('SELECT last_sync_status, high_water_mark FROM table_sync_status WHERE table_id = $1', [
            tableId,
          ])
        ).rows[0],
      ).toEqual({ last_sync_status: 'failed', high_water_mark: '2' });
    });
  }

  it('evolves the target (new column) and refuses an incompatible type change, target intact', async () => {
    await rig.sf.query(`CREATE TABLE SRC.S.EVO (ID NUMBER(38,0), TS TIMESTAMP_NTZ, V VARCHAR)`);
    await rig.sf.query(`INSERT INTO SRC.S.EVO VALUES (1, '2024-01-01 00:00:01', 'a')`);
    const input = {
      tableId: 'evo',
      table: 'EVO',
      strategy: 'incremental' as const,
      method: 'stream' as const,
      watermarkColumn: 'TS',
      primaryKey: ['ID'],
    };
    await run(rig, input);
    await rig.sf.query(`ALTER TABLE SRC.S.EVO ADD COLUMN EXTRA NUMBER(10,2)`);
    await rig.sf.query(`INSERT INTO SRC.S.EVO VALUES (2, '2024-01-01 00:00:02', 'b', 1.25)`);
    await run(rig, input);
    expect(
      await duck(rig, `SELECT CAST("ID" AS VARCHAR), "V", CAST("EXTRA" AS VARCHAR) FROM "SRC__S"."EVO" ORDER BY 1`),
    ).toEqual([
      ['1', 'a', null],
      ['2', 'b', '1.25'],
    ]);
    await rig.sf.query(`CREATE OR REPLACE TABLE SRC.S.EVO (ID NUMBER(38,0), TS TIMESTAMP_NTZ, V NUMBER(38,0))`);
    await rig.sf.query(`INSERT INTO SRC.S.EVO VALUES (3, '2024-01-01 00:00:03', 7)`);
    const h = await start(rig, input);
    const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as { type?: string }).type).toBe('SchemaMismatch');
    expect(err.cause?.message).toMatch(/table sync of SRC\.S\.EVO failed: .*V: target has VARCHAR/);
    expect(await duck(rig, `SELECT count(*)::INT FROM "SRC__S"."EVO"`)).toEqual([[2]]);
  });
});

describe('registrations made before targets were recorded (migrations/0007)', () => {
  it('keep their target; of two sharing one, the one synced last keeps it, the other moves to <DB>__<SCHEMA> and loads afresh', async () => {
    const mdb = await freshDatabase({ migrated: false });
    const mpool = createPool(mdb.url);
    try {
      const before = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql') && f < '0007').length;
      await migrate(mdb.url, { count: before });
      const rig = await makeRig(undefined, { worker: false });
      for (const sql of [
        'CREATE DATABASE SRC2',
        'CREATE SCHEMA SRC2.S',
        'CREATE TABLE SRC.S.T (ID NUMBER(38,0), TS NUMBER(38,0), V VARCHAR)',
        `INSERT INTO SRC.S.T VALUES (1, 1, 'db1'), (2, 2, 'db1'), (3, 3, 'db1')`,
        'CREATE TABLE SRC2.S.T (ID NUMBER(38,0), TS NUMBER(38,0), V VARCHAR)',
        `INSERT INTO SRC2.S.T VALUES (1, 1, 'db2'), (2, 2, 'db2')`,
      ])
        await rig.sf.query(sql);
      const reg = async (database: string) =>
        (
          await mpool.query<{ table_id: string }>(
            `INSERT INTO allowed_tables (database_name, schema_name, table_name, primary_key, watermark_column) VALUES ($1, 'S', 'T', '{ID}', 'TS') RETURNING table_id`,
            [database],
          )
        ).rows[0].table_id;
      const a = await reg('SRC');
      const b = await reg('SRC2');
      const config = testConfig({ ...rig.env, DATABASE_URL: mdb.url });
      let seq = 0;
      const sync = async (
        database: string,
        tableId: string,
        strategy: 'full' | 'incremental',
        target?: { schema: string; table: string },
      ) => {
        const w = await createWorker({ config, connection: nativeConnection, workflowBundle: bundle, pool: mpool });
        const h = await client.workflow.start(tableSync, {
          taskQueue: rig.taskQueue,
          workflowId: `tableSync-test-${process.pid}-migr-${++seq}`,
          args: [
            {
              tableId,
              database,
              schema: 'S',
              table: 'T',
              strategy,
              method: 'stream',
              watermarkColumn: 'TS',
              primaryKey: ['ID'],
              ...(target ? { target } : {}),
            } satisfies TableSyncInput,
          ],
        });
        return (await w.runUntil(h.result())) as TableSyncResult;
      };
      // What floe did before: both registrations wrote "S"."T"; SRC2's sync ran last.
      await sync('SRC', a, 'full', { schema: 'S', table: 'T' });
      await sync('SRC2', b, 'incremental', { schema: 'S', table: 'T' });
      expect(await duck(rig, `SELECT DISTINCT "V" FROM "S"."T"`)).toEqual([['db2']]);

      await migrate(mdb.url);
      const regs =
        await mpool.query(`SELECT database_name, target_schema, target_table, (SELECT count(*)::int FROM table_sync_status s WHERE s.table_id = a.table_id) AS status
        FROM allowed_tables a ORDER BY database_name`);
      expect(regs.rows).toEqual([
        { database_name: 'SRC', target_schema: 'SRC__S', target_table: 'T', status: 0 },
        { database_name: 'SRC2', target_schema: 'S', target_table: 'T', status: 1 },
      ]);

      // Inputs without a target (Schedules created before) resolve the registration's.
      expect(await sync('SRC', a, 'incremental')).toMatchObject({
        target: '"SRC__S"."T"',
        rowsRead: 3,
        rowsInserted: 3,
        rowsInTarget: 3,
      });
      await rig.sf.query(`INSERT INTO SRC2.S.T VALUES (3, 3, 'db2')`);
      // SRC2 carries on from its high-water mark in "S"."T" (its _floe.state row): it reads the new row
      // and the one on the high-water mark (re-read for ties), not the whole table.
      expect(await sync('SRC2', b, 'incremental')).toMatchObject({
        target: '"S"."T"',
        rowsRead: 2,
        rowsInserted: 1,
        rowsUpdated: 1,
        rowsInTarget: 3,
        watermark: '3',
      });
      expect(await duck(rig, `SELECT "V", count(*)::INT FROM "SRC__S"."T" GROUP BY 1`)).toEqual([['db1', 3]]);
      expect(await duck(rig, `SELECT "V", count(*)::INT FROM "S"."T" GROUP BY 1`)).toEqual([['db2', 3]]);
    } finally {
      await mpool.end();
      await mdb.drop();
    }
  });

  it('an incremental sync into a target another registration last wrote replaces it instead of merging into foreign rows', async () => {
    const rig = await makeRig();
    await rig.sf.query('CREATE TABLE SRC.S.SHARED (ID NUMBER(38,0), TS NUMBER(38,0), V VARCHAR)');
    await rig.sf.query(`INSERT INTO SRC.S.SHARED VALUES (1, 1, 'mine')`);
    const tableId = await register('SHARED', ['ID'], 'TS');
    await withDuckDb(rig.duckdbPath, async (c) => {
      await c.run('CREATE SCHEMA "SRC__S"');
      await c.run(
        `CREATE TABLE "SRC__S"."SHARED" AS SELECT 9::DECIMAL(38,0) AS "ID", 9::DECIMAL(38,0) AS "TS", 'foreign' AS "V"`,
      );
      await c.run(`CREATE SCHEMA "_floe"`);
      await c.run(S.createStateTableSql);
      await c.run(S.upsertStateSql, [
        '"SRC__S"."SHARED"',
        'another-registration',
        'incremental',
        'TS',
        '9',
        'old-job',
        1,
      ]);
    });
    const r = await run(rig, {
      tableId,
      table: 'SHARED',
      strategy: 'incremental',
      method: 'stage',
      watermarkColumn: 'TS',
      primaryKey: ['ID'],
    });
    expect(r).toMatchObject({ rowsRead: 1, rowsInserted: 1, rowsInTarget: 1, watermark: '1' });
    expect(await duck(rig, `SELECT CAST("ID" AS VARCHAR), "V" FROM "SRC__S"."SHARED"`)).toEqual([['1', 'mine']]);
    expect(await duck(rig, `SELECT table_id FROM "_floe"."state" WHERE target = '"SRC__S"."SHARED"'`)).toEqual([
      [tableId],
    ]);
  });
});

describe('tableSync failures', () => {
  it('a failed stage transfer (GET fails) leaves the target intact, no stage files, no local files', async () => {
    const rig = await makeRig({
      failStatement: {
        pattern: /^\s*GET\b/i,
        nth: 1,
        code: '100038',
        sqlState: '22018',
        message: 'injected GET failure',
      },
    });
    const tableId = await register('FAILME', ['ID'], null);
    await rig.sf.query(`CREATE TABLE SRC.S.FAILME (ID NUMBER(38,0), V VARCHAR)`);
    await rig.sf.query(`INSERT INTO SRC.S.FAILME VALUES (1, 'old'), (2, 'old')`);
    await run(rig, { tableId, table: 'FAILME', strategy: 'full', method: 'stream' });
    await rig.sf.query(`UPDATE SRC.S.FAILME SET V = 'new'`);
    const h = await start(rig, { tableId, table: 'FAILME', strategy: 'full', method: 'stage' });
    const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause?.message).toMatch(/table sync of SRC\.S\.FAILME failed: .*injected GET failure/);
    expect(await duck(rig, `SELECT CAST("ID" AS VARCHAR), "V" FROM "SRC__S"."FAILME" ORDER BY 1`)).toEqual([
      ['1', 'old'],
      ['2', 'old'],
    ]);
    expect(await stageFiles(rig)).toBe(0);
    expect(tmpJobDirs(rig)).toEqual([]);
    const st = await pool.query('SELECT last_sync_status, last_error FROM table_sync_status WHERE table_id = $1', [
      tableId,
    ]);
    expect(st.rows[0].last_sync_status).toBe('failed');
    expect(st.rows[0].last_error).toMatch(/SRC\.S\.FAILME/);
    expect((await h.describe()).typedSearchAttributes.get(SA.status)).toBe('failed');
  });

  describe('slow source', () => {
    let rig: Rig;
    const ROWS = 400;
    beforeAll(async () => {
      rig = await makeRig({ latencyMs: 100 });
      await rig.sf.query(`CREATE TABLE SRC.S.SLOW (ID NUMBER(38,0), V VARCHAR)`);
      const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'old-${i + 1}')`).join(', ');
      await rig.sf.query(`INSERT INTO SRC.S.SLOW VALUES ${values}`);
    });

    it('a cancelled job leaves the previous data intact and records cancelled', async () => {
      const tableId = await register('SLOW', ['ID'], null);
      await run(rig, {
        tableId,
        table: 'SLOW',
        strategy: 'full',
        method: 'stream',
        primaryKey: ['ID'],
        batchRows: 100,
      });
      await rig.sf.query(`UPDATE SRC.S.SLOW SET V = 'new'`);
      const h = await start(rig, {
        tableId,
        table: 'SLOW',
        strategy: 'full',
        method: 'stream',
        primaryKey: ['ID'],
        batchRows: 5,
        heartbeatTimeoutSeconds: 2,
      });
      await waitUntil('some rows streamed', async () => ((await heartbeat(h))?.rowsLoaded ?? 0) >= 30);
      await h.cancel();
      const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(err.cause?.name).toBe('CancelledFailure');
      expect(
        await duck(rig, `SELECT count(*)::INT, count(*) FILTER (WHERE "V" LIKE 'old-%')::INT FROM "SRC__S"."SLOW"`),
      ).toEqual([[ROWS, ROWS]]);
      expect(
        await duck(rig, `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_floe%' ESCAPE '\\'`),
      ).toEqual([]);
      expect(tmpJobDirs(rig)).toEqual([]);
      expect((await h.describe()).typedSearchAttributes.get(SA.status)).toBe('cancelled');
      const st = await pool.query('SELECT last_sync_status FROM table_sync_status WHERE table_id = $1', [tableId]);
      expect(st.rows[0].last_sync_status).toBe('cancelled');
    });

    it('a source changing between the pages of a stream full refresh fails the job (counts disagree), previous data intact', async () => {
      await rig.sf.query(`CREATE TABLE SRC.S.SHIFTY AS SELECT * FROM SRC.S.SLOW`);
      const tableId = await register('SHIFTY', ['ID'], null);
      const input = {
        tableId,
        table: 'SHIFTY',
        strategy: 'full' as const,
        method: 'stream' as const,
        primaryKey: ['ID'],
        batchRows: 100,
      };
      expect(await run(rig, input)).toMatchObject({ sourceRows: ROWS, rowsRead: ROWS, rowsInTarget: ROWS });
      const h = await start(rig, { ...input, batchRows: 5, heartbeatTimeoutSeconds: 2 });
      await waitUntil('some rows streamed', async () => ((await heartbeat(h))?.rowsLoaded ?? 0) >= 30);
      // Pages of 5 rows take ~200 ms each here (100 ms per request): the read has ~70 pages to go.
      await rig.sf.query(`INSERT INTO SRC.S.SHIFTY VALUES (${ROWS + 1}, 'late')`);
      const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err.cause as { type?: string }).type).toBe('VerificationFailed');
      expect(err.cause?.message).toMatch(
        new RegExp(`table sync of SRC\\.S\\.SHIFTY failed: .*COUNT\\(\\*\\) went from ${ROWS} to ${ROWS + 1}`),
      );
      expect(await duck(rig, `SELECT count(*)::INT, max("ID")::INT FROM "SRC__S"."SHIFTY"`)).toEqual([[ROWS, ROWS]]);
      expect(
        await duck(
          rig,
          `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_floe\\_staging%' ESCAPE '\\'`,
        ),
      ).toEqual([]);
    });

    it('a worker killed mid-transfer: a new worker resumes and the job finishes with the right rows', async () => {
      const taskQueue = `${rig.taskQueue}-kill`;
      const duckdbPath = path.join(root, `${rig.name}-kill.duckdb`);
      const env = {
        ...process.env,
        ...testEnv({ ...rig.env, FLOE_TASK_QUEUE: taskQueue, DUCKDB_PATH: duckdbPath }),
      } as NodeJS.ProcessEnv;
      const child: ChildProcess = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(process.cwd(), 'src', 'worker.ts'), '--jobs', 'table-sync'],
        { env, detached: true, stdio: 'ignore' },
      );
      try {
        const h = await client.workflow.start(tableSync, {
          taskQueue,
          workflowId: `tableSync-test-${process.pid}-kill`,
          args: [
            {
              tableId: 'slow-kill',
              database: 'SRC',
              schema: 'S',
              table: 'SLOW',
              strategy: 'full',
              method: 'stream',
              primaryKey: ['ID'],
              batchRows: 10,
              heartbeatTimeoutSeconds: 3,
            } satisfies TableSyncInput,
          ],
        });
        await waitUntil(
          'the child worker to stream rows',
          async () => ((await heartbeat(h))?.rowsLoaded ?? 0) >= 50,
          90_000,
        );
        process.kill(-child.pid!, 'SIGKILL');
        const config = testConfig({ ...rig.env, FLOE_TASK_QUEUE: taskQueue, DUCKDB_PATH: duckdbPath });
        const lines: string[] = [];
        const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
        const w = await createWorker({
          config,
          connection: nativeConnection,
          workflowBundle: bundle,
          pool,
          logger,
          jobs: ['table-sync'],
        });
        const r = (await w.runUntil(h.result())) as TableSyncResult;
        expect(r).toMatchObject({ rowsRead: ROWS, rowsInTarget: ROWS });
        const rows = await withDuckDb(duckdbPath, async (c) =>
          (
            await c.runAndReadAll(
              `SELECT count(*)::INT, count(DISTINCT "ID")::INT, min("ID")::INT, max("ID")::INT FROM "SRC__S"."SLOW"`,
            )
          ).getRowsJson(),
        );
        expect(rows).toEqual([[ROWS, ROWS, 1, ROWS]]);
        // The new attempt resumed from what the dead worker had committed to the staging table.
        const resumed = lines
          .map((l) => JSON.parse(l) as { msg?: string; rowsLoaded?: number })
          .find((l) => l.msg === 'resuming full refresh stream from staging');
        expect(resumed?.rowsLoaded).toBeGreaterThanOrEqual(50);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  });
});
