/**
 * Snowflake date and time parts and format models in DuckDB terms, for the translator (translate.ts):
 * `DATEADD`/`DATEDIFF`/`DATE_TRUNC`/`DATE_PART`/`EXTRACT` parts (with their Snowflake abbreviations),
 * epoch parts, and `TO_CHAR`/`TO_VARCHAR`/`TO_DATE`/`TO_TIMESTAMP` format models (`YYYY-MM-DD HH24:MI:SS`)
 * as `strftime`/`strptime` patterns. An unknown part or format element is a Snowflake error.
 */
import { SfErrors } from '../errors.js';
import { isWord, matchParen, quoteString, splitTop, stringValue, type Token } from './tokenizer.js';

const DATE_PARTS: Record<string, string> = {
  YEAR: 'year',
  YEARS: 'year',
  Y: 'year',
  YY: 'year',
  YYYY: 'year',
  YR: 'year',
  YRS: 'year',
  QUARTER: 'quarter',
  Q: 'quarter',
  QTR: 'quarter',
  QTRS: 'quarter',
  QUARTERS: 'quarter',
  MONTH: 'month',
  MONTHS: 'month',
  MM: 'month',
  MON: 'month',
  MONS: 'month',
  WEEK: 'week',
  WEEKS: 'week',
  W: 'week',
  WK: 'week',
  WEEKOFYEAR: 'week',
  DAY: 'day',
  DAYS: 'day',
  D: 'day',
  DD: 'day',
  DAYOFMONTH: 'day',
  HOUR: 'hour',
  HOURS: 'hour',
  H: 'hour',
  HH: 'hour',
  HR: 'hour',
  HRS: 'hour',
  MINUTE: 'minute',
  MINUTES: 'minute',
  M: 'minute',
  MI: 'minute',
  MIN: 'minute',
  MINS: 'minute',
  SECOND: 'second',
  SECONDS: 'second',
  S: 'second',
  SEC: 'second',
  SECS: 'second',
  MILLISECOND: 'millisecond',
  MILLISECONDS: 'millisecond',
  MS: 'millisecond',
  MSEC: 'millisecond',
  MICROSECOND: 'microsecond',
  MICROSECONDS: 'microsecond',
  US: 'microsecond',
  USEC: 'microsecond',
  NANOSECOND: 'nanosecond',
  NANOSECONDS: 'nanosecond',
  NS: 'nanosecond',
  NSEC: 'nanosecond',
};

/** Snowflake's epoch parts (DATE_PART / EXTRACT only) → the DuckDB function giving that count. */
export const EPOCH_PARTS: Record<string, string> = {
  EPOCH: 'second',
  EPOCH_SECOND: 'second',
  EPOCH_SECONDS: 'second',
  EPOCH_MILLISECOND: 'ms',
  EPOCH_MILLISECONDS: 'ms',
  EPOCH_MICROSECOND: 'us',
  EPOCH_MICROSECONDS: 'us',
  EPOCH_NANOSECOND: 'ns',
  EPOCH_NANOSECONDS: 'ns',
};

/**
 * `DATE_PART(<part>, x)` / `EXTRACT(<part> FROM x)`. Epoch parts count whole units since 1970-01-01 UTC
 * of the value's instant (`__SF_INSTANT`: TZ by its UTC instant, NTZ and DATE as UTC, as Snowflake with
 * TIMEZONE = UTC), as an integer; values keep microseconds, so EPOCH_NANOSECOND ends in 000.
 */
export function datePartSql(raw: Token[], expr: string): string {
  const t = raw[0];
  const key = raw.length === 1 ? (t.kind === 'string' ? stringValue(t) : t.text).toUpperCase() : '';
  const epoch = EPOCH_PARTS[key];
  if (epoch === 'second') return `CAST(floor(epoch_us(__SF_INSTANT(${expr})) / 1000000) AS BIGINT)`;
  if (epoch) return `epoch_${epoch}(__SF_INSTANT(${expr}))`;
  return `DATE_PART('${datePart(raw)}', ${expr})`;
}

/** A date part given as a word (`day`) or string (`'day'`), as DuckDB's part name. */
export function datePart(raw: Token[]): string {
  const t = raw[0];
  const key = t?.kind === 'string' ? stringValue(t).toUpperCase() : (t?.text ?? '').toUpperCase();
  const part = DATE_PARTS[key];
  if (!part || raw.length !== 1)
    throw SfErrors.syntax(`invalid date or time part '${raw.map((x) => x.text).join('')}'.`);
  return part;
}

/** Snowflake format model (YYYY-MM-DD HH24:MI:SS.FF) → strftime pattern. */
export function formatModel(raw: Token[]): string {
  if (raw.length !== 1 || raw[0].kind !== 'string') throw SfErrors.unsupported('non-literal format model');
  let f = stringValue(raw[0]);
  const map: [RegExp, string][] = [
    [/YYYY/g, '%Y'],
    [/YY/g, '%y'],
    [/MMMM/g, '%B'],
    [/MON/g, '%b'],
    [/MM/g, '%m'],
    [/DD/g, '%d'],
    [/DY/g, '%a'],
    [/HH24/g, '%H'],
    [/HH12/g, '%I'],
    [/HH/g, '%H'],
    [/MI/g, '%M'],
    [/SS/g, '%S'],
    [/FF\d?/g, '%f'],
    [/AM|PM/g, '%p'],
    [/TZH:TZM/g, '%z'],
  ];
  for (const [re, to] of map) f = f.replace(re, to);
  return quoteString(f);
}

