/**
 * The executions an upload reads (`workflow_executions`, migrations/0003_execution_upload.sql): their
 * facts and their results as cells. Results stay in PostgreSQL until the upload activity reads them;
 * each cell comes as `(jsonb_typeof, value::text)`, so numbers keep their exact decimal text (./infer.ts).
 */
import type { Queryable } from './queue.js';

/** The execution's facts an upload needs (results stay in PostgreSQL; see {@link readResultCells}). */
export interface ExecutionInfo {
  executionId: string;
  userId: string;
  status: string;
  completedAt: Date;
  /** jsonb_typeof(results): 'array' | 'object' | null. */
  resultsKind: string | null;
  resultsRef: string | null;
}

/** Read an execution (null when missing). */
export async function getExecution(db: Queryable, executionId: string): Promise<ExecutionInfo | null> {
  const { rows } = await db.query<{
    execution_id: string;
    user_id: string;
    status: string;
    completed_at: Date | null;
    updated_at: Date;
    kind: string | null;
    results_ref: string | null;
  }>(
    `SELECT execution_id, user_id, status, completed_at, updated_at, jsonb_typeof(results) AS kind, results_ref
       FROM workflow_executions WHERE execution_id = $1`,
    [executionId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    executionId: r.execution_id,
    userId: r.user_id,
    status: r.status,
    completedAt: r.completed_at ?? r.updated_at,
    resultsKind: r.kind,
    resultsRef: r.results_ref,
  };
}

/** One result cell: row number (1-based), column key, jsonb kind, JSON text. */
export type ResultCell = [row: number, key: string, kind: string, json: string];

/**
 * The results of an execution as cells, in row order. Accepts a JSON array of objects (columns in
 * order of first appearance; jsonb orders an object's keys by length, then bytes) or
 * `{"columns": [names or {name}], "rows": [[...], ...]}` (column order kept).
 * @returns the column keys in order and the cells (rows × columns, absent keys omitted).
 */
export async function readResultCells(
  db: Queryable,
  executionId: string,
  kind: 'array' | 'object',
): Promise<{ keys: string[]; cells: ResultCell[] }> {
  if (kind === 'array') {
    const { rows } = await db.query<string[]>({
      text: `SELECT e.ord::text, kv.key, jsonb_typeof(kv.value), kv.value::text
               FROM workflow_executions w
               CROSS JOIN LATERAL jsonb_array_elements(w.results) WITH ORDINALITY AS e(v, ord)
               CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e.v) = 'object' THEN e.v ELSE jsonb_build_object('value', e.v) END) AS kv
              WHERE w.execution_id = $1
              ORDER BY e.ord`,
      values: [executionId],
      rowMode: 'array',
    });
    const keys: string[] = [];
    const seen = new Set<string>();
    const cells: ResultCell[] = rows.map((r) => {
      if (!seen.has(r[1])) {
        seen.add(r[1]);
        keys.push(r[1]);
      }
      return [Number(r[0]), r[1], r[2], r[3]];
    });
    return { keys, cells };
  }
  const { rows: colRows } = await db.query<{ name: string }>(
    `SELECT COALESCE(c.v->>'name', c.v #>> '{}') AS name
       FROM workflow_executions w CROSS JOIN LATERAL jsonb_array_elements(COALESCE(w.results->'columns', '[]')) WITH ORDINALITY AS c(v, ord)
      WHERE w.execution_id = $1 ORDER BY c.ord`,
    [executionId],
  );
  const keys = colRows.map((r) => r.name);
  const { rows } = await db.query<string[]>({
    text: `SELECT e.ord::text, (c.ord - 1)::text, jsonb_typeof(c.v), c.v::text
             FROM workflow_executions w
             CROSS JOIN LATERAL jsonb_array_elements(COALESCE(w.results->'rows', '[]')) WITH ORDINALITY AS e(v, ord)
             CROSS JOIN LATERAL jsonb_array_elements(e.v) WITH ORDINALITY AS c(v, ord)
            WHERE w.execution_id = $1
            ORDER BY e.ord, c.ord`,
    values: [executionId],
    rowMode: 'array',
  });
  const cells: ResultCell[] = [];
  for (const r of rows) {
    const i = Number(r[1]);
    if (i >= keys.length) keys.push(`COLUMN_${i + 1}`);
    cells.push([Number(r[0]), keys[i], r[2], r[3]]);
  }
  return { keys, cells };
}
