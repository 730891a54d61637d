/**
 * Watermark sync end to end: real PostgreSQL (source and control plane), the emulator through the
 * real snowflake-sdk, a real Temporal dev server and worker.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tableWorkflowId } from '../../src/jobs/watermark-sync/contract.js';
import { getWatermark, listErrors } from '../../src/jobs/watermark-sync/store.js';
import { registerTransform } from '../../src/jobs/watermark-sync/transforms.js';
import { watermarkSync } from '../../src/workflows/watermarkSync.js';
import { cfg, makeRig, type WmRig } from '../helpers/watermark-sync-rig.js';

let rig: WmRig;
let worker: { stop(): Promise<void> };

beforeAll(async () => {
  rig = await makeRig('e2e');
  worker = await rig.startWorker();
});

afterAll(async () => {
  await worker?.stop();
  await rig?.close();
});

/** Target rows as plain text, ordered by the first column. */
async function target(table: string, cols: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const r of rig.sf.stream(`SELECT ${cols} FROM ANALYTICS.S.${table} ORDER BY 1`, undefined, {
    fetchAsString: ['Number', 'JSON', 'Buffer'],
  }))
    rows.push(r as Record<string, unknown>);
  const text = (v: unknown): string | null => {
    if (v === null || v === undefined) return null;
    const ts = v as { getEpochSeconds?: () => number; getNanoSeconds?: () => number };
    if (typeof ts.getEpochSeconds === 'function')
      return `${ts.getEpochSeconds()}.${String(ts.getNanoSeconds!()).padStart(9, '0')}`;
    if (v instanceof Date) return v.toISOString();
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])));
}

async function targetCount(table: string): Promise<{ n: number; distinct: number }> {
  const r = await rig.sf.query(`SELECT COUNT(*) AS N, COUNT(DISTINCT ID) AS D FROM ANALYTICS.S.${table}`);
  return { n: Number(r[0].N), distinct: Number(r[0].D) };
}

