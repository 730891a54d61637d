/**
 * Exact text forms of Snowflake values, shared by the stream method (driver values → DuckDB VARCHAR
 * landing columns) and by watermark handling (high-water mark text ↔ Snowflake literals).
 *
 * Canonical texts (all UTC, microseconds — see typemap.ts for why µs):
 * - DATE `YYYY-MM-DD`; TIME `HH:MM:SS.ffffff`; TIMESTAMP_NTZ `YYYY-MM-DD HH:MM:SS.ffffff`;
 *   TIMESTAMP_TZ/LTZ the UTC wall clock `YYYY-MM-DD HH:MM:SS.ffffff` (the instant; offset dropped);
 * - NUMBER/FLOAT the driver's decimal string (numbers are fetched as strings, never JS numbers);
 * - BINARY upper-case hex; VARIANT/OBJECT/ARRAY the JSON text; BOOLEAN `true`/`false`.
 *
 * Driver shapes for the stream's SELECT (`streamExpr` in src/jobs/table-sync/sql.ts; snowflake-sdk 3.x
 * `lib/connection/result/column.js`): with `fetchAsString: ['Number','JSON','Buffer']` numbers are
 * decimal strings, semi-structured values raw JSON text and binaries upper-case hex; dates, times and
 * timestamps are selected as text Snowflake formats, which the driver passes through as it does any
 * VARCHAR; BOOLEAN is a JS boolean. A cell's landing text is the string itself (DuckDB casts it).
 */
import type { ColumnPlan, SnowflakeFamily } from './typemap.js';
import { snowflakeLiteral } from './quote.js';

