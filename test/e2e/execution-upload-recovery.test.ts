/**
 * Execution upload end to end, the drain and recovery: the concurrency bound, large results loaded by
 * file + PUT + COPY, a worker process killed in the middle of a load (the retry leaves no duplicated rows, no helper
 * table), a failed upload in a batch that reads the next item ahead, and the drain Schedule working the queue on its own.
 * Real PostgreSQL, one emulator through the real snowflake-sdk, a real Temporal dev server and workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteExecutionUploadSchedule, ensureExecutionUploadSchedule } from '../../src/client/executionUpload.js';
import { makeUploadRig, rowsOf, type TestUser, type UploadRig } from '../helpers/execution-upload-rig.js';

let rig: UploadRig;
let worker: { stop(): Promise<void> };
let alice: TestUser;
const SCHEDULE_ID = `execution-upload-recovery-${process.pid}`;

beforeAll(async () => {
  rig = await makeUploadRig('recovery', { emulators: 1 });
  worker = await rig.startWorker();
  alice = await rig.addUser(0, 'ALICE_DB');
});

afterAll(async () => {
  await worker?.stop();
  await rig?.close();
});

const item = (executionId: string) => rig.item(executionId);

describe('execution upload: drain and recovery', () => {
  it('never runs more than 5 uploads at once', async () => {
    let active = 0;
    let peak = 0;
    rig.hooks.beforeLoad = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 400));
    };
    rig.hooks.afterLoad = () => {
      active--;
    };
    try {
      for (let i = 0; i < 12; i++) await rig.addExecution(alice.userId, rowsOf(5, `c${i}`));
      const r = await rig.drain();
      expect(r).toMatchObject({ claimed: 12, completed: 12, failed: 0 });
      expect(peak).toBeLessThanOrEqual(5);
      expect(peak).toBeGreaterThanOrEqual(3);
    } finally {
      rig.hooks.beforeLoad = undefined;
      rig.hooks.afterLoad = undefined;
    }
  });

  it('loads large results by file + PUT + COPY', async () => {
    const id = await rig.addExecution(alice.userId, rowsOf(3000, 'big'));
    const r = await rig.drain({ upload: { bindMaxRows: 1000, heartbeatTimeoutSeconds: 10, retryInitialSeconds: 0.2 } });
    expect(r).toMatchObject({ completed: 1, rows: 3000 });
    const it1 = await item(id);
    expect(it1).toMatchObject({ status: 'completed', load_method: 'file', rows_uploaded: '3000' });
    const t = await alice.sf.query(
      `SELECT COUNT(*) AS N, COUNT(DISTINCT ID) AS D, SUM(AMOUNT) AS S FROM ${String(it1.snowflake_table)}`,
    );
    expect(t[0]).toEqual({ N: '3000', D: '3000', S: String(((3000 * 3001) / 2) * 1.25) + '.00' });
  });

  it('a worker killed mid-upload leaves no duplicated rows; the lost batch counts an attempt for that item only', async () => {
    const queue = `${rig.taskQueue}-kill`;
    const wf = await rig.startWorker({ queue, activities: false });
    const ids: string[] = [];
    for (const tag of ['kill-a', 'kill-b', 'kill-c']) ids.push(await rig.addExecution(alice.userId, rowsOf(1000, tag)));
    const args = {
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      taskQueue: queue,
      databaseUrl: rig.db.url,
      keyHex: rig.keyHex,
      tmpDir: path.join(rig.root, 'tmp-kill'),
      // One batch of the three items: the first loads, the worker dies in the middle of the second.
      hangAt: 2,
    };
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, '..', 'helpers', 'execution-upload-worker.ts'),
        JSON.stringify(args),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const midway = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('MIDWAY')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker process exited early (${code}): ${out}`)));
    });
    const drain = rig.drain(
      {
        maxConcurrent: 1,
        batchSize: 3,
        upload: { bindChunkRows: 200, heartbeatTimeoutSeconds: 2, retryInitialSeconds: 0.2 },
      },
      queue,
    );
    let replacement: { stop(): Promise<void> } | null = null;
    try {
      await midway;
      child.kill('SIGKILL');
      replacement = await rig.startWorker({ queue, workflows: false });
      const r = await drain;
      expect(r).toMatchObject({ claimed: 3, completed: 3, failed: 0, rows: 3000 });
    } finally {
      child.kill('SIGKILL');
      await replacement?.stop();
      await wf.stop();
    }
    const [a, b, c] = await Promise.all(ids.map((id) => item(id)));
    // The first was done before the kill (not loaded again), the second's lost attempt counted, the third never started.
    expect(a).toMatchObject({ status: 'completed', attempts: 1, retry_count: 0, rows_uploaded: '1000' });
    expect(b).toMatchObject({ status: 'completed', attempts: 2, retry_count: 1, rows_uploaded: '1000' });
    expect(c).toMatchObject({ status: 'completed', attempts: 1, retry_count: 0, rows_uploaded: '1000' });
    for (const it1 of [a, b, c]) {
      const t = await alice.sf.query(
        `SELECT COUNT(*) AS N, COUNT(DISTINCT ID) AS D FROM ${String(it1.snowflake_table)}`,
      );
      expect(t[0]).toEqual({ N: '1000', D: '1000' });
    }
    const leftovers = await alice.sf.query(`SHOW TABLES LIKE '%FLOE%' IN SCHEMA ALICE_DB.RESULTS`);
    expect(
      leftovers.filter(
        (l) =>
          String(l.name).startsWith(String(b.snowflake_table).split('.')[2]) && String(l.name).endsWith('__FLOE_RAW'),
      ),
    ).toEqual([]);
  });

  it('a failed upload in a batch loses nothing read ahead: the next items upload once, each attempt counted on its own item', async () => {
    const ids: string[] = [];
    for (const tag of ['ahead-a', 'ahead-b', 'ahead-c'])
      ids.push(await rig.addExecution(alice.userId, rowsOf(1000, tag)));
    const first = await item(ids[0]!);
    // The first item's first attempt fails; the batch read the second item meanwhile (one item ahead).
    rig.hooks.beforeLoad = (i) => {
      if (i.syncId === first.id && i.attempt === 1) throw new Error('injected load failure');
    };
    try {
      const r = await rig.drain({
        maxConcurrent: 1,
        batchSize: 3,
        upload: { heartbeatTimeoutSeconds: 10, retryInitialSeconds: 0.2 },
      });
      expect(r).toMatchObject({ claimed: 3, completed: 3, failed: 0, rows: 3000 });
    } finally {
      rig.hooks.beforeLoad = undefined;
    }
    const [a, b, c] = await Promise.all(ids.map((id) => item(id)));
    expect(a).toMatchObject({ status: 'completed', attempts: 2, retry_count: 1, rows_uploaded: '1000' });
    expect(b).toMatchObject({ status: 'completed', attempts: 1, retry_count: 0, rows_uploaded: '1000' });
    expect(c).toMatchObject({ status: 'completed', attempts: 1, retry_count: 0, rows_uploaded: '1000' });
    for (const [it1, tag] of [
      [a, 'ahead-a'],
      [b, 'ahead-b'],
      [c, 'ahead-c'],
    ] as const) {
      const t = await alice.sf.query(
        `SELECT COUNT(*) AS N, COUNT(DISTINCT ID) AS D, MIN(NAME) AS F FROM ${String(it1.snowflake_table)}`,
      );
      expect(t[0]).toEqual({ N: '1000', D: '1000', F: `${tag}-1` });
    }
  });

  it('the Schedule drains the queue on its own', async () => {
    await ensureExecutionUploadSchedule(rig.client, {
      taskQueue: rig.taskQueue,
      intervalSeconds: 1,
      scheduleId: SCHEDULE_ID,
      input: { upload: { heartbeatTimeoutSeconds: 10, retryInitialSeconds: 0.2 } },
    });
    // Updating an existing schedule is fine too.
    await ensureExecutionUploadSchedule(rig.client, {
      taskQueue: rig.taskQueue,
      intervalSeconds: 1,
      scheduleId: SCHEDULE_ID,
    });
    try {
      const id = await rig.addExecution(alice.userId, rowsOf(7, 'sched'));
      const deadline = Date.now() + 30_000;
      while ((await item(id)).status !== 'completed' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect(await item(id)).toMatchObject({ status: 'completed', rows_uploaded: '7' });
    } finally {
      expect(await deleteExecutionUploadSchedule(rig.client, SCHEDULE_ID)).toBe(true);
    }
  });

  it('no secret in any workflow history or log line', async () => {
    const scanned = await rig.historiesText();
    expect(scanned).toContain('WORKFLOW_EXECUTION_');
    const logs = rig.logLines.join('');
    for (const s of [alice.password, rig.keyHex, rig.key.current.toString('base64')]) {
      expect(scanned.includes(s)).toBe(false);
      expect(logs.includes(s)).toBe(false);
    }
  });
});
