/**
 * The executions an upload reads (`workflow_executions`, migrations/0003_execution_upload.sql): a queue
 * item's execution, its facts and its results, in one statement. PostgreSQL encodes every result cell
 * as one JSON string (its jsonb kind as a letter, then its text) and sends the results as one JSON
 * document, so the worker decodes them with one `JSON.parse` (by the pg driver) instead of a row per
 * cell, and numbers keep their exact decimal text (./infer.ts): jsonb keeps numeric exactly and never
 * prints exponents.
 */
import type { Queryable } from './queue.js';

/**
 * One result cell: null for JSON null or an absent key, else the jsonb kind's first letter (`s`tring,
 * `n`umber, `b`oolean, `o`bject, `a`rray) followed by the value's text: a string's own characters, the
 * JSON text of anything else.
 */
export type ResultCell = string | null;

/** An execution's facts and results as an upload needs them. */
export interface ExecutionInfo {
  executionId: string;
  /** completed_at, or updated_at when it was never set. */
  completedAt: Date;
  /** jsonb_typeof(results): 'array' | 'object' | another JSON type | null. */
  resultsKind: string | null;
  resultsRef: string | null;
  /** Column keys in order (empty unless the results are an array or an object). */
  keys: string[];
  /** One entry per result row, its cells in the order of `keys` (a shorter row: the rest absent). */
  rows: ResultCell[][];
}

/** A queue item's ids and its execution (null when the execution does not exist). */
export interface UploadSource {
  executionId: string;
  userId: string;
  execution: ExecutionInfo | null;
}

/** SQL of one cell ({@link ResultCell}) from the jsonb value `v`. */
const cell = (v: string) =>
  `CASE jsonb_typeof(${v}) WHEN 'null' THEN NULL WHEN 'string' THEN 's' || (${v} #>> '{}') ELSE left(jsonb_typeof(${v}), 1) || ${v}::text END`;

/**
 * Results as JSON, by kind. An array of objects: per element, its keys and cells alternating, in jsonb's
 * key order (by length, then bytes); an element that is not an object is `{"value": element}`.
 * `{"columns": [names or {name}], "rows": [[...], ...]}`: the column names, and per row its cells in order.
 */
const RESULTS_SQL = `
  CASE jsonb_typeof(w.results) WHEN 'object' THEN
    (SELECT COALESCE(json_agg(COALESCE(c.v->>'name', c.v #>> '{}') ORDER BY c.ord), '[]')
       FROM jsonb_array_elements(COALESCE(w.results->'columns', '[]')) WITH ORDINALITY AS c(v, ord))
  END AS keys,
  CASE jsonb_typeof(w.results)
    WHEN 'array' THEN
      (SELECT COALESCE(json_agg(
                (SELECT COALESCE(json_agg(p.x ORDER BY kv.n, p.i), '[]')
                   FROM jsonb_each(CASE WHEN jsonb_typeof(e.v) = 'object' THEN e.v ELSE jsonb_build_object('value', e.v) END)
                        WITH ORDINALITY AS kv(key, value, n)
                  CROSS JOIN LATERAL (VALUES (1, kv.key), (2, ${cell('kv.value')})) AS p(i, x))
                ORDER BY e.ord), '[]')
         FROM jsonb_array_elements(w.results) WITH ORDINALITY AS e(v, ord))
    WHEN 'object' THEN
      (SELECT COALESCE(json_agg(
                (SELECT COALESCE(json_agg(${cell('c.v')} ORDER BY c.ord), '[]')
                   FROM jsonb_array_elements(e.v) WITH ORDINALITY AS c(v, ord))
                ORDER BY e.ord), '[]')
         FROM jsonb_array_elements(COALESCE(w.results->'rows', '[]')) WITH ORDINALITY AS e(v, ord))
  END AS rows`;

/**
 * Read queue item `syncId`'s execution and its results (only reads; null when the item does not exist).
 * Rows of an array of objects get their columns in order of first appearance; `{columns, rows}` keeps
 * the column order, and cells beyond the named columns get columns `COLUMN_<n>` (1-based).
 */
export async function readUploadSource(db: Queryable, syncId: string): Promise<UploadSource | null> {
  const { rows } = await db.query<{
    execution_id: string;
    user_id: string;
    found: boolean;
    completed_at: Date | null;
    kind: string | null;
    results_ref: string | null;
    keys: string[] | null;
    rows: ResultCell[][] | null;
  }>(
    `SELECT q.execution_id, q.user_id, w.execution_id IS NOT NULL AS found, COALESCE(w.completed_at, w.updated_at) AS completed_at,
            jsonb_typeof(w.results) AS kind, w.results_ref, ${RESULTS_SQL}
       FROM snowflake_sync_queue q LEFT JOIN workflow_executions w ON w.execution_id = q.execution_id
      WHERE q.id = $1`,
    [syncId],
  );
  const r = rows[0];
  if (!r) return null;
  const source = { executionId: r.execution_id, userId: r.user_id };
  if (!r.found) return { ...source, execution: null };
  const { keys, rows: cells } =
    r.kind === 'array' ? alignByKey(r.rows ?? []) : withColumnNames(r.keys ?? [], r.rows ?? []);
  return {
    ...source,
    execution: {
      executionId: r.execution_id,
      completedAt: r.completed_at!,
      resultsKind: r.kind,
      resultsRef: r.results_ref,
      keys,
      rows: cells,
    },
  };
}

/** Rows given as alternating keys and cells, as rows of cells by key (keys in order of first appearance). */
function alignByKey(pairs: ResultCell[][]): { keys: string[]; rows: ResultCell[][] } {
  const keys: string[] = [];
  const index = new Map<string, number>();
  const rows = pairs.map((p) => {
    const row: ResultCell[] = [];
    for (let j = 0; j < p.length; j += 2) {
      const key = p[j] as string;
      let i = index.get(key);
      if (i === undefined) {
        i = keys.length;
        index.set(key, i);
        keys.push(key);
      }
      row[i] = p[j + 1] ?? null;
    }
    return row;
  });
  return { keys, rows };
}

/** Positional rows with the named columns `keys`, extended by `COLUMN_<n>` for cells beyond them. */
function withColumnNames(keys: string[], rows: ResultCell[][]): { keys: string[]; rows: ResultCell[][] } {
  const width = rows.reduce((w, r) => Math.max(w, r.length), keys.length);
  const all = [...keys];
  while (all.length < width) all.push(`COLUMN_${all.length + 1}`);
  return { keys: all, rows };
}
