/**
 * The execution upload's queue statements on a real PostgreSQL (src/jobs/execution-upload/queue.ts):
 * the claim returns the attempts begun before it, an attempt begins only on a processing item, the
 * completion records item and execution together or nothing, and `attemptedSince` names the items with
 * an attempt begun since their claim. And the read of an item's execution (results.ts) with the rows it
 * becomes (infer.ts): both result shapes, exact numbers, strings as they are, nested values as JSON,
 * absent keys and empty rows as nulls, a missing item.
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/index.js';
import { loadTable } from '../../src/jobs/execution-upload/infer.js';
import * as queue from '../../src/jobs/execution-upload/queue.js';
import { readUploadSource } from '../../src/jobs/execution-upload/results.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let db: FreshDatabase;
let pool: pg.Pool;
const user = '22222222-2222-4222-8222-222222222222';

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'upload_queue' });
  pool = createPool(db.url, { max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  await pool.query('TRUNCATE snowflake_sync_queue, workflow_executions');
});

/** Complete `n` executions (the trigger queues them) and return their items' ids, oldest first. */
async function queued(n: number): Promise<string[]> {
  for (let i = 1; i <= n; i++)
    await pool.query(
      `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results, completed_at)
       VALUES ($1, $2, 'test-workflow', 'completed', '[{"a": 1}]', now())`,
      [`queue_${i}`, user],
    );
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM snowflake_sync_queue ORDER BY created_at, id');
  return rows.map((r) => r.id);
}

/** Complete an execution with `results` (JSON text) and return its queue item's id. */
async function queuedWith(executionId: string, results: string | null): Promise<string> {
  await pool.query(
    `INSERT INTO workflow_executions (execution_id, user_id, workflow_name, status, results, completed_at)
     VALUES ($1, $2, 'test-workflow', 'completed', $3::jsonb, '2024-01-15T10:00:00Z')`,
    [executionId, user, results],
  );
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM snowflake_sync_queue WHERE execution_id = $1', [
    executionId,
  ]);
  return rows[0]!.id;
}

const claim = (limit: number) => queue.claimItems(pool, { limit, claimer: 'test', leaseSeconds: 60 });

describe('execution upload queue', () => {
  it('begins an attempt only on a processing item, and says how the item was', async () => {
    const [id] = await queued(1);
    expect(await queue.beginAttempt(pool, id!, 60)).toMatchObject({ status: 'pending', begun: false });
    const [c] = await claim(1);
    expect(c).toMatchObject({ syncId: id, attempts: 0, maxRetries: 3 });
    expect(await queue.beginAttempt(pool, id!, 60)).toMatchObject({ status: 'processing', begun: true });
    const { rows } = await pool.query('SELECT attempts FROM snowflake_sync_queue WHERE id = $1', [id]);
    expect(rows[0].attempts).toBe(1);
    expect(await queue.beginAttempt(pool, '00000000-0000-4000-8000-000000000000', 60)).toBeNull();
  });

  it('completes item and execution together, and neither once the item is no longer processing', async () => {
    const [id, other] = await queued(2);
    await claim(2);
    const done = { table: 'DB.S.T', rows: 7, method: 'binds' };
    expect(await queue.completeItem(pool, { syncId: id!, executionId: 'queue_1', ...done })).toBe(true);
    expect(await queue.completeItem(pool, { syncId: id!, executionId: 'queue_1', ...done, table: 'DB.S.X' })).toBe(
      false,
    );
    await queue.failItem(pool, other!, 'warehouse suspended', 3);
    expect(await queue.completeItem(pool, { syncId: other!, executionId: 'queue_2', ...done })).toBe(false);
    const { rows } = await pool.query(
      `SELECT q.status, q.snowflake_table AS item_table, q.rows_uploaded, e.snowflake_table, e.snowflake_rows
         FROM snowflake_sync_queue q JOIN workflow_executions e USING (execution_id) ORDER BY e.execution_id`,
    );
    expect(rows).toEqual([
      { status: 'completed', item_table: 'DB.S.T', rows_uploaded: '7', snowflake_table: 'DB.S.T', snowflake_rows: '7' },
      { status: 'failed', item_table: null, rows_uploaded: null, snowflake_table: null, snowflake_rows: null },
    ]);
  });

  it('names the processing items with an attempt begun since their claim', async () => {
    await queued(3);
    const items = await claim(3);
    const [a, b] = items;
    await queue.beginAttempt(pool, a!.syncId, 60);
    await queue.completeItem(pool, {
      syncId: a!.syncId,
      executionId: a!.executionId,
      table: 'T',
      rows: 1,
      method: 'binds',
    });
    await queue.beginAttempt(pool, b!.syncId, 60);
    const since = items.map((i) => ({ syncId: i.syncId, attempts: i.attempts! }));
    // The first finished, the second is under way, the third never started.
    expect(await queue.attemptedSince(pool, since)).toEqual([b!.syncId]);
  });
});

