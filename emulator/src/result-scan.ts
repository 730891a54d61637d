/**
 * A session's query history, for `LAST_QUERY_ID([n])` and `TABLE(RESULT_SCAN('<query id>'))`.
 *
 * Snowflake ("LAST_QUERY_ID", "RESULT_SCAN"): LAST_QUERY_ID(-1) (the default) is the session's most
 * recent query, -2 the one before, a positive n the n-th query of the session; RESULT_SCAN reads a
 * query's result as a table, with its column names and types. The emulator answers RESULT_SCAN from
 * the result it sent the driver: the rowtype and the JSON cells of an inline result (up to 2048 rows,
 * which covers SHOW, DESC, DML counts and small queries) become a VALUES relation with each cell cast
 * back to its column's type. Differences from Snowflake: a chunked result (over 2048 rows) cannot be
 * scanned (002040), only the session's own queries are found (Snowflake finds the user's queries of
 * the last 24 hours in any session), and only the last {@link KEPT_RESULTS} results are held.
 */
import type { RowTypeColumn } from './contract.js';
import { SfErrors, SnowflakeError } from './errors.js';
import { quoteIdent, quoteString } from './sql/tokenizer.js';
import { TSTZ_DUCKDB } from './sql/types.js';

/** Results held per session for RESULT_SCAN; older query ids stay known for LAST_QUERY_ID. */
const KEPT_RESULTS = 100;

/** What a finished query left: its inline result, `chunked` for a larger one, or `failed`. */
type Kept = { rowtype: RowTypeColumn[]; rowset: (string | null)[][] } | 'chunked' | 'failed';

/** The query-response `data` fields a kept result is read from. */
export interface ResultData {
  rowtype?: RowTypeColumn[];
  rowset?: (string | null)[][];
  chunks?: unknown[];
}

export class QueryHistory {
  private readonly ids: string[] = [];
  private readonly results = new Map<string, Kept>();

  /** Records a finished query: its response `data` when it succeeded, undefined when it failed. */
  record(queryId: string, data: ResultData | undefined): void {
    this.ids.push(queryId);
    const chunked = (data?.chunks?.length ?? 0) > 0;
    this.results.set(
      queryId,
      !data ? 'failed' : chunked ? 'chunked' : { rowtype: data.rowtype ?? [], rowset: data.rowset ?? [] },
    );
    if (this.results.size > KEPT_RESULTS) this.results.delete(this.results.keys().next().value as string);
  }

  /** LAST_QUERY_ID(n): negative counts back from the latest (-1), positive from the first (1); null if none. */
  lastQueryId(n = -1): string | null {
    const k = n < 0 ? this.ids.length + n : n - 1;
    return this.ids[k] ?? null;
  }

  /** DuckDB SQL of the relation RESULT_SCAN(queryId) reads. Throws SnowflakeError for an unknown, failed or chunked query. */
  relation(queryId: string): string {
    const kept = this.results.get(queryId);
    if (!kept || kept === 'failed')
      throw new SnowflakeError('000709', '02000', `Statement ${queryId} not found or has no result`);
    if (kept === 'chunked') throw SfErrors.unsupported('RESULT_SCAN of a result over 2048 rows');
    return valuesRelation(kept.rowtype, kept.rowset);
  }
}

/** `(SELECT ...)` giving `rows` (JSON cells) as columns named and typed as `rowtype` says. */
function valuesRelation(rowtype: RowTypeColumn[], rows: (string | null)[][]): string {
  if (rowtype.length === 0) throw SfErrors.unsupported('RESULT_SCAN of a statement without result columns');
  const names = rowtype.map((c) => quoteIdent(c.name));
  if (rows.length === 0) {
    const cols = rowtype.map((c, k) => `CAST(NULL AS ${duckdbType(c)}) AS ${names[k]}`);
    return `(SELECT ${cols.join(', ')} WHERE false)`;
  }
  const values = rows.map((r) => `(${r.map((v, k) => cellSql(rowtype[k], v)).join(', ')})`);
  return `(SELECT * FROM (VALUES ${values.join(', ')}) AS __result_scan(${names.join(', ')}))`;
}

/** The DuckDB type the emulator stores a Snowflake wire type as (README "Types"). */
function duckdbType(c: RowTypeColumn): string {
  switch (c.type) {
    case 'fixed':
      return `DECIMAL(${Math.min(c.precision ?? 38, 38)}, ${c.scale ?? 0})`;
    case 'real':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'timestamp_ntz':
      return 'TIMESTAMP';
    case 'timestamp_ltz':
      return 'TIMESTAMPTZ';
    case 'timestamp_tz':
      return TSTZ_DUCKDB;
    case 'binary':
      return 'BLOB';
    case 'variant':
    case 'object':
    case 'array':
      return 'JSON';
    default:
      return 'VARCHAR';
  }
}

/** Microseconds of a `seconds.fraction9` cell (the sign applies to the whole value), exactly. */
function micros(seconds: string): bigint {
  const negative = seconds.startsWith('-');
  const [whole, fraction = ''] = seconds.replace(/^[-+]/, '').split('.');
  const value = BigInt(whole) * 1_000_000n + BigInt((fraction + '000000').slice(0, 6));
  return negative ? -value : value;
}

/** One JSON cell (encode.ts's encoding) as a DuckDB expression of its column's type. */
function cellSql(c: RowTypeColumn, v: string | null): string {
  const type = duckdbType(c);
  if (v === null) return `CAST(NULL AS ${type})`;
  switch (c.type) {
    case 'boolean':
      return v === '1' ? 'TRUE' : 'FALSE';
    case 'date':
      return `CAST(DATE '1970-01-01' + ${Number(v)} AS DATE)`;
    case 'time':
      return `CAST(TIME '00:00:00' + INTERVAL (${micros(v)}) MICROSECOND AS TIME)`;
    case 'timestamp_ntz':
      return `make_timestamp(${micros(v)})`;
    case 'timestamp_ltz':
      return `CAST(make_timestamp(${micros(v)}) AS TIMESTAMPTZ)`;
    case 'timestamp_tz': {
      const [instant, index] = v.split(' ');
      return `CAST({'utc': CAST(make_timestamp(${micros(instant)}) AS TIMESTAMPTZ), 'offset_minutes': ${Number(index) - 1440}} AS ${type})`;
    }
    case 'binary':
      return `unhex(${quoteString(v)})`;
    default:
      return `CAST(${quoteString(v)} AS ${type})`;
  }
}
