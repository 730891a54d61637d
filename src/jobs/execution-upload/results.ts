/**
 * The executions an upload reads (`workflow_executions`, migrations/0003_execution_upload.sql): a queue
 * item's execution, its facts and its results, in one statement. PostgreSQL encodes every result cell
 * as one JSON string (its jsonb kind as a letter, then its text) and sends the results as one JSON
 * text, so the worker decodes them with one `JSON.parse` instead of a protocol row per cell, and
 * numbers keep their exact decimal text (./infer.ts): jsonb keeps numeric exactly and never prints
 * exponents.
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

/**
 * SQL of one cell ({@link ResultCell}) as JSON text, from the jsonb value `v`. A jsonb string's text is
 * already a quoted, escaped JSON string and a number's or boolean's needs no escaping, so only objects
 * and arrays go through `to_json`.
 */
const cellJson = (v: string) =>
  `CASE jsonb_typeof(${v}) WHEN 'string' THEN '"s' || substr(${v}::text, 2) WHEN 'number' THEN '"n' || ${v}::text || '"'
     WHEN 'boolean' THEN '"b' || ${v}::text || '"' WHEN 'null' THEN 'null' ELSE to_json(left(jsonb_typeof(${v}), 1) || ${v}::text)::text END`;

/** SQL of a JSON array text from `string_agg(…)` of its elements' texts (null when there are none). */
const jsonArray = (agg: string) => `'[' || COALESCE(${agg}, '') || ']'`;

/** SQL of one row of an array of objects, element `e.v`: its keys and cells alternating, in jsonb's key order. */
const KEYED_ROW = `(SELECT string_agg(to_json(kv.key)::text || ',' || ${cellJson('kv.value')}, ',' ORDER BY kv.n)
   FROM jsonb_each(CASE WHEN jsonb_typeof(e.v) = 'object' THEN e.v ELSE jsonb_build_object('value', e.v) END)
        WITH ORDINALITY AS kv(key, value, n))`;

/** SQL of one row of `{columns, rows}`, the array `e.v`: its cells in order. */
const POSITIONAL_ROW = `(SELECT string_agg(${cellJson('c.v')}, ',' ORDER BY c.ord) FROM jsonb_array_elements(e.v) WITH ORDINALITY AS c(v, ord))`;

/** SQL of the JSON array of `row` (a JSON array's elements) for each element `e.v` of the jsonb array `elements`, in order. */
const rowsJson = (row: string, elements: string) =>
  `(SELECT ${jsonArray(`string_agg(${jsonArray(row)}, ',' ORDER BY e.ord)`)} FROM jsonb_array_elements(${elements}) WITH ORDINALITY AS e(v, ord))`;

/**
 * Results as JSON text, by kind (built with `string_agg`, which costs PostgreSQL far less than nested
 * `json_agg`s). An array of objects: per element, its keys and cells alternating, in jsonb's key order
 * (by length, then bytes); an element that is not an object is `{"value": element}`.
 * `{"columns": [names or {name}], "rows": [[...], ...]}`: the column names, and per row its cells in order.
 */
const RESULTS_SQL = `
  CASE jsonb_typeof(w.results) WHEN 'object' THEN
    (SELECT COALESCE(json_agg(COALESCE(c.v->>'name', c.v #>> '{}') ORDER BY c.ord), '[]')
       FROM jsonb_array_elements(COALESCE(w.results->'columns', '[]')) WITH ORDINALITY AS c(v, ord))
  END AS keys,
  CASE jsonb_typeof(w.results)
    WHEN 'array' THEN ${rowsJson(KEYED_ROW, 'w.results')}
    WHEN 'object' THEN ${rowsJson(POSITIONAL_ROW, "COALESCE(w.results->'rows', '[]')")}
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
    rows: string | null;
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
  const parsed = r.rows === null ? [] : (JSON.parse(r.rows) as ResultCell[][]);
  const { keys, rows: cells } = r.kind === 'array' ? alignByKey(parsed) : withColumnNames(r.keys ?? [], parsed);
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
