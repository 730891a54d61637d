/**
 * Execution upload end to end: real PostgreSQL (trigger, queue, configurations), two emulators (two
 * users' Snowflake accounts) through the real snowflake-sdk, a real Temporal dev server and workers, and
 * the API router behind floe's auth. The drain's bound, the file path and recovery (a killed worker,
 * the Schedule) are in execution-upload-recovery.test.ts.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUploadApi, type UploadApi } from '../helpers/execution-upload-api.js';
import { makeUploadRig, rowsOf, type TestUser, type UploadRig } from '../helpers/execution-upload-rig.js';

let rig: UploadRig;
let worker: { stop(): Promise<void> };
let alice: TestUser;
let bob: TestUser;
let api: UploadApi;
const SCHEDULE_ID = `execution-upload-test-${process.pid}`;

beforeAll(async () => {
  rig = await makeUploadRig('e2e');
  worker = await rig.startWorker();
  alice = await rig.addUser(0, 'ALICE_DB');
  bob = await rig.addUser(1, 'BOB_DB');
  api = await startUploadApi(rig, SCHEDULE_ID);
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await rig?.close();
});

const call = (method: string, route: string, body?: unknown, auth?: boolean) => api.call(method, route, body, auth);
const item = (executionId: string) => rig.item(executionId);

async function queueCount(executionId: string): Promise<number> {
  const { rows } = await rig.pool.query('SELECT count(*)::int AS n FROM snowflake_sync_queue WHERE execution_id = $1', [
    executionId,
  ]);
  return rows[0].n;
}

describe('execution upload', () => {
  it('the trigger queues an execution once, when it becomes completed', async () => {
    const id = await rig.addExecution(alice.userId, rowsOf(3), { status: 'running' });
    expect(await queueCount(id)).toBe(0);
    await rig.pool.query(
      `UPDATE workflow_executions SET status = 'completed', completed_at = now() WHERE execution_id = $1`,
      [id],
    );
    expect(await queueCount(id)).toBe(1);
    const first = await item(id);
    expect(first).toMatchObject({
      status: 'pending',
      retry_count: 0,
      max_retries: 3,
      user_id: alice.userId,
      source: 'trigger',
    });
    // Updated again and again, even re-completed: still one item.
    await rig.pool.query(`UPDATE workflow_executions SET status = 'completed', row_count = 3 WHERE execution_id = $1`, [
      id,
    ]);
    await rig.pool.query(`UPDATE workflow_executions SET status = 'running' WHERE execution_id = $1`, [id]);
    await rig.pool.query(`UPDATE workflow_executions SET status = 'completed' WHERE execution_id = $1`, [id]);
    expect(await queueCount(id)).toBe(1);
    expect((await item(id)).id).toBe(first.id);
    // Inserted as completed: queued too. Failed executions are not.
    const direct = await rig.addExecution(alice.userId, rowsOf(1));
    expect(await queueCount(direct)).toBe(1);
    const failed = await rig.addExecution(alice.userId, null, { status: 'failed' });
    expect(await queueCount(failed)).toBe(0);
    const r = await rig.drain();
    expect(r).toMatchObject({ claimed: 2, completed: 2, failed: 0 });
  });

  it('uploads two users to their own Snowflake, with inferred column types', async () => {
    // JSON text: 12345678901234567890123 must not pass through a JS number.
    const results = JSON.stringify([
      {
        id: 1,
        name: 'a',
        amount: 12.5,
        big: 'BIG',
        ok: true,
        day: '2024-01-15',
        at: '2024-01-15T10:00:00+05:45',
        local: '2024-01-15 10:00:00',
        meta: { k: [1, 2] },
        maybe: null,
      },
      {
        id: 2,
        name: 'b "quoted", comma',
        amount: 0.125,
        big: 1,
        ok: false,
        day: '2024-02-29',
        at: '2024-01-15T10:00:00Z',
        local: '2024-01-15 11:00:00.5',
        meta: [1],
        maybe: null,
      },
    ]).replace('"BIG"', '12345678901234567890123');
    const a = await rig.addExecution(alice.userId, results, { completedAt: '2024-03-01T12:00:00Z' });
    const b = await rig.addExecution(
      bob.userId,
      {
        columns: ['Zeta', 'alpha', 'mixed'],
        rows: [
          ['z', 1, 1],
          ['y', 2, 'two'],
        ],
      },
      { completedAt: '2024-03-02T12:00:00Z' },
    );
    const r = await rig.drain();
    expect(r).toMatchObject({ completed: 2, failed: 0, skipped: 0, rows: 4 });
    const ia = await item(a);
    const tableA = `WORKFLOW_EXECUTION_20240301_${a.toUpperCase()}`;
    expect(ia).toMatchObject({
      status: 'completed',
      snowflake_table: `ALICE_DB.RESULTS.${tableA}`,
      load_method: 'binds',
    });
    const { rows: ex } = await rig.pool.query(
      'SELECT snowflake_table, snowflake_synced_at, snowflake_rows FROM workflow_executions WHERE execution_id = $1',
      [a],
    );
    expect(ex[0].snowflake_table).toBe(`ALICE_DB.RESULTS.${tableA}`);
    expect(ex[0].snowflake_synced_at).toBeInstanceOf(Date);

    const cols = await alice.sf.query(
      `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM ALICE_DB.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = '${tableA}' ORDER BY ORDINAL_POSITION`,
    );
    const types = Object.fromEntries(
      cols.map((c) => [
        c.COLUMN_NAME,
        `${c.DATA_TYPE}${c.NUMERIC_SCALE !== null && c.NUMERIC_SCALE !== undefined ? `(${c.NUMERIC_PRECISION},${c.NUMERIC_SCALE})` : ''}`,
      ]),
    );
    expect(types).toMatchObject({
      ID: 'NUMBER(38,0)',
      NAME: 'TEXT',
      AMOUNT: 'NUMBER(38,3)',
      BIG: 'NUMBER(38,0)',
      OK: 'BOOLEAN',
      DAY: 'DATE',
      AT: 'TIMESTAMP_TZ',
      LOCAL: 'TIMESTAMP_NTZ',
      META: 'VARIANT',
      MAYBE: 'TEXT',
    });
    const rowsA = await alice.sf.query(
      `SELECT ID, NAME, AMOUNT, BIG::VARCHAR AS BIG, OK, DAY::VARCHAR AS DAY, META::VARCHAR AS META FROM ALICE_DB.RESULTS.${tableA} ORDER BY ID`,
    );
    expect(rowsA.map((r) => ({ ...r, META: JSON.parse(String(r.META)) }))).toEqual([
      {
        ID: '1',
        NAME: 'a',
        AMOUNT: '12.500',
        BIG: '12345678901234567890123',
        OK: true,
        DAY: '2024-01-15',
        META: { k: [1, 2] },
      },
      { ID: '2', NAME: 'b "quoted", comma', AMOUNT: '0.125', BIG: '1', OK: false, DAY: '2024-02-29', META: [1] },
    ]);
    const ts = await alice.sf.query(`SELECT "AT", "LOCAL" FROM ALICE_DB.RESULTS.${tableA} ORDER BY ID`);
    const epoch = (v: unknown) => (v as { getEpochSeconds(): number }).getEpochSeconds();
    expect(ts.map((t) => [epoch(t.AT), epoch(t.LOCAL)])).toEqual([
      [Date.UTC(2024, 0, 15, 4, 15) / 1000, Date.UTC(2024, 0, 15, 10) / 1000],
      [Date.UTC(2024, 0, 15, 10) / 1000, Date.UTC(2024, 0, 15, 11) / 1000],
    ]);

    // Bob's rows are in Bob's emulator only, column order kept, mixed scalars as text.
    const tableB = `WORKFLOW_EXECUTION_20240302_${b.toUpperCase()}`;
    expect(await bob.sf.query(`SELECT * FROM BOB_DB.RESULTS.${tableB} ORDER BY ZETA DESC`)).toEqual([
      { ZETA: 'z', ALPHA: '1', MIXED: '1' },
      { ZETA: 'y', ALPHA: '2', MIXED: 'two' },
    ]);
    await expect(alice.sf.query(`SELECT * FROM BOB_DB.RESULTS.${tableB}`)).rejects.toThrow();
    await expect(bob.sf.query(`SELECT * FROM ALICE_DB.RESULTS.${tableA}`)).rejects.toThrow();
  });

  it('skips a user without a Snowflake configuration, with the reason', async () => {
    const nobody = '00000000-0000-4000-8000-000000000001';
    const id = await rig.addExecution(nobody, rowsOf(2));
    const r = await rig.drain();
    expect(r).toMatchObject({ claimed: 1, skipped: 1, completed: 0 });
    expect(await item(id)).toMatchObject({
      status: 'skipped',
      error_message: `no active Snowflake configuration for user ${nobody}`,
    });
  });

  /** Secrets of the configurations made through the API (scanned for in histories and logs at the end). */
  const apiSecrets: string[] = [];

  it('uploads with whichever credential the configuration made through the API holds: password, key pair, programmatic access token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const passphrase = `phrase-${randomUUID()}`;
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString();
    await alice.sf.query('CREATE DATABASE IF NOT EXISTS CAROL_DB');
    await alice.sf.query('CREATE SCHEMA IF NOT EXISTS CAROL_DB.RESULTS');
    await alice.sf.query(`CREATE USER carol_pw PASSWORD = 'carol-pw'`);
    await alice.sf.query(
      `CREATE USER carol_kp RSA_PUBLIC_KEY = '${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}' TYPE = SERVICE`,
    );
    await alice.sf.query('CREATE USER carol_pat TYPE = SERVICE');
    const [{ token_secret: pat }] = await alice.sf.query<{ token_secret: string }>(
      'ALTER USER carol_pat ADD PROGRAMMATIC ACCESS TOKEN floe',
    );
    apiSecrets.push('carol-pw', passphrase, pem.split('\n')[1]!, pat);
    const signIns: Record<string, unknown>[] = [
      { account: 'acct_carol', user: 'carol_pw', authenticator: 'SNOWFLAKE', password: 'carol-pw' },
      {
        account: 'acct_carol',
        user: 'carol_kp',
        authenticator: 'SNOWFLAKE_JWT',
        private_key: pem,
        private_key_passphrase: passphrase,
      },
      { account: 'acct_carol', user: 'carol_pat', authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: pat },
    ];
    for (const signIn of signIns) {
      const userId = randomUUID();
      const put = await call('PUT', '/config', {
        user_id: userId,
        ...signIn,
        database: 'CAROL_DB',
        schema: 'RESULTS',
        access_url: rig.emus[0].url,
      });
      expect(put.status).toBe(200);
      expect(put.json.authenticator).toBe(signIn.authenticator);
      const id = await rig.addExecution(userId, rowsOf(4, String(signIn.authenticator)));
      const r = await rig.drain();
      expect({ authenticator: signIn.authenticator, ...r }).toMatchObject({
        authenticator: signIn.authenticator,
        claimed: 1,
        completed: 1,
        failed: 0,
      });
      const done = await item(id);
      expect(done.status).toBe('completed');
      expect(await alice.sf.query(`SELECT COUNT(*) AS N FROM ${String(done.snowflake_table)}`)).toEqual([{ N: '4' }]);
    }
  });

  it('an upload with a wrong credential fails with the Snowflake code, naming the configuration and not the secret', async () => {
    const userId = randomUUID();
    const wrong = `wrong-${randomUUID()}`;
    apiSecrets.push(wrong);
    const put = await call('PUT', '/config', {
      user_id: userId,
      account: 'acct_carol',
      user: 'carol_pw',
      authenticator: 'SNOWFLAKE',
      password: wrong,
      database: 'CAROL_DB',
      schema: 'RESULTS',
      access_url: rig.emus[0].url,
    });
    expect(put.status).toBe(200);
    const id = await rig.addExecution(userId, rowsOf(2, 'wrong'));
    const r = await rig.drain();
    expect(r).toMatchObject({ claimed: 1, completed: 0, failed: 1 });
    const failed = await item(id);
    expect(failed.status).toBe('failed');
    expect(failed.error_message).toContain(
      `the Snowflake configuration of user ${userId}: Snowflake sign-in failed (SNOWFLAKE as carol_pw (password)`,
    );
    expect(failed.error_message).toContain('390100');
    expect(String(failed.error_message)).not.toContain(wrong);
  });

  it('retries a failing upload 3 times, fails it, and the retry route repairs it', async () => {
    const id = await rig.addExecution(alice.userId, rowsOf(10, 'f'));
    let attempts = 0;
    rig.hooks.beforeLoad = (i) => {
      if (i.executionId === id) {
        attempts++;
        throw new Error(`warehouse suspended (attempt ${i.attempt})`);
      }
    };
    let syncId: string;
    try {
      const r = await rig.drain();
      expect(r).toMatchObject({ claimed: 1, failed: 1 });
      expect(attempts).toBe(4); // the first attempt + 3 retries
      const it1 = await item(id);
      syncId = String(it1.id);
      expect(it1).toMatchObject({
        status: 'failed',
        retry_count: 3,
        attempts: 4,
        error_message: 'warehouse suspended (attempt 4)',
      });
    } finally {
      rig.hooks.beforeLoad = undefined;
    }
    // Seen by the API.
    expect((await call('GET', '/stats')).json.failed.count).toBeGreaterThanOrEqual(1);
    const failed = await call('GET', '/failed?limit=10');
    expect(failed.status).toBe(200);
    expect(failed.json.failed.find((f: { execution_id: string }) => f.execution_id === id)).toMatchObject({
      sync_id: syncId,
      retry_count: 3,
      max_retries: 3,
    });
    expect((await call('GET', '/failed?limit=0')).status).toBe(400);
    expect((await call('GET', '/stats', undefined, false)).status).toBe(401);
    // Repair: the warehouse is back; retry through the API, then the drain uploads it.
    const retried = await call('POST', `/retry/${syncId}`);
    expect(retried).toMatchObject({
      status: 200,
      json: { sync_id: syncId, status: 'pending', retried: true, drain_triggered: false },
    });
    expect(await item(id)).toMatchObject({ status: 'pending', retry_count: 0, error_message: null });
    expect((await call('POST', `/retry/${syncId}`)).status).toBe(409);
    expect((await call('POST', '/retry/00000000-0000-4000-8000-00000000abcd')).status).toBe(404);
    expect((await call('POST', '/retry/not-a-uuid')).status).toBe(400);
    const r2 = await rig.drain();
    expect(r2).toMatchObject({ claimed: 1, completed: 1 });
    const st = await call('GET', `/execution/${id}/sync-status`);
    expect(st.json).toMatchObject({
      execution_id: id,
      synced: true,
      snowflake_rows: 10,
      sync: { status: 'completed', attempts: 5 },
    });
    expect((await call('GET', '/execution/nope/sync-status')).status).toBe(404);
    const q = await call('GET', '/queue?status=completed&limit=500');
    expect(q.json.items.some((i: { execution_id: string }) => i.execution_id === id)).toBe(true);
  });

  it('backfills executions completed before the trigger existed', async () => {
    await rig.pool.query('ALTER TABLE workflow_executions DISABLE TRIGGER trigger_queue_universal_snowflake_sync');
    const old: string[] = [];
    try {
      for (let i = 0; i < 3; i++)
        old.push(
          await rig.addExecution(bob.userId, rowsOf(4, `old${i}`), { completedAt: `2023-06-0${i + 1}T00:00:00Z` }),
        );
    } finally {
      await rig.pool.query('ALTER TABLE workflow_executions ENABLE TRIGGER trigger_queue_universal_snowflake_sync');
    }
    for (const id of old) expect(await queueCount(id)).toBe(0);
    const dry = await call('POST', '/backfill', { dry_run: true, user_id: bob.userId });
    expect(dry.json).toMatchObject({ dry_run: true, queued: 0 });
    expect(dry.json.execution_ids).toEqual(old);
    expect((await call('POST', '/backfill', { limit: 'x' })).status).toBe(400);
    const bf = await call('POST', '/backfill', { user_id: bob.userId });
    expect(bf.json).toMatchObject({ queued: 3, execution_ids: old });
    expect((await call('POST', '/backfill', { user_id: bob.userId })).json.queued).toBe(0);
    for (const id of old) expect(await item(id)).toMatchObject({ status: 'pending', source: 'backfill' });
    const r = await rig.drain();
    expect(r).toMatchObject({ claimed: 3, completed: 3 });
    const t = await bob.sf.query(
      `SELECT COUNT(*) AS N FROM BOB_DB.RESULTS.WORKFLOW_EXECUTION_20230601_${old[0].toUpperCase()}`,
    );
    expect(t[0].N).toBe('4');
  });

  it('no secret in any workflow history or log line', async () => {
    const { rows } = await rig.pool.query<{ execution_id: string }>('SELECT execution_id FROM snowflake_sync_queue');
    const { rows: enc } = await rig.pool.query<{ secret_encrypted: string }>(
      'SELECT secret_encrypted FROM snowflake_configurations',
    );
    const secrets = [
      alice.password,
      bob.password,
      ...apiSecrets,
      rig.keyHex,
      rig.key.current.toString('base64'),
      ...enc.map((e) => e.secret_encrypted),
    ];
    const scanned = await rig.historiesText();
    // The scan reads decoded payloads (it sees execution ids and table names) …
    expect(scanned).toContain(rows[0].execution_id);
    expect(scanned).toContain('WORKFLOW_EXECUTION_');
    // … and finds no password, ciphertext or key; nor do the activities' logs.
    const logs = rig.logLines.join('');
    expect(logs).toContain('execution uploaded');
    for (const s of secrets) {
      expect(scanned.includes(s)).toBe(false);
      expect(logs.includes(s)).toBe(false);
    }
  });
});