/** Thrown when a value or watermark text does not have the expected shape. */
export class ValueFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequest';
  }
}

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** Civil date of a day number since 1970-01-01 (proleptic Gregorian), as `YYYY-MM-DD`. */
export function formatEpochDay(days: number): string {
  const d = new Date(days * 86_400_000);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new ValueFormatError(`date out of range: day ${days}`);
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** Epoch microseconds (bigint, UTC) → `YYYY-MM-DD HH:MM:SS.ffffff`. */
export function formatEpochMicros(us: bigint): string {
  const perDay = 86_400_000_000n;
  let day = us / perDay;
  let rem = us % perDay;
  if (rem < 0n) {
    rem += perDay;
    day -= 1n;
  }
  const secs = rem / 1_000_000n;
  const frac = rem % 1_000_000n;
  const h = secs / 3600n,
    m = (secs % 3600n) / 60n,
    s = secs % 60n;
  return `${formatEpochDay(Number(day))} ${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(frac, 6)}`;
}

/** `YYYY-MM-DD[ HH:MM:SS[.f...]]` (UTC) → epoch microseconds; extra fraction digits are truncated. */
export function parseTimestampText(text: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(?:\s*(?:Z|\+00(?::?00)?))?$/.exec(
    text.trim(),
  );
  if (!m) throw new ValueFormatError(`not a timestamp: ${JSON.stringify(text)}`);
  const ms = Date.UTC(0, 0, 1, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  const base = new Date(ms);
  base.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const frac = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  return BigInt(base.getTime()) * 1000n + frac;
}

/** A date's stream text as Snowflake formats it (`YYYY-MM-DD`, sql.ts `streamExpr`). */
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Canonical text (see the module doc) of one value of `col` as snowflake-sdk returns it for the stream
 * method's SELECT (sql.ts `streamExpr`, fetchAsString `Number`, `JSON`, `Buffer`): a string for every
 * family but BOOLEAN; dates, times and timestamps formatted by Snowflake, times and timestamps with nine
 * fraction digits, which this truncates to six. Null for SQL NULL. Used for the paging cursor (the
 * per-cell loop uses {@link streamCellText}). Throws {@link ValueFormatError} when the driver value has
 * an unexpected shape.
 */
export function streamValueToText(col: ColumnPlan, v: unknown): string | null {
  if (typeof v !== 'string') return streamCellText(col, v);
  switch (col.family) {
    case 'DATE':
      if (DATE_TEXT.test(v)) return v;
      break;
    case 'TIME': {
      const m = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(v.trim());
      if (m) return `${pad(Number(m[1]), 2)}:${m[2]}:${m[3]}.${(m[4] ?? '').padEnd(6, '0').slice(0, 6)}`;
      break;
    }
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return formatEpochMicros(parseTimestampText(v));
    case 'BOOLEAN':
      return /^(1|true)$/i.test(v) ? 'true' : 'false';
    default:
      return v;
  }
  throw new ValueFormatError(`unexpected driver value for ${col.name} (${col.sourceType}): ${JSON.stringify(v)}`);
}

/**
 * The landing text of one cell of `col` that is not a string (a string is its own landing text: DuckDB
 * casts it to the column's type, truncating fraction digits beyond microseconds): null for SQL NULL,
 * `true`/`false` for a BOOLEAN; a number or an object of the text families (numbers, text,
 * semi-structured), which the stream's fetchAsString does not produce, as its text; a Uint8Array of a
 * BINARY as upper-case hex. Throws {@link ValueFormatError} for anything else (the driver returned
 * another shape than the stream's SELECT asks for).
 */
export function streamCellText(col: ColumnPlan, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  switch (col.family) {
    case 'NUMBER':
    case 'FLOAT':
    case 'TEXT':
    case 'VARIANT':
    case 'OBJECT':
    case 'ARRAY':
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'BINARY':
      if (v instanceof Uint8Array) return Buffer.from(v).toString('hex').toUpperCase();
      break;
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      break;
  }
  throw new ValueFormatError(`unexpected driver value for ${col.name} (${col.sourceType}): ${typeof v}`);
}

/** Families usable as an incremental watermark (ordered, comparable, with a lag arithmetic). */
export const WATERMARK_FAMILIES: readonly SnowflakeFamily[] = [
  'NUMBER',
  'FLOAT',
  'DATE',
  'TIMESTAMP_NTZ',
  'TIMESTAMP_LTZ',
  'TIMESTAMP_TZ',
];
/** Families usable as a primary key column when paging. */
export const KEY_FAMILIES: readonly SnowflakeFamily[] = [
  'NUMBER',
  'TEXT',
  'DATE',
  'TIMESTAMP_NTZ',
  'TIMESTAMP_LTZ',
  'TIMESTAMP_TZ',
  'BOOLEAN',
];

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Snowflake literal for a canonical value text of `col` (watermark bounds, paging cursors). Numbers
 * are validated and written bare; everything else is an escaped string literal with an explicit cast.
 * Throws {@link ValueFormatError} for malformed text or a family that cannot be compared.
 */
export function snowflakeValueLiteral(col: ColumnPlan, text: string): string {
  switch (col.family) {
    case 'NUMBER':
    case 'FLOAT':
      if (!NUMERIC.test(text)) throw new ValueFormatError(`not a number: ${JSON.stringify(text)}`);
      return text;
    case 'TEXT':
      return snowflakeLiteral(text);
    case 'BOOLEAN':
      return /^true$/i.test(text) ? 'TRUE' : 'FALSE';
    case 'DATE':
      return `${snowflakeLiteral(formatEpochDay(Number(parseTimestampText(text) / 86_400_000_000n)))}::DATE`;
    case 'TIMESTAMP_NTZ':
      return `${snowflakeLiteral(formatEpochMicros(parseTimestampText(text)))}::TIMESTAMP_NTZ`;
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return `${snowflakeLiteral(`${formatEpochMicros(parseTimestampText(text))} +00:00`)}::TIMESTAMP_TZ`;
    default:
      throw new ValueFormatError(`column ${col.name} (${col.sourceType}) cannot be compared as a watermark or key`);
  }
}

/**
 * Lower bound of an incremental read: the stored high-water mark minus the lag window. Timestamps
 * subtract `lag` seconds; DATE subtracts whole days (rounded up); numbers subtract `lag` units.
 * Returns canonical text. Throws {@link ValueFormatError} for malformed text.
 */
export function subtractLag(col: ColumnPlan, hwm: string, lag: number): string {
  if (!(lag > 0)) return hwm;
  switch (col.family) {
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return formatEpochMicros(parseTimestampText(hwm) - BigInt(Math.round(lag * 1e6)));
    case 'DATE': {
      const days = Number(parseTimestampText(hwm) / 86_400_000_000n) - Math.ceil(lag / 86_400);
      return formatEpochDay(days);
    }
    case 'NUMBER':
    case 'FLOAT': {
      if (!NUMERIC.test(hwm)) throw new ValueFormatError(`not a number: ${JSON.stringify(hwm)}`);
      if (/[eE]/.test(hwm) || col.family === 'FLOAT') return String(Number(hwm) - lag);
      return subtractDecimal(hwm, String(Math.ceil(lag)));
    }
    default:
      throw new ValueFormatError(`column ${col.name} (${col.sourceType}) cannot be a watermark`);
  }
}

function subtractDecimal(a: string, b: string): string {
  const [ai, af = ''] = a.replace(/^\+/, '').split('.');
  const scale = af.length;
  const av = BigInt(ai + af) * (ai.startsWith('-') && BigInt(ai + af) === 0n ? -1n : 1n);
  const bv = BigInt(b) * 10n ** BigInt(scale);
  const r = av - bv;
  if (scale === 0) return r.toString();
  const neg = r < 0n;
  const digits = (neg ? -r : r).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Compare two canonical texts of `col` (−1, 0, 1). Throws {@link ValueFormatError} for malformed text. */
export function compareValueText(col: ColumnPlan, a: string, b: string): number {
  switch (col.family) {
    case 'NUMBER':
    case 'FLOAT': {
      if (col.family === 'NUMBER' && !/[eE]/.test(a + b)) return compareDecimal(a, b);
      return Math.sign(Number(a) - Number(b));
    }
    case 'DATE':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ': {
      const x = parseTimestampText(a),
        y = parseTimestampText(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default:
      return a < b ? -1 : a > b ? 1 : 0;
  }
}

function compareDecimal(a: string, b: string): number {
  const split = (s: string) => {
    const [i, f = ''] = s.replace(/^\+/, '').split('.');
    return [i, f] as const;
  };
  const [ai, af] = split(a),
    [bi, bf] = split(b);
  const scale = Math.max(af.length, bf.length);
  const toBig = (i: string, f: string) => {
    const neg = i.startsWith('-');
    const v = BigInt(i.replace('-', '') + f.padEnd(scale, '0'));
    return neg ? -v : v;
  };
  const x = toBig(ai, af),
    y = toBig(bi, bf);
  return x < y ? -1 : x > y ? 1 : 0;
}
