/**
 * The executions an upload reads (`workflow_executions`, migrations/0003_execution_upload.sql): a queue
 * item's execution, its facts and its results, in one statement. PostgreSQL sends the results as
 * jsonb's own text (`results::text`, the cheapest form it has: no per-cell work on its side), and
 * {@link parseResultRows} reads it in one pass into each cell's jsonb kind and exact text, so numbers
 * keep their exact decimal text (./infer.ts): jsonb keeps numeric exactly and never prints exponents,
 * and the text is never passed through JS `number`.
 */
import { floeError, NonRetryable } from '../../errors.js';
import type { JsonKind } from './infer.js';
import type { Queryable } from './queue.js';

/**
 * An execution's result rows, cell by cell in the order of the columns: each cell's text (a string's
 * own characters, the JSON text of anything else; null for JSON null or an absent key) and, in
 * `kinds`, its jsonb kind (`'null'` where the text is null). A row shorter than the columns: the rest
 * absent.
 */
export interface ResultRows {
  texts: (string | null)[][];
  kinds: JsonKind[][];
}

/** An execution's facts and results as an upload needs them. */
export interface ExecutionInfo extends ResultRows {
  executionId: string;
  /** completed_at, or updated_at when it was never set. */
  completedAt: Date;
  /** jsonb_typeof(results): 'array' | 'object' | another JSON type | null. */
  resultsKind: string | null;
  resultsRef: string | null;
  /** Column keys in order (empty unless the results are an array or an object). */
  keys: string[];
}

/** A queue item's ids and its execution (null when the execution does not exist). */
export interface UploadSource {
  executionId: string;
  userId: string;
  execution: ExecutionInfo | null;
}

/**
 * The results' column names (`{columns, rows}` only: names, or objects with a `name`) and their rows as
 * jsonb text: the whole array of objects, or the `rows` of `{columns, rows}`.
 */
const RESULTS_SQL = `
  CASE jsonb_typeof(w.results) WHEN 'object' THEN
    (SELECT COALESCE(json_agg(COALESCE(c.v->>'name', c.v #>> '{}') ORDER BY c.ord), '[]')
       FROM jsonb_array_elements(COALESCE(w.results->'columns', '[]')) WITH ORDINALITY AS c(v, ord))
  END AS keys,
  CASE jsonb_typeof(w.results)
    WHEN 'array' THEN w.results::text
    WHEN 'object' THEN COALESCE(w.results->'rows', '[]')::text
  END AS rows`;

/**
 * Read queue item `syncId`'s execution and its results (only reads; null when the item does not exist).
 * Rows of an array of objects get their columns in order of first appearance, each object's keys in
 * jsonb's order (by length, then bytes), and an element that is not an object is `{"value": element}`;
 * `{columns, rows}` keeps the column order, and cells beyond the named columns get columns `COLUMN_<n>`
 * (1-based).
 * @throws InvalidRequest when the `rows` of `{columns, rows}` are not an array of arrays.
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
  const facts = {
    executionId: r.execution_id,
    completedAt: r.completed_at!,
    resultsKind: r.kind,
    resultsRef: r.results_ref,
  };
  if (r.rows === null) return { ...source, execution: { ...facts, keys: [], texts: [], kinds: [] } };
  let parsed: ResultRows & { keys: string[] };
  try {
    parsed = r.kind === 'array' ? parseResultRows(r.rows, 'objects') : parseResultRows(r.rows, 'arrays', r.keys ?? []);
  } catch (err) {
    if (err instanceof ResultsShapeError)
      throw floeError(NonRetryable.InvalidRequest, `execution ${r.execution_id}: ${err.message}`);
    throw err;
  }
  return { ...source, execution: { ...facts, ...parsed } };
}

/** Results whose shape the upload cannot read (a `rows` that is not an array of arrays). */
export class ResultsShapeError extends Error {
  override readonly name = 'ResultsShapeError';
}

// Character codes the parser compares with.
const QUOTE = 34; // "
const BACKSLASH = 92; // \
const COMMA = 44; // ,
const COLON = 58; // :
const OPEN_BRACE = 123; // {
const CLOSE_BRACE = 125; // }
const OPEN_BRACKET = 91; // [
const CLOSE_BRACKET = 93; // ]

/**
 * Read the rows of results from their JSON text (jsonb's output; any valid JSON is read the same).
 * `objects`: a JSON array whose elements are rows, each an object (keys and cells; any other element is
 * `{"value": element}`), columns in order of first appearance. `arrays`: a JSON array of arrays, each a
 * row of cells in order; the columns are `keys`, extended by `COLUMN_<n>` for cells beyond them.
 * A cell's text is a string's decoded characters, a number's or boolean's own text, an object's or
 * array's JSON text exactly as written.
 * @throws ResultsShapeError when `arrays` text is not an array of arrays (or `objects` text not an
 *   array); Error on text that is not JSON.
 */