describe('watermark sync core', () => {
  it('inserts, then updates, with rows tied on the boundary watermark; a re-run changes nothing', async () => {
    await rig.pool.query(
      `CREATE TABLE public.users (id int PRIMARY KEY, email text, amount numeric, big numeric(38,0), ts timestamptz, payload jsonb, data bytea, updated_at timestamptz NOT NULL)`,
    );
    // Five rows share one watermark value; batch_size 2 must page through them on (updated_at, id).
    await rig.pool.query(`INSERT INTO public.users
      SELECT i, 'u' || i || '@x.org', 1234567890.123456789012345 * i, 10::numeric ^ 37 + i, '2024-01-01 10:00:00+05:45', jsonb_build_object('i', i, 'big', 12345678901234567890), '\\xdeadbeef', '2024-05-01 00:00:00+00'
      FROM generate_series(1, 5) i`);
    await rig.pool.query(
      `INSERT INTO public.users VALUES (6, 'six@x.org', NULL, NULL, NULL, NULL, NULL, '2024-05-01 00:00:01+00')`,
    );
    const config = cfg('core', [{ source: 'public.users', target: 'ANALYTICS.S.USERS', batchSize: 2 }]);
    const r1 = await rig.run(config);
    expect(r1.failed).toBe(0);
    // Three pages of two, staged for one MERGE (merge_max_rows defaults far above six rows).
    expect(r1.tables[0]).toMatchObject({ status: 'success', rows: 6, batches: 1, binds: 1 });
    let rows = await target('USERS', 'ID, EMAIL, AMOUNT, BIG, PAYLOAD, DATA');
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({
      ID: '1',
      EMAIL: 'u1@x.org',
      AMOUNT: '1234567890.12345678901234500000',
      BIG: '10000000000000000000000000000000000001',
      DATA: 'DEADBEEF',
    });
    expect(JSON.parse(String(rows[0].PAYLOAD).replace(/\d{16,}/g, (d) => `"${d}"`))).toEqual({
      i: 1,
      big: '12345678901234567890',
    });
    expect(rows[5]).toMatchObject({ ID: '6', AMOUNT: null, DATA: null });
    expect((await target('USERS', 'ID, TS'))[0].TS).toBe(`${Date.UTC(2024, 0, 1, 4, 15) / 1000}.000000000`);
    const wm = await getWatermark(rig.pool, 'public.users');
    expect(wm).toMatchObject({ lastStatus: 'success', rowsProcessed: 6, syncSuccessCount: 1, position: { pk: ['6'] } });

    // Updates (one moves to a later watermark, one keeps its old one and is therefore not seen) and an insert.
    await rig.pool.query(
      `UPDATE public.users SET email = 'changed@x.org', updated_at = '2024-05-02 00:00:00+00' WHERE id = 3`,
    );
    await rig.pool.query(
      `INSERT INTO public.users VALUES (7, 'seven@x.org', 7, 7, NULL, '[1,2]', NULL, '2024-05-02 00:00:00+00')`,
    );
    const r2 = await rig.run(config);
    expect(r2.tables[0]).toMatchObject({ status: 'success', rows: 2 });
    rows = await target('USERS', 'ID, EMAIL, PAYLOAD');
    expect(rows).toHaveLength(7);
    expect(rows[2]).toMatchObject({ ID: '3', EMAIL: 'changed@x.org' });
    expect(rows[6]).toMatchObject({ ID: '7' });
    expect(JSON.parse(String(rows[6].PAYLOAD))).toEqual([1, 2]);

    // A re-run with nothing new: the cheap probe says idle, nothing is merged.
    const before = await target('USERS', '*');
    const r3 = await rig.run(config);
    expect(r3.tables[0]).toMatchObject({ status: 'idle', rows: 0, batches: 0 });
    expect(await target('USERS', '*')).toEqual(before);
    expect(await getWatermark(rig.pool, 'public.users')).toMatchObject({
      lastStatus: 'idle',
      rowsTotal: 8,
      syncSuccessCount: 3,
    });
  });

  it('picks up a late commit with an older watermark inside the lag window, and MERGE keeps one copy', async () => {
    await rig.pool.query(`CREATE TABLE public.events (id bigint PRIMARY KEY, v text, updated_at timestamp NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.events SELECT i, 'v' || i, localtimestamp - make_interval(secs => 100 - i) FROM generate_series(1, 10) i`,
    );
    const config = cfg('lag', [{ source: 'public.events', target: 'ANALYTICS.S.EVENTS', lagSeconds: 3600 }]);
    expect((await rig.run(config)).tables[0]).toMatchObject({ status: 'success', rows: 10 });
    // Committed now, but stamped before the stored high-water mark.
    await rig.pool.query(`INSERT INTO public.events VALUES (11, 'late', localtimestamp - interval '95 seconds')`);
    const r = await rig.run(config);
    expect(r.tables[0].status).toBe('success');
    expect(r.tables[0].rows).toBeGreaterThanOrEqual(11); // the lag window re-reads the recent rows
    expect(await targetCount('EVENTS')).toEqual({ n: 11, distinct: 11 });
    expect((await target('EVENTS', 'ID, V')).at(-1)).toEqual({ ID: '11', V: 'late' });
  });

  it('applies a SQL transform and a registered function transform', async () => {
    registerTransform({
      name: 'test_upper_name',
      fn: (row) => ({
        ...row,
        name: row.name?.toUpperCase() ?? null,
        name_len: row.name === null ? null : String(row.name.length),
      }),
      addsColumns: ['name_len'],
    });
    await rig.pool.query(
      `CREATE TABLE public.people (id int PRIMARY KEY, name text, email text, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await rig.pool.query(
      `INSERT INTO public.people (id, name, email) VALUES (1, 'ada', ' Ada@X.org '), (2, 'bob', NULL)`,
    );
    await rig.sf.query(
      'CREATE TABLE ANALYTICS.S.PEOPLE_SQL (ID NUMBER(38,0), NAME VARCHAR, EMAIL VARCHAR, UPDATED_AT TIMESTAMP_TZ)',
    );
    await rig.sf.query(
      'CREATE TABLE ANALYTICS.S.PEOPLE_FN (ID NUMBER(38,0), NAME VARCHAR, NAME_LEN NUMBER(10,0), EMAIL VARCHAR, UPDATED_AT TIMESTAMP_TZ)',
    );
    const config = cfg('transform', [
      {
        source: 'public.people',
        target: 'ANALYTICS.S.PEOPLE_SQL',
        transform: { kind: 'sql', columns: { email: 'lower(trim(email))' } },
        createTarget: false,
      },
    ]);
    expect((await rig.run(config)).tables[0].status).toBe('success');
    expect(await target('PEOPLE_SQL', 'ID, NAME, EMAIL')).toEqual([
      { ID: '1', NAME: 'ada', EMAIL: 'ada@x.org' },
      { ID: '2', NAME: 'bob', EMAIL: null },
    ]);
    const config2 = cfg('transform2', [
      {
        source: 'public.people',
        target: 'ANALYTICS.S.PEOPLE_FN',
        transform: { kind: 'function', name: 'test_upper_name' },
        createTarget: false,
      },
    ]);
    // Same source table under another config: reset its position so it is read again.
    await rig.pool.query(`DELETE FROM sync_watermarks WHERE source_table = 'public.people'`);
    expect((await rig.run(config2)).tables[0].status).toBe('success');
    expect(await target('PEOPLE_FN', 'ID, NAME, NAME_LEN')).toEqual([
      { ID: '1', NAME: 'ADA', NAME_LEN: '3' },
      { ID: '2', NAME: 'BOB', NAME_LEN: '3' },
    ]);
  });

  it('isolates a persistent error (missing target column) to its table; the others go on', async () => {
    await rig.pool.query(
      `CREATE TABLE public.good (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await rig.pool.query(
      `CREATE TABLE public.bad (id int PRIMARY KEY, v text, extra text, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await rig.pool.query(`INSERT INTO public.good VALUES (1, 'a'), (2, 'b')`);
    await rig.pool.query(`INSERT INTO public.bad VALUES (1, 'a', 'x')`);
    await rig.sf.query('CREATE TABLE ANALYTICS.S.BAD (ID NUMBER(38,0), V VARCHAR, UPDATED_AT TIMESTAMP_TZ)');
    const config = cfg('errors', [
      { source: 'public.bad', target: 'ANALYTICS.S.BAD', createTarget: false },
      { source: 'public.good', target: 'ANALYTICS.S.GOOD' },
    ]);
    const r = await rig.run(config);
    expect(r.failed).toBe(1);
    expect(r.tables.find((t) => t.source === 'public.good')).toMatchObject({ status: 'success', rows: 2 });
    const bad = r.tables.find((t) => t.source === 'public.bad')!;
    expect(bad.status).toBe('error');
    expect(bad.error).toMatch(/extra.*missing column/);
    expect(await getWatermark(rig.pool, 'public.bad')).toMatchObject({
      lastStatus: 'error',
      syncFailureCount: 1,
      lastError: expect.stringMatching(/extra/),
    });
    const errs = await listErrors(rig.pool, 'public.bad');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ error_type: 'SchemaMismatch', batch_size: 1000 });
    expect(await targetCount('GOOD')).toEqual({ n: 2, distinct: 2 });
  });

  it('types a PostgreSQL error by its SQLSTATE and names the table; a data error is not retried', async () => {
    await rig.pool.query(`CREATE TABLE public.divzero (id int PRIMARY KEY, v int, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(`INSERT INTO public.divzero VALUES (1, 0, '2024-01-01')`);
    const config = cfg('divzero', [
      { source: 'public.divzero', target: 'ANALYTICS.S.DIVZERO', transform: { kind: 'sql', columns: { v: '1 / v' } } },
    ]);
    const r = await rig.run(config);
    expect(r.failed).toBe(1);
    expect(r.tables[0].error).toBe(
      'watermark sync of public.divzero failed: public.divzero: PostgreSQL: division by zero [22012]',
    );
    // Begin, batch, record failure: each started once (the history keeps the last attempt's number).
    const history = await rig.client.workflow.getHandle(tableWorkflowId('divzero', 'public.divzero')).fetchHistory();
    const attempts = (history.events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
    );
    expect(attempts).toEqual([1, 1, 1]);
    const errs = await listErrors(rig.pool, 'public.divzero');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ error_type: 'DataConversion', sample_keys: [['1']] });
  });

  it('turns a soft delete into a delete in the target', async () => {
    await rig.pool.query(
      `CREATE TABLE public.items (id int PRIMARY KEY, v text, deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await rig.pool.query(`INSERT INTO public.items (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    const config = cfg('soft', [{ source: 'public.items', target: 'ANALYTICS.S.ITEMS', softDeleteColumn: 'deleted' }]);
    expect((await rig.run(config)).tables[0].rows).toBe(3);
    await rig.pool.query(`UPDATE public.items SET deleted = true, updated_at = clock_timestamp() WHERE id = 2`);
    // A row created and deleted between two runs is never inserted.
    await rig.pool.query(`INSERT INTO public.items (id, v, deleted) VALUES (4, 'd', true)`);
    expect((await rig.run(config)).tables[0].rows).toBe(2);
    expect((await target('ITEMS', 'ID')).map((r) => r.ID)).toEqual(['1', '3']);
  });

  it('loads by binds and by files (CSV and Parquet) with identical results', async () => {
    await rig.pool.query(
      `CREATE TABLE public.wide (id int PRIMARY KEY, n numeric(20,6), f double precision, b boolean, d date, t text, j jsonb, ts timestamp, tz timestamptz, u uuid, updated_at timestamptz NOT NULL)`,
    );
    await rig.pool
      .query(`INSERT INTO public.wide SELECT i, i * 1.000001, i / 3.0, i % 2 = 0, date '2024-01-01' + i, 'line "' || i || E'"\\n,x', jsonb_build_object('k', i),
      timestamp '2024-01-01 00:00:00.123456' + make_interval(secs => i), timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => i), md5(i::text)::uuid, timestamptz '2024-06-01 00:00:00+00' + make_interval(secs => i / 7)
      FROM generate_series(1, 300) i`);
    await rig.pool.query(`UPDATE public.wide SET t = NULL, j = NULL, n = NULL WHERE id % 50 = 0`);
    const base = { source: 'public.wide', batchSize: 120 };
    const config = cfg('methods', [{ ...base, target: 'ANALYTICS.S.WIDE_BINDS', loadMethod: 'binds' }]);
    const rb = await rig.run(config);
    // 300 rows in pages of 120: three pages staged (binds, or three files PUT and one COPY) for one MERGE.
    expect(rb.tables[0]).toMatchObject({ status: 'success', rows: 300, batches: 1, binds: 1, files: 0 });
    for (const [fmt, tbl] of [
      ['csv', 'WIDE_CSV'],
      ['parquet', 'WIDE_PQ'],
    ] as const) {
      await rig.pool.query(`DELETE FROM sync_watermarks WHERE source_table = 'public.wide'`);
      const rf = await rig.run(
        cfg(`methods-${fmt}`, [{ ...base, target: `ANALYTICS.S.${tbl}`, loadMethod: 'files', fileFormat: fmt }]),
      );
      expect(rf.tables[0], rf.tables[0].error).toMatchObject({
        status: 'success',
        rows: 300,
        batches: 1,
        binds: 0,
        files: 1,
      });
    }
    const cols = 'ID, N, F, B, D, T, J, TS, TZ, U';
    const binds = await target('WIDE_BINDS', cols);
    expect(binds).toHaveLength(300);
    expect(binds[49]).toMatchObject({ ID: '50', N: null, T: null, J: null });
    expect(binds[0]).toMatchObject({
      ID: '1',
      N: '1.000001',
      B: 'false',
      T: 'line "1"\n,x',
      TS: `${Date.UTC(2024, 0, 1) / 1000 + 1}.123456000`,
      TZ: `${Date.UTC(2024, 0, 1) / 1000 + 1}.000000000`,
    });
    expect(JSON.parse(String(binds[0].J))).toEqual({ k: 1 });
    expect(await target('WIDE_CSV', cols)).toEqual(binds);
    expect(await target('WIDE_PQ', cols)).toEqual(binds);
  });

  it('holds each row exactly once after the worker process is killed between the MERGE and the watermark update', async () => {
    await rig.pool.query(`CREATE TABLE public.killed (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.killed SELECT i, 'v' || i, timestamptz '2024-01-01' + make_interval(secs => i % 7) FROM generate_series(1, 40) i`,
    );
    const queue = `${rig.taskQueue}-acts`;
    // The parent and child workflows run on the in-test worker; their activities on `queue`, served
    // first by a separate process that SIGKILLs itself right after the first MERGE.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '../helpers/watermark-sync-crash-worker.ts')],
      {
        env: {
          ...process.env,
          WM_DATABASE_URL: rig.db.url,
          WM_EMULATOR_URL: rig.emu.url,
          WM_TEMPORAL_ADDRESS: inject('temporalAddress'),
          WM_QUEUE: queue,
          WM_TMP: path.join(rig.root, 'crash-tmp'),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    for (let i = 0; i < 300 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('ready');
    const handle = await rig.client.workflow.start(watermarkSync, {
      taskQueue: rig.taskQueue,
      workflowId: `wm-test-${process.pid}-killed`,
      args: [
        {
          // merge_max_rows = batch_size: one page per MERGE, so the kill lands between two batches.
          config: cfg('killed', [
            { source: 'public.killed', target: 'ANALYTICS.S.KILLED', batchSize: 15, mergeMaxRows: 15 },
          ]),
          activityTaskQueue: queue,
          batchHeartbeatSeconds: 2,
        },
      ],
    });
    expect(await exited).toBe('SIGKILL');
    expect(out).toContain('merged; dying');
    // The first batch is in the target, but its watermark was never advanced.
    expect((await targetCount('KILLED')).n).toBe(15);
    expect((await getWatermark(rig.pool, 'public.killed'))?.position).toBeNull();
    const acts = await rig.startWorker({ queue, workflows: false });
    try {
      const r = await handle.result();
      expect(r.tables[0]).toMatchObject({ status: 'success', rows: 40 });
    } finally {
      await acts.stop();
    }
    expect(await targetCount('KILLED')).toEqual({ n: 40, distinct: 40 });
    expect(await getWatermark(rig.pool, 'public.killed')).toMatchObject({ position: { pk: ['34'] }, rowsTotal: 40 });
  });

  it('holds each row exactly once when the batch fails between the MERGE and the watermark update (retried)', async () => {
    await rig.pool.query(`CREATE TABLE public.crash (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.crash SELECT i, 'v' || i, timestamptz '2024-01-01' + make_interval(secs => i) FROM generate_series(1, 50) i`,
    );
    let crashes = 0;
    rig.hooks.afterMerge = ({ source, attempt }) => {
      if (source === 'public.crash' && attempt === 1) {
        crashes++;
        throw new Error('simulated crash after MERGE');
      }
    };
    try {
      // batchesPerRun 1: the child continues-as-new after every batch (the long catch-up path).
      const r = await rig.run(
        cfg('crash', [{ source: 'public.crash', target: 'ANALYTICS.S.CRASH', batchSize: 20, mergeMaxRows: 20 }]),
        { batchesPerRun: 1 },
      );
      expect(r.tables[0]).toMatchObject({ status: 'success', rows: 50, batches: 3 });
    } finally {
      rig.hooks.afterMerge = undefined;
    }
    expect(crashes).toBe(3);
    let runs: string[] = [];
    for (let i = 0; i < 50; i++) {
      runs = [];
      for await (const w of rig.client.workflow.list({
        query: `WorkflowId = '${tableWorkflowId('crash', 'public.crash')}'`,
      }))
        runs.push(w.status.name);
      if (runs.length >= 3 && !runs.includes('RUNNING')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(runs.sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);
    expect(await targetCount('CRASH')).toEqual({ n: 50, distinct: 50 });
    expect(await getWatermark(rig.pool, 'public.crash')).toMatchObject({ position: { pk: ['50'] }, rowsTotal: 50 });
  });
  it('stages pages up to merge_max_rows for one MERGE: a row re-read in a later page wins, a crash re-reads the batch', async () => {
    await rig.pool.query(`CREATE TABLE public.pages (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.pages SELECT i, 'v' || i, timestamptz '2024-01-01' + make_interval(secs => i) FROM generate_series(1, 30) i`,
    );
    // After the first page (ids 1-10) is read, id 5 changes and moves past every other row: the batch's
    // fourth page reads it again, and its MERGE must keep that later version. The first attempt then
    // fails after its MERGE; the retry re-reads the whole batch from the stored (still empty) position.
    let moved = false;
    let crashes = 0;
    rig.hooks.afterPage = async ({ source, pages }) => {
      if (source !== 'public.pages' || pages !== 1 || moved) return;
      moved = true;
      await rig.pool.query(`UPDATE public.pages SET v = 'moved', updated_at = '2024-02-01' WHERE id = 5`);
    };
    rig.hooks.afterMerge = async ({ source, rows, attempt }) => {
      if (source !== 'public.pages' || attempt !== 1) return;
      crashes++;
      // The first attempt read 31 rows (id 5 twice) and its MERGE committed: id 5 once, the later version.
      expect(rows).toBe(31);
      expect(await targetCount('PAGES')).toEqual({ n: 30, distinct: 30 });
      expect((await target('PAGES', 'ID, V'))[4]).toEqual({ ID: '5', V: 'moved' });
      throw new Error('simulated crash after MERGE');
    };
    try {
      const r = await rig.run(
        cfg('pages', [{ source: 'public.pages', target: 'ANALYTICS.S.PAGES', batchSize: 10, mergeMaxRows: 100 }]),
      );
      expect(r.tables[0], r.tables[0].error).toMatchObject({ status: 'success', rows: 30, batches: 1 });
    } finally {
      rig.hooks.afterPage = undefined;
      rig.hooks.afterMerge = undefined;
    }
    expect(crashes).toBe(1);
    expect(await targetCount('PAGES')).toEqual({ n: 30, distinct: 30 });
    const rows = await target('PAGES', 'ID, V');
    expect(rows[4]).toEqual({ ID: '5', V: 'moved' });
    expect(rows[5]).toEqual({ ID: '6', V: 'v6' });
    expect(await getWatermark(rig.pool, 'public.pages')).toMatchObject({ position: { pk: ['5'] }, rowsTotal: 30 });

    // merge_max_rows caps a batch: 25 new rows in pages of 10 with at most 20 per MERGE are two batches.
    await rig.pool.query(
      `INSERT INTO public.pages SELECT i, 'w' || i, timestamptz '2024-03-01' + make_interval(secs => i) FROM generate_series(31, 55) i`,
    );
    const r2 = await rig.run(
      cfg('pages', [{ source: 'public.pages', target: 'ANALYTICS.S.PAGES', batchSize: 10, mergeMaxRows: 20 }]),
    );
    expect(r2.tables[0]).toMatchObject({ status: 'success', rows: 25, batches: 2 });
    expect(await targetCount('PAGES')).toEqual({ n: 55, distinct: 55 });
    expect(await getWatermark(rig.pool, 'public.pages')).toMatchObject({ position: { pk: ['55'] }, rowsTotal: 55 });
  });
});