describe('execution upload results', () => {
  it('reads an array of objects: columns in order of first appearance, exact values, absent keys null', async () => {
    const id = await queuedWith(
      'res_array',
      `[{"id": 1, "name": "a \\"q\\" é\\n", "big": 123456789012345678901234567890.125},
        {"id": 2, "meta": {"k": [1, 2]}, "name": null, "extra": true},
        {},
        7]`,
    );
    const src = await readUploadSource(pool, id);
    expect(src).toMatchObject({ executionId: 'res_array', userId: user });
    const exec = src!.execution!;
    expect(exec).toMatchObject({ resultsKind: 'array', completedAt: new Date('2024-01-15T10:00:00Z') });
    // jsonb orders an object's keys by length, then bytes.
    expect(exec.keys).toEqual(['id', 'big', 'name', 'meta', 'extra', 'value']);
    const t = loadTable(exec.keys, exec);
    expect(t.columns.map((c) => c.sfType)).toEqual([
      'NUMBER(38,0)',
      'NUMBER(38,3)',
      'VARCHAR',
      'VARIANT',
      'BOOLEAN',
      'NUMBER(38,0)',
    ]);
    expect(t.rows).toEqual([
      ['1', '123456789012345678901234567890.125', 'a "q" é\n', null, null, null],
      ['2', null, null, '{"k": [1, 2]}', 'true', null],
      [null, null, null, null, null, null],
      [null, null, null, null, null, '7'],
    ]);
  });

  it('reads {columns, rows}: named columns in order, cells beyond them as COLUMN_<n>', async () => {
    const id = await queuedWith(
      'res_object',
      `{"columns": ["Zeta", {"name": "alpha"}], "rows": [["x", 1.50], [], [null, 2, "2024-02-29"]]}`,
    );
    const exec = (await readUploadSource(pool, id))!.execution!;
    expect(exec).toMatchObject({ resultsKind: 'object', keys: ['Zeta', 'alpha', 'COLUMN_3'] });
    const t = loadTable(exec.keys, exec);
    expect(t.columns.map((c) => [c.name, c.sfType])).toEqual([
      ['ZETA', 'VARCHAR'],
      ['ALPHA', 'NUMBER(38,2)'],
      ['COLUMN_3', 'DATE'],
    ]);
    expect(t.rows).toEqual([
      ['x', '1.50', null],
      [null, null, null],
      [null, '2', '2024-02-29'],
    ]);
  });

  it('reads no rows of other results, and nothing for a missing item', async () => {
    const scalar = (await readUploadSource(pool, await queuedWith('res_scalar', '"text"')))!.execution!;
    expect(scalar).toMatchObject({ resultsKind: 'string', keys: [], texts: [], kinds: [] });
    // Deleting an execution deletes its item (ON DELETE CASCADE): the item is gone, not its execution.
    const id = await queuedWith('res_gone', '[{"a": 1}]');
    await pool.query(`DELETE FROM workflow_executions WHERE execution_id = 'res_gone'`);
    expect(await readUploadSource(pool, id)).toBeNull();
    expect(await readUploadSource(pool, '00000000-0000-4000-8000-000000000000')).toBeNull();
  });
});