export function parseResultRows(
  text: string,
  shape: 'objects' | 'arrays',
  keys: string[] = [],
): ResultRows & { keys: string[] } {
  const s = text;
  let i = 0;
  // The position of the next backslash at or after `i` (Infinity: none left); strings before it need
  // no unescaping, so most are one slice.
  let nextBackslash = -1;

  const fail = (what: string): never => {
    throw new Error(`results text: ${what} at offset ${i}`);
  };
  const skipWs = () => {
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  };
  /** End (the closing quote's index) of the string whose opening quote is at `from`. */
  const stringEnd = (from: number): number => {
    let j = s.indexOf('"', from + 1);
    for (;;) {
      if (j < 0) fail('unterminated string');
      let k = j - 1;
      while (s.charCodeAt(k) === BACKSLASH) k--;
      if ((j - 1 - k) % 2 === 0) return j; // an even run of backslashes: the quote is not escaped
      j = s.indexOf('"', j + 1);
    }
  };
  /** The string at `i` (its opening quote), decoded; `i` moves past it. */
  const readString = (): string => {
    const end = s.indexOf('"', i + 1);
    if (nextBackslash !== Infinity && nextBackslash <= i) {
      const b = s.indexOf('\\', i + 1);
      nextBackslash = b < 0 ? Infinity : b;
    }
    if (end >= 0 && end < nextBackslash) {
      const v = s.slice(i + 1, end);
      i = end + 1;
      return v;
    }
    const close = stringEnd(i);
    const v = JSON.parse(s.slice(i, close + 1)) as string;
    i = close + 1;
    return v;
  };
  /** The end (exclusive) of the object or array at `i`. */
  const nestedEnd = (): number => {
    let depth = 0;
    let j = i;
    for (;;) {
      const c = s.charCodeAt(j);
      if (c === QUOTE) j = stringEnd(j);
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      } else if (Number.isNaN(c)) fail('unterminated value');
      j++;
    }
  };
  // The cell just read.
  let kind: JsonKind = 'null';
  let cell: string | null = null;
  /** Read the value at `i` into `kind` and `cell`; `i` moves past it. */
  const readCell = () => {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      kind = 'string';
      cell = readString();
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      kind = c === OPEN_BRACE ? 'object' : 'array';
      const end = nestedEnd();
      cell = s.slice(i, end);
      i = end;
    } else if (c === 116 /* t */ || c === 102 /* f */) {
      kind = 'boolean';
      cell = c === 116 ? 'true' : 'false';
      i += cell.length;
    } else if (c === 110 /* n */) {
      kind = 'null';
      cell = null;
      i += 4;
    } else {
      const start = i;
      for (;;) {
        const d = s.charCodeAt(i);
        // digits, '-', '+', '.', 'e', 'E'
        if ((d >= 48 && d <= 57) || d === 45 || d === 43 || d === 46 || d === 101 || d === 69) i++;
        else break;
      }
      if (i === start) fail('unexpected character');
      kind = 'number';
      cell = s.slice(start, i);
    }
  };
  /** Expect `code` at `i` (after whitespace) and move past it. */
  const expect = (code: number, what: string) => {
    skipWs();
    if (s.charCodeAt(i) !== code) fail(`expected ${what}`);
    i++;
  };
  /** Whether the list whose opening was just read continues (`,`) or ends with `close`; moves past either. */
  const more = (close: number): boolean => {
    skipWs();
    const c = s.charCodeAt(i++);
    if (c === COMMA) return true;
    if (c === close) return false;
    return fail('expected , or the end of a list');
  };
  /** Read the list (array or object) whose opening character is at `i`: `item` at each element, up to `close`. */
  const list = (close: number, item: () => void) => {
    i++;
    skipWs();
    if (s.charCodeAt(i) === close) {
      i++;
      return;
    }
    do {
      skipWs();
      item();
    } while (more(close));
  };

  // The keys of the last object read, in its order: each as written (with its quotes) and its column.
  const keyTexts: string[] = [];
  const keyColumns: number[] = [];
  const texts: (string | null)[][] = [];
  const kinds: JsonKind[][] = [];
  const cols = [...keys];
  const index = new Map<string, number>();
  /** Set cell `at` of the row, padding any gap before it with nulls (rows stay packed arrays). */
  const put = (rowTexts: (string | null)[], rowKinds: JsonKind[], at: number) => {
    while (rowTexts.length < at) {
      rowTexts.push(null);
      rowKinds.push('null');
    }
    rowTexts[at] = cell;
    rowKinds[at] = kind;
  };
  const column = (key: string): number => {
    let k = index.get(key);
    if (k === undefined) {
      k = cols.length;
      index.set(key, k);
      cols.push(key);
    }
    return k;
  };

  skipWs();
  if (s.charCodeAt(i) !== OPEN_BRACKET) throw new ResultsShapeError('rows must be a JSON array');
  list(CLOSE_BRACKET, () => {
    const rowTexts: (string | null)[] = [];
    const rowKinds: JsonKind[] = [];
    const c = s.charCodeAt(i);
    if (shape === 'arrays') {
      if (c !== OPEN_BRACKET) throw new ResultsShapeError('each of rows must be a JSON array of cells');
      list(CLOSE_BRACKET, () => {
        readCell();
        rowTexts.push(cell);
        rowKinds.push(kind);
      });
    } else if (c === OPEN_BRACE) {
      let slot = 0;
      list(CLOSE_BRACE, () => {
        if (s.charCodeAt(i) !== QUOTE) fail('expected a key');
        // Rows mostly repeat the keys of the row before in the same order: a key written as the
        // one expected next is that column, without decoding it.
        const guess = keyTexts[slot];
        let at: number;
        if (guess !== undefined && s.startsWith(guess, i)) {
          at = keyColumns[slot];
          i += guess.length;
        } else {
          const start = i;
          at = column(readString());
          keyTexts[slot] = s.slice(start, i);
          keyColumns[slot] = at;
        }
        slot++;
        expect(COLON, ':');
        skipWs();
        readCell();
        put(rowTexts, rowKinds, at);
      });
    } else {
      readCell();
      put(rowTexts, rowKinds, column('value'));
    }
    texts.push(rowTexts);
    kinds.push(rowKinds);
  });
  skipWs();
  if (i < s.length) fail('unexpected text after the rows');
  if (shape === 'arrays') {
    const width = texts.reduce((w, r) => Math.max(w, r.length), cols.length);
    while (cols.length < width) cols.push(`COLUMN_${cols.length + 1}`);
  }
  return { keys: cols, texts, kinds };
}
