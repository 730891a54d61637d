/**
 * The execution upload's read of an item's execution on a real PostgreSQL (src/jobs/execution-upload/results.ts)
 * and the rows it becomes (infer.ts): both result shapes, exact numbers, strings as they are, nested
 * values as JSON, absent keys and empty rows as nulls, a missing item.
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/index.js';
import { loadTable } from '../../src/jobs/execution-upload/infer.js';
import { readUploadSource } from '../../src/jobs/execution-upload/results.js';
import { freshDatabase, type FreshDatabase } from '../helpers/db.js';

let db: FreshDatabase;
let pool: pg.Pool;
const user = '33333333-3333-4333-8333-333333333333';

beforeAll(async () => {
  db = await freshDatabase({ prefix: 'upload_results' });
  pool = createPool(db.url, { max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  await pool.query('TRUNCATE snowflake_sync_queue, workflow_executions');
});

/** Complete an execution with `results` (JSON text) and return its queue item's id. */
async function queued(executionId: string, results: string | null): Promise<string> {
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

describe('execution upload results', () => {
  it('reads an array of objects: columns in order of first appearance, exact values, absent keys null', async () => {
    const id = await queued(
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
    const t = loadTable(exec.keys, exec.rows);
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
    const id = await queued(
      'res_object',
      `{"columns": ["Zeta", {"name": "alpha"}], "rows": [["x", 1.50], [], [null, 2, "2024-02-29"]]}`,
    );
    const exec = (await readUploadSource(pool, id))!.execution!;
    expect(exec).toMatchObject({ resultsKind: 'object', keys: ['Zeta', 'alpha', 'COLUMN_3'] });
    const t = loadTable(exec.keys, exec.rows);
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
    const scalar = (await readUploadSource(pool, await queued('res_scalar', '"text"')))!.execution!;
    expect(scalar).toMatchObject({ resultsKind: 'string', keys: [], rows: [] });
    // Deleting an execution deletes its item (ON DELETE CASCADE): the item is gone, not its execution.
    const id = await queued('res_gone', '[{"a": 1}]');
    await pool.query(`DELETE FROM workflow_executions WHERE execution_id = 'res_gone'`);
    expect(await readUploadSource(pool, id)).toBeNull();
    expect(await readUploadSource(pool, '00000000-0000-4000-8000-000000000000')).toBeNull();
  });
});
