/**
 * Column inference for execution results (each column's Snowflake type is inferred from its values) and
 * the Snowflake names of an upload's tables.
 *
 * Input cells come from PostgreSQL's text of the results as their jsonb kind and text (./results.ts), so numbers arrive as
 * their exact decimal text (jsonb keeps numeric exactly and never prints exponents) and are never
 * passed through JS `number`.
 *
 * Rules, per column over all non-null values:
 * | values                                   | Snowflake type                   |
 * |------------------------------------------|----------------------------------|
 * | none (all null / absent)                 | VARCHAR                          |
 * | booleans                                 | BOOLEAN                          |
 * | numbers, integer digits + scale ≤ 38     | NUMBER(38, max scale)            |
 * | numbers beyond that                      | FLOAT (the only lossy case)      |
 * | strings, all `YYYY-MM-DD`                | DATE                             |
 * | strings, all ISO timestamps with a zone  | TIMESTAMP_TZ (offset kept)       |
 * | strings, all ISO timestamps without zone | TIMESTAMP_NTZ                    |
 * | other strings                            | VARCHAR                          |
 * | any object or array                      | VARIANT (every value as JSON)    |
 * | mixed scalars (e.g. numbers and strings) | VARCHAR (exact text of each)     |
 */
import { createHash } from 'node:crypto';
import type { ResultRows } from './results.js';

/** `jsonb_typeof` of a value. */
export type JsonKind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null';

/** Snowflake types the inference produces. */
export type InferredType =
  'VARCHAR' | 'BOOLEAN' | 'FLOAT' | 'DATE' | 'TIMESTAMP_TZ' | 'TIMESTAMP_NTZ' | 'VARIANT' | `NUMBER(38,${number})`;

/** One inferred column: the result key, its Snowflake column name and type. */
export interface InferredColumn {
  key: string;
  name: string;
  sfType: InferredType;
}

const TS_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;
const TZ_RE = /(Z|[+-]\d{2}(:?\d{2})?)$/;

/** Days of each month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The value of the decimal digit at `s[i]`, or -1 when it is not one. */
function digitAt(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/**
 * Whether `s` starts with `YYYY-MM-DD` (digits and dashes), a day of the (proleptic Gregorian) calendar.
 * By character codes: it runs for every string cell of a column that has only held dates so far.
 */
function startsWithDate(s: string): boolean {
  const y0 = digitAt(s, 0);
  const y1 = digitAt(s, 1);
  const y2 = digitAt(s, 2);
  const y3 = digitAt(s, 3);
  const m0 = digitAt(s, 5);
  const m1 = digitAt(s, 6);
  const d0 = digitAt(s, 8);
  const d1 = digitAt(s, 9);
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const m = m0 * 10 + m1;
  const d = d0 * 10 + d1;
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 && leap ? 29 : MONTH_DAYS[m - 1]);
}

/** Accumulates what one column's values look like. */
export class ColumnStats {
  private readonly kinds = new Set<JsonKind>();
  /** The kind observed last (added to `kinds` already). */
  private lastKind: JsonKind | null = null;
  private maxInt = 1;
  private maxScale = 0;
  private numbersFit = true;
  private allDate = true;
  private allTsTz = true;
  private allTsNtz = true;

  /** Observe one value: its jsonb kind and its text (a string's own characters, the JSON text of anything else). */
  observe(kind: JsonKind, text: string): void {
    if (kind === 'null') return;
    if (kind !== this.lastKind) {
      this.kinds.add(kind);
      this.lastKind = kind;
    }
    if (kind === 'number') {
      if (this.numbersFit) this.observeNumber(text);
    } else if (kind === 'string') {
      if (this.allDate && !(text.length === 10 && startsWithDate(text))) this.allDate = false;
      if (this.allTsTz || this.allTsNtz) {
        const ts = TS_RE.test(text) && startsWithDate(text);
        const tz = ts && TZ_RE.test(text.slice(10));
        if (this.allTsTz && !(ts && tz)) this.allTsTz = false;
        if (this.allTsNtz && !(ts && !tz)) this.allTsNtz = false;
      }
    }
  }

  /**
   * A number's integer digits (leading zeros aside) and scale, by character codes: `-?digits(.digits)?`
   * fits NUMBER(38, s) when digits + scale ≤ 38; anything else (an exponent) does not.
   */
  private observeNumber(text: string): void {
    const n = text.length;
    let i = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
    const intStart = i;
    while (i < n && digitAt(text, i) >= 0) i++;
    const intEnd = i;
    let scale = 0;
    if (i < n && text.charCodeAt(i) === 46) {
      // '.'
      const fracStart = ++i;
      while (i < n && digitAt(text, i) >= 0) i++;
      scale = i - fracStart;
      if (scale === 0) i = -1;
    }
    if (intEnd === intStart || i !== n) {
      this.numbersFit = false;
      return;
    }
    let z = intStart;
    while (z < intEnd - 1 && text.charCodeAt(z) === 48) z++;
    const intDigits = intEnd - z;
    if (intDigits > this.maxInt) this.maxInt = intDigits;
    if (scale > this.maxScale) this.maxScale = scale;
  }