/**
 * The wall-clock TIMESTAMP that TO_VARCHAR formats, of a value translated to `expr` from the Snowflake
 * tokens `raw`: `__SF_WALL(expr)`, or for `CONVERT_TIMEZONE(tz, x)` (two arguments, the whole value)
 * `__SF_TSTZ_WALL(x, tz)`, the same TIMESTAMP at a fraction of DuckDB's binding cost (sql/macros.ts).
 * `sub` translates the call's arguments.
 */
export function wallClock(expr: string, raw: Token[], sub: (tokens: Token[]) => string): string {
  if (isWord(raw[0], 'CONVERT_TIMEZONE') && raw[1]?.text === '(' && matchParen(raw, 1) === raw.length - 1) {
    const args = splitTop(raw.slice(2, -1));
    if (args.length === 2) return `__SF_TSTZ_WALL(${sub(args[1])}, ${sub(args[0])})`;
  }
  return `__SF_WALL(${expr})`;
}

/**
 * FF digits written inside the format's `strftime`: milliseconds `%g`, microseconds `%f`, and the digits past
 * microseconds as zeros, since the wall-clock value is a microsecond TIMESTAMP (`%n` is not used: DuckDB 1.5
 * writes it correctly only at the end of a format). FF0 writes nothing; other digit counts cut `%n` apart.
 */
const FRACTION_DIRECTIVES: Record<string, string> = {
  '': '%f000',
  '9': '%f000',
  '8': '%f00',
  '7': '%f0',
  '6': '%f',
  '3': '%g',
  '0': '',
};

/**
 * `TO_VARCHAR(<date/time/timestamp>, '<format>')`: Snowflake format elements (case-insensitive)
 * → a concatenation of `strftime` pieces over the value's wall-clock time (`__SF_WALL`: TIME on
 * 1970-01-01, DATE at midnight, TZ at its own offset, LTZ at UTC) and its offset (`__SF_OFFSET`).
 *
 * | element | output |
 * |---|---|
 * | YYYY, YY, MM, MON, MMMM, DD, DY | year, 2-digit year, month 01-12, Jan, January, day 01-31, Mon |
 * | HH24 (HH), HH12, AM/PM, MI, SS | hour 00-23, hour 01-12, AM/PM, minute, second |
 * | FF0 … FF9, FF (= FF9) | fraction of a second, truncated to n digits (DuckDB keeps microseconds: digits 7-9 are 0) |
 * | TZH, TZM (TZH:TZM, TZHTZM) | offset hours with sign (`+05`), offset minutes (`45`); +00/00 for NTZ/LTZ (session time zone UTC) |
 * | `"text"` | text, verbatim; any other character is copied |
 *
 * Consecutive elements share one `strftime` (FF3, FF6 to FF9 included: {@link FRACTION_DIRECTIVES}): each piece
 * repeats the value's expression, and the `__SF_*` macros it goes through repeat their argument in every
 * type branch, so DuckDB binds that expression once per piece (about 2 ms per piece for
 * `CONVERT_TIMEZONE('UTC', x)` on this project's machine). A format of one `strftime` piece is NULL for
 * NULL as it stands; any other format (one that writes nothing included) is wrapped in a NULL test.
 * `wall`: the SQL of the value's wall-clock time ({@link wallClock}).
 */
export function formatDatetime(expr: string, raw: Token[], wall = `__SF_WALL(${expr})`): string {
  if (raw.length !== 1 || raw[0].kind !== 'string') throw SfErrors.unsupported('non-literal format model');
  const f = stringValue(raw[0]);
  const pieces: string[] = [];
  let strf = '';
  const flush = () => {
    if (strf) pieces.push(`strftime(${wall}, ${quoteString(strf)})`);
    strf = '';
  };
  const ELEMENTS: [RegExp, string | ((m: RegExpExecArray) => string)][] = [
    [/^YYYY/i, '%Y'],
    [/^YY/i, '%y'],
    [/^MMMM/i, '%B'],
    [/^MON/i, '%b'],
    [/^MM/i, '%m'],
    [/^DD/i, '%d'],
    [/^DY/i, '%a'],
    [/^HH24/i, '%H'],
    [/^HH12/i, '%I'],
    [/^HH/i, '%H'],
    [/^MI/i, '%M'],
    [/^SS/i, '%S'],
    [/^(AM|PM)/i, '%p'],
    [/^FF([0-9]?)/i, (m) => FRACTION_DIRECTIVES[m[1]] ?? `substr(strftime(${wall}, '%n'), 1, ${m[1]})`],
    [/^TZH/i, () => `__SF_TZH(__SF_OFFSET(${expr}))`],
    [/^TZM/i, () => `lpad(CAST(abs(__SF_OFFSET(${expr})) % 60 AS VARCHAR), 2, '0')`],
  ];
  let i = 0;
  outer: while (i < f.length) {
    if (f[i] === '"') {
      const end = f.indexOf('"', i + 1);
      const text = f.slice(i + 1, end < 0 ? f.length : end);
      strf += text.replace(/%/g, '%%');
      i = end < 0 ? f.length : end + 1;
      continue;
    }
    for (const [re, to] of ELEMENTS) {
      const m = re.exec(f.slice(i));
      if (!m) continue;
      const out = typeof to === 'string' ? to : to(m);
      if (out.startsWith('%') || out === '') strf += out;
      else {
        flush();
        pieces.push(out);
      }
      i += m[0].length;
      continue outer;
    }
    strf += f[i] === '%' ? '%%' : f[i];
    i++;
  }
  flush();
  if (pieces.length === 1 && pieces[0].startsWith('strftime(')) return pieces[0];
  return `(CASE WHEN (${expr}) IS NULL THEN NULL ELSE ${pieces.join(' || ') || "''"} END)`;
}
