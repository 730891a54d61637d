/**
 * The stored position's compare-and-set, end to end against real PostgreSQL and the emulator through
 * snowflake-sdk: the watermark sync activities are called in the order Temporal can run them when a
 * batch attempt outlives its heartbeat timeout (the retry succeeds, the run goes on, then the first
 * attempt finishes), and when a retry follows an attempt that had already advanced the position.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../emulator/src/index.js';
import { connectSnowflake } from '../../src/connectors/snowflake.js';
import { createWatermarkSyncActivities } from '../../src/activities/watermark-sync/index.js';
import { SnowflakeSessionCache } from '../../src/connectors/snowflake-sessions.js';
import { getWatermark, resetWatermark } from '../../src/jobs/watermark-sync/store.js';
import { cfg, makeRig, type WmRig } from '../helpers/watermark-sync-rig.js';

let rig: WmRig;
let acts: ReturnType<typeof createWatermarkSyncActivities>;
const sessions = new SnowflakeSessionCache();

beforeAll(async () => {
  rig = await makeRig('position');
  acts = createWatermarkSyncActivities({
    pool: rig.pool,
    sourcePool: rig.pool,
    snowflake: rig.settings,
    tmpDir: path.join(rig.root, 'tmp-direct'),
    sessions,
  });
});

afterAll(async () => {
  await sessions.close();
  await rig?.close();
});

describe('watermark sync position (compare-and-set)', () => {
  it('an attempt that outlived its retry writes nothing back; a retry after an advance counts its rows once', async () => {
    await rig.pool.query(`CREATE TABLE public.cas (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.cas SELECT i, 'v' || i, timestamptz '2024-01-01' + make_interval(secs => i) FROM generate_series(1, 30) i`,
    );
    const table = cfg('cas', [{ source: 'public.cas', target: 'ANALYTICS.S.CAS', batchSize: 10, mergeMaxRows: 10 }])
      .tables[0];
    const begun = await acts.watermarkSyncBeginTable({ table, workflowId: 'wm-cas' });
    expect(begun).toMatchObject({ start: null, hasRows: true });
    const batch = (after: typeof begun.start, positionSeq: number | undefined, runRowsBefore: number) =>
      acts.watermarkSyncBatch({ table, plan: begun.plan, after, positionSeq, runRowsBefore });

    const b1 = await batch(begun.start, begun.positionSeq, 0);
    expect(b1).toMatchObject({ rows: 10, position: { pk: ['10'] }, positionSeq: begun.positionSeq + 1 });
    const b2 = await batch(b1.position, b1.positionSeq, 10);
    expect(b2).toMatchObject({ rows: 10, position: { pk: ['20'] }, superseded: false });

    // The first attempt of batch 1, still running when Temporal retried it, finishes now: its MERGE is
    // harmless (same rows), but it must not move the stored position back to id 10.
    const late = await batch(begun.start, begun.positionSeq, 0);
    expect(late).toMatchObject({ rows: 10, position: { pk: ['20'] }, positionSeq: b2.positionSeq, superseded: false });
    expect(await getWatermark(rig.pool, 'public.cas')).toMatchObject({
      position: { pk: ['20'] },
      positionSeq: b2.positionSeq,
      rowsTotal: 20,
    });

    // A retry of batch 2 after its first attempt advanced (the worker died before reporting): it goes on
    // from the stored position and does not count the batch's rows twice.
    const again = await batch(b1.position, b1.positionSeq, 10);
    expect(again).toMatchObject({ position: { pk: ['20'] }, positionSeq: b2.positionSeq });
    const b3 = await batch(again.position, again.positionSeq, 20);
    expect(b3).toMatchObject({ rows: 10, position: { pk: ['30'] } });
    expect(await getWatermark(rig.pool, 'public.cas')).toMatchObject({ position: { pk: ['30'] }, rowsTotal: 30 });
    const n = await rig.sf.query('SELECT COUNT(*) AS N, COUNT(DISTINCT ID) AS D FROM ANALYTICS.S.CAS');
    expect(n[0]).toMatchObject({ N: '30', D: '30' });
    // The begin activity and the five batches signed in once: each took the session the one before returned
    // (with its temporary staging table and stage dropped).
    expect(sessions.stats()).toMatchObject({ opened: 1, reused: 5, dropped: 0 });

    // A reset (backfill) still supersedes a batch of the old epoch, whatever its counter.
    await resetWatermark(rig.pool, 'public.cas', null);
    const old = await batch(b2.position, b3.positionSeq, 30);
    expect(old.superseded).toBe(true);
    expect(await getWatermark(rig.pool, 'public.cas')).toMatchObject({ position: null });
  });
  it('a PUT that fails while the next page is read fails the batch: nothing merged, position kept, files removed; the retry loads every row', async () => {
    await rig.pool.query(`CREATE TABLE public.putfail (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.putfail SELECT i, 'v' || i, timestamptz '2024-01-01' + make_interval(secs => i) FROM generate_series(1, 30) i`,
    );
    // An emulator of its own whose second PUT fails: page 1's PUT succeeds, page 2's fails while page 3 is read.
    const emu = await startEmulator({
      port: 0,
      dataDir: path.join(rig.root, 'emu-putfail'),
      user: { name: 'u', password: 'p' },
      faults: { failStatement: { pattern: '^PUT ', nth: 2 } },
    });
    const settings = { ...rig.settings, accessUrl: emu.url };
    const tmpDir = path.join(rig.root, 'tmp-putfail');
    const faulty = createWatermarkSyncActivities({ pool: rig.pool, sourcePool: rig.pool, snowflake: settings, tmpDir });
    const sf = await connectSnowflake(settings);
    try {
      await sf.query('CREATE DATABASE IF NOT EXISTS ANALYTICS');
      await sf.query('CREATE SCHEMA IF NOT EXISTS ANALYTICS.S');
      const table = cfg('putfail', [
        {
          source: 'public.putfail',
          target: 'ANALYTICS.S.PUTFAIL',
          batchSize: 10,
          mergeMaxRows: 100,
          loadMethod: 'files',
        },
      ]).tables[0];
      const begun = await faulty.watermarkSyncBeginTable({ table, workflowId: 'wm-putfail' });
      const batch = () =>
        faulty.watermarkSyncBatch({
          table,
          plan: begun.plan,
          after: begun.start,
          positionSeq: begun.positionSeq,
          runRowsBefore: 0,
        });
      await expect(batch()).rejects.toThrow(/emulator fault injection/);
      expect((await sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.S.PUTFAIL'))[0].N).toBe('0');
      expect(await getWatermark(rig.pool, 'public.putfail')).toMatchObject({ position: null, rowsTotal: 0 });
      expect(fs.readdirSync(tmpDir)).toEqual([]);

      const r = await batch();
      expect(r).toMatchObject({ rows: 30, pages: 3, method: 'files', done: true, position: { pk: ['30'] } });
      const n = await sf.query('SELECT COUNT(*) AS N, COUNT(DISTINCT ID) AS D FROM ANALYTICS.S.PUTFAIL');
      expect(n[0]).toMatchObject({ N: '30', D: '30' });
      expect(fs.readdirSync(tmpDir)).toEqual([]);
    } finally {
      await sf.close();
      await emu.close();
    }
  });
  it('pages read in chunks go by binds while they fit bind_max_rows and switch to a file mid-page: every value exact', async () => {
    await rig.pool.query(`CREATE TABLE public.chunked (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    // Quotes, commas, newlines and NULLs on both sides of every chunk boundary.
    await rig.pool.query(
      `INSERT INTO public.chunked SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'v"' || i || E',\\n' END,
         timestamptz '2024-01-01' + make_interval(secs => i) FROM generate_series(1, 24) i`,
    );
    // Chunks of 3 rows; pages of 10 → 10, 10, 4. A page is buffered for binds while it has at most 4 rows: the
    // two full pages switch to a file at their second chunk (the 3 buffered rows written first), the last page
    // (3 + 1 rows) stays binds. One MERGE for the three pages.
    const chunked = createWatermarkSyncActivities({
      pool: rig.pool,
      sourcePool: rig.pool,
      snowflake: rig.settings,
      tmpDir: path.join(rig.root, 'tmp-chunked'),
      sessions,
      readChunkRows: 3,
    });
    const table = cfg('chunked', [
      {
        source: 'public.chunked',
        target: 'ANALYTICS.S.CHUNKED',
        batchSize: 10,
        mergeMaxRows: 100,
        loadMethod: 'auto',
        bindMaxRows: 4,
      },
    ]).tables[0];
    const begun = await chunked.watermarkSyncBeginTable({ table, workflowId: 'wm-chunked' });
    const r = await chunked.watermarkSyncBatch({
      table,
      plan: begun.plan,
      after: begun.start,
      positionSeq: begun.positionSeq,
      runRowsBefore: 0,
    });
    expect(r).toMatchObject({ rows: 24, pages: 3, method: 'files', done: true, position: { pk: ['24'] } });
    const source = await rig.pool.query(`SELECT id::text AS "ID", v AS "V" FROM public.chunked ORDER BY id`);
    const target = await rig.sf.query('SELECT ID, V FROM ANALYTICS.S.CHUNKED ORDER BY ID');
    expect(target.map((t) => ({ ID: String(t.ID), V: t.V ?? null }))).toEqual(source.rows);
    expect(fs.readdirSync(path.join(rig.root, 'tmp-chunked'))).toEqual([]);
  });
  it('a batch cancelled between pages stops there: nothing merged, the position kept', async () => {
    await rig.pool.query(`CREATE TABLE public.cancelled (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await rig.pool.query(
      `INSERT INTO public.cancelled SELECT i, 'v' || i, timestamptz '2024-01-01' + make_interval(secs => i) FROM generate_series(1, 50) i`,
    );
    const env = new MockActivityEnvironment();
    const withHook = createWatermarkSyncActivities({
      pool: rig.pool,
      sourcePool: rig.pool,
      snowflake: rig.settings,
      tmpDir: path.join(rig.root, 'tmp-cancel'),
      // The run is cancelled once the second page has been read.
      hooks: { afterPage: ({ pages }) => (pages === 2 ? env.cancel() : undefined) },
    });
    const table = cfg('cancelled', [
      { source: 'public.cancelled', target: 'ANALYTICS.S.CANCELLED', batchSize: 10, mergeMaxRows: 100 },
    ]).tables[0];
    const begun = await withHook.watermarkSyncBeginTable({ table, workflowId: 'wm-cancel' });
    const attempt = env.run(withHook.watermarkSyncBatch, {
      table,
      plan: begun.plan,
      after: begun.start,
      positionSeq: begun.positionSeq,
      runRowsBefore: 0,
    });
    await expect(attempt).rejects.toThrow(/cancel/i);
    expect((await rig.sf.query('SELECT COUNT(*) AS N FROM ANALYTICS.S.CANCELLED'))[0].N).toBe('0');
    expect(await getWatermark(rig.pool, 'public.cancelled')).toMatchObject({ position: null, rowsTotal: 0 });
  });
});