  /** The Snowflake type for everything observed (see the module table). */
  type(): InferredType {
    const k = this.kinds;
    if (k.size === 0) return 'VARCHAR';
    if (k.has('object') || k.has('array')) return 'VARIANT';
    if (k.size > 1) return 'VARCHAR';
    if (k.has('boolean')) return 'BOOLEAN';
    if (k.has('number')) {
      return this.numbersFit && this.maxInt + this.maxScale <= 38 ? `NUMBER(38,${this.maxScale})` : 'FLOAT';
    }
    if (this.allDate) return 'DATE';
    if (this.allTsTz) return 'TIMESTAMP_TZ';
    if (this.allTsNtz) return 'TIMESTAMP_NTZ';
    return 'VARCHAR';
  }
}

/**
 * The text loaded into the VARCHAR staging column for one value (its jsonb kind and text, as
 * {@link ColumnStats.observe} takes them) of a column of type `sfType`: SQL NULL for JSON null, JSON
 * text for VARIANT columns (PARSE_JSON'd by the load), the string itself for strings, the exact JSON
 * text for numbers and booleans.
 */
export function loadText(kind: JsonKind, text: string, sfType: InferredType): string | null {
  if (kind === 'null') return null;
  if (kind === 'string' && sfType === 'VARIANT') return JSON.stringify(text);
  return text;
}

/**
 * Snowflake column names for result keys, in order: a plain identifier (`[A-Za-z_][A-Za-z0-9_$]*`)
 * is upper-cased (so users can write it unquoted), anything else is kept exactly (floe quotes every
 * name). Names that collide after that get `_2`, `_3`, ….
 */
export function columnNames(keys: string[]): string[] {
  const used = new Set<string>();
  return keys.map((k) => {
    const base = k === '' ? 'COLUMN' : /^[A-Za-z_][A-Za-z0-9_$]*$/.test(k) ? k.toUpperCase() : k;
    let name = base;
    for (let i = 2; used.has(name.toUpperCase()); i++) name = `${base}_${i}`;
    used.add(name.toUpperCase());
    return name;
  });
}

/**
 * The target table name `WORKFLOW_EXECUTION_<YYYYMMDD>_<EXECUTION_ID>` (`workflow_execution_<date>_<execution_id>`,
 * upper-cased and restricted to `[A-Z0-9_]` so it can be written unquoted). The date is the UTC completion date. When the id needed more than upper-casing,
 * 8 hex characters of its SHA-256 are appended so two ids never share a table.
 */
export function targetTableName(executionId: string, completedAt: Date): string {
  const d = completedAt.toISOString().slice(0, 10).replaceAll('-', '');
  const up = executionId.toUpperCase();
  const clean = up.replace(/[^A-Z0-9_]/g, '_').slice(0, 200);
  const suffix =
    clean === up ? '' : `_${createHash('sha256').update(executionId).digest('hex').slice(0, 8).toUpperCase()}`;
  return `WORKFLOW_EXECUTION_${d}_${clean}${suffix}`;
}

/** One execution's results ready to load: the inferred columns and each row's texts, in column order. */
export interface LoadTable {
  columns: InferredColumn[];
  /** One entry per result row; {@link loadText} of each cell, null where the value is null or absent. */
  rows: (string | null)[][];
}

/**
 * The columns (names and inferred types) and text rows of an execution's results, from the cells
 * ./results.ts reads: `keys` in column order, `rows` one entry per row in that order (an absent cell,
 * or a row shorter than `keys`, is null). A row that needs no change (all its cells, no string in a
 * VARIANT column) is the input's own array in the result.
 */
export function loadTable(keys: string[], rows: ResultRows): LoadTable {
  const { texts, kinds } = rows;
  const width = keys.length;
  const stats = keys.map(() => new ColumnStats());
  for (let r = 0; r < texts.length; r++) {
    const t = texts[r];
    const k = kinds[r];
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (c !== null) stats[i].observe(k[i], c);
    }
  }
  const names = columnNames(keys);
  const columns = keys.map((key, i) => ({ key, name: names[i], sfType: stats[i].type() }));
  const variant = columns.some((c) => c.sfType === 'VARIANT');
  const out = texts.map((t, r) => {
    if (t.length === width && !variant) return t;
    const row = new Array<string | null>(width).fill(null);
    const k = kinds[r];
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (c !== null) row[i] = loadText(k[i], c, columns[i].sfType);
    }
    return row;
  });
  return { columns, rows: out };
}
