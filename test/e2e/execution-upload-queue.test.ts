/**
 * The execution upload's queue statements on a real PostgreSQL (src/jobs/execution-upload/queue.ts):
 * the claim returns the attempts begun before it, an attempt begins only on a processing item, the
 * completion records item and execution together or nothing, and `attemptedSince` names the items with
 * an attempt begun since their claim.
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/index.js';
import * as queue from '../../src/jobs/execution-upload/queue.js';
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
