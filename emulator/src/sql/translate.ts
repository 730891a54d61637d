/**
 * Snowflake query → DuckDB SQL, token by token.
 *
 * - Unquoted words fold to upper case (Snowflake identifier semantics; DuckDB matches names
 *   case-insensitively and returns them as written, so result columns come back upper-case).
 * - String literals are re-quoted for DuckDB (Snowflake accepts backslash escapes).
 * - Type names after `::` and in CAST are mapped ({@link parseType}).
 * - Snowflake functions without a DuckDB twin are rewritten ({@link FUNCTIONS}).
 * - VARIANT path access `col:a.b[0]` becomes `json_extract(col, '$.a.b[0]')`
 *   (`json_extract_string` when cast with `::`), keys stay case-sensitive as in Snowflake.
 * - `<db>.INFORMATION_SCHEMA.<view>` is replaced by a subquery the engine prepared.
 */
import { SfErrors } from '../errors.js';
import { parseType, TSTZ_DUCKDB } from './types.js';
import { identValue, isWord, quoteIdent, quoteString, significant, stringValue, type Token } from './tokenizer.js';

/** What the translator needs from the session. */
export interface TranslateEnv {
  database: string | null;
  schema: string | null;
  /** Replacement subquery for `<db>.INFORMATION_SCHEMA.<view>` (prepared by the engine), or undefined. */
  infoSchema?: (database: string, view: string) => string | undefined;
}

type Emit = (args: string[], raw: Token[][]) => string;

const DATE_PARTS: Record<string, string> = {
  YEAR: 'year', YEARS: 'year', Y: 'year', YY: 'year', YYYY: 'year', YR: 'year', YRS: 'year',
  QUARTER: 'quarter', Q: 'quarter', QTR: 'quarter', QTRS: 'quarter', QUARTERS: 'quarter',
  MONTH: 'month', MONTHS: 'month', MM: 'month', MON: 'month', MONS: 'month',
  WEEK: 'week', WEEKS: 'week', W: 'week', WK: 'week', WEEKOFYEAR: 'week',
  DAY: 'day', DAYS: 'day', D: 'day', DD: 'day', DAYOFMONTH: 'day',
  HOUR: 'hour', HOURS: 'hour', H: 'hour', HH: 'hour', HR: 'hour', HRS: 'hour',
  MINUTE: 'minute', MINUTES: 'minute', M: 'minute', MI: 'minute', MIN: 'minute', MINS: 'minute',
  SECOND: 'second', SECONDS: 'second', S: 'second', SEC: 'second', SECS: 'second',
  MILLISECOND: 'millisecond', MILLISECONDS: 'millisecond', MS: 'millisecond', MSEC: 'millisecond',
  MICROSECOND: 'microsecond', MICROSECONDS: 'microsecond', US: 'microsecond', USEC: 'microsecond',
  NANOSECOND: 'nanosecond', NANOSECONDS: 'nanosecond', NS: 'nanosecond', NSEC: 'nanosecond',
};

/** A date part given as a word (`day`) or string (`'day'`), as DuckDB's part name. */
function datePart(raw: Token[]): string {
  const t = raw[0];
  const key = t?.kind === 'string' ? stringValue(t).toUpperCase() : (t?.text ?? '').toUpperCase();
  const part = DATE_PARTS[key];
  if (!part || raw.length !== 1) throw SfErrors.syntax(`invalid date or time part '${raw.map((x) => x.text).join('')}'.`);
  return part;
}

/** Snowflake format model (YYYY-MM-DD HH24:MI:SS.FF) → strftime pattern. */
function formatModel(raw: Token[]): string {
  if (raw.length !== 1 || raw[0].kind !== 'string') throw SfErrors.unsupported('non-literal format model');
  let f = stringValue(raw[0]);
  const map: [RegExp, string][] = [
    [/YYYY/g, '%Y'], [/YY/g, '%y'], [/MMMM/g, '%B'], [/MON/g, '%b'], [/MM/g, '%m'], [/DD/g, '%d'],
    [/DY/g, '%a'], [/HH24/g, '%H'], [/HH12/g, '%I'], [/HH/g, '%H'], [/MI/g, '%M'], [/SS/g, '%S'],
    [/FF\d?/g, '%f'], [/AM|PM/g, '%p'], [/TZH:TZM/g, '%z'],
  ];
  for (const [re, to] of map) f = f.replace(re, to);
  return quoteString(f);
}

const castTo = (type: string): Emit => (a) => `CAST(${a[0]} AS ${type})`;

/**
 * Function rewrites. Arguments arrive translated (`args`) and as Snowflake tokens (`raw`).
 * Functions not listed pass through to DuckDB under their (upper-cased) name.
 */
const FUNCTIONS: Record<string, Emit> = {
  IFF: (a) => `(CASE WHEN ${a[0]} THEN ${a[1]} ELSE ${a[2]} END)`,
  NVL: (a) => `COALESCE(${a[0]}, ${a[1]})`,
  IFNULL: (a) => `COALESCE(${a[0]}, ${a[1]})`,
  NVL2: (a) => `(CASE WHEN ${a[0]} IS NOT NULL THEN ${a[1]} ELSE ${a[2]} END)`,
  ZEROIFNULL: (a) => `COALESCE(${a[0]}, 0)`,
  NULLIFZERO: (a) => `NULLIF(${a[0]}, 0)`,
  DIV0: (a) => `(CASE WHEN (${a[1]}) = 0 THEN 0 ELSE (${a[0]}) / (${a[1]}) END)`,
  EQUAL_NULL: (a) => `((${a[0]}) IS NOT DISTINCT FROM (${a[1]}))`,
  SQUARE: (a) => `((${a[0]}) * (${a[0]}))`,
  CHARINDEX: (a) => `INSTR(${a[1]}, ${a[0]})`,
  STARTSWITH: (a) => `STARTS_WITH(${a[0]}, ${a[1]})`,
  ENDSWITH: (a) => `ENDS_WITH(${a[0]}, ${a[1]})`,
  REGEXP_LIKE: (a) => `REGEXP_FULL_MATCH(${a.join(', ')})`,
  RLIKE: (a) => `REGEXP_FULL_MATCH(${a.join(', ')})`,
  UUID_STRING: () => `CAST(UUID() AS VARCHAR)`,
  TO_VARCHAR: (a, r) => (a.length > 1 ? `STRFTIME(${a[0]}, ${formatModel(r[1])})` : `CAST(${a[0]} AS VARCHAR)`),
  TO_CHAR: (a, r) => (a.length > 1 ? `STRFTIME(${a[0]}, ${formatModel(r[1])})` : `CAST(${a[0]} AS VARCHAR)`),
  TO_NUMBER: toNumber('CAST'),
  TO_DECIMAL: toNumber('CAST'),
  TO_NUMERIC: toNumber('CAST'),
  TRY_TO_NUMBER: toNumber('TRY_CAST'),
  TRY_TO_DECIMAL: toNumber('TRY_CAST'),
  TO_DOUBLE: castTo('DOUBLE'),
  TO_BOOLEAN: castTo('BOOLEAN'),
  TO_BINARY: (a) => `UNHEX(${a[0]})`,
  TO_DATE: (a, r) => (a.length > 1 ? `CAST(STRPTIME(${a[0]}, ${formatModel(r[1])}) AS DATE)` : `CAST(${a[0]} AS DATE)`),
  TRY_TO_DATE: (a) => `TRY_CAST(${a[0]} AS DATE)`,
  TO_TIME: castTo('TIME'),
  TO_TIMESTAMP: toTimestamp('TIMESTAMP'),
  TO_TIMESTAMP_NTZ: toTimestamp('TIMESTAMP'),
  TRY_TO_TIMESTAMP: (a) => `TRY_CAST(${a[0]} AS TIMESTAMP)`,
  TO_TIMESTAMP_LTZ: toTimestamp('TIMESTAMPTZ'),
  TO_TIMESTAMP_TZ: (a) => `__SF_TSTZ(${a[0]})`,
  SYSDATE: () => `CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP)`,
  GETDATE: () => `CURRENT_TIMESTAMP`,
  CURRENT_TIMESTAMP: () => `CURRENT_TIMESTAMP`,
  LOCALTIMESTAMP: () => `CURRENT_TIMESTAMP`,
  SYSTIMESTAMP: () => `CURRENT_TIMESTAMP`,
  CURRENT_DATE: () => `CURRENT_DATE`,
  CURRENT_USER: () => `'FLOE'`,
  CURRENT_ROLE: () => `'ACCOUNTADMIN'`,
  CURRENT_WAREHOUSE: () => `'COMPUTE_WH'`,
  CURRENT_ACCOUNT: () => `'FLOE'`,
  CURRENT_REGION: () => `'EMULATOR'`,
  CURRENT_VERSION: () => `'8.0.0'`,
  DATEADD: (a, r) => `(${a[2]} + INTERVAL (${a[1]}) ${datePart(r[0])})`,
  TIMESTAMPADD: (a, r) => `(${a[2]} + INTERVAL (${a[1]}) ${datePart(r[0])})`,
  DATEDIFF: (a, r) => `DATE_DIFF('${datePart(r[0])}', ${a[1]}, ${a[2]})`,
  TIMESTAMPDIFF: (a, r) => `DATE_DIFF('${datePart(r[0])}', ${a[1]}, ${a[2]})`,
  DATE_TRUNC: (a, r) => `DATE_TRUNC('${datePart(r[0])}', ${a[1]})`,
  DATE_PART: (a, r) => `DATE_PART('${datePart(r[0])}', ${a[1]})`,
  LAST_DAY: (a) => `LAST_DAY(${a[0]})`,
  CONVERT_TIMEZONE: (a) =>
    a.length === 3
      ? `((CAST(${a[2]} AS TIMESTAMP) AT TIME ZONE ${a[0]}) AT TIME ZONE ${a[1]})`
      : `__SF_TSTZ_AT(CAST(${a[1]} AS TIMESTAMPTZ), ${a[0]})`,
  PARSE_JSON: (a) => `CAST(${a[0]} AS JSON)`,
  TRY_PARSE_JSON: (a) => `TRY_CAST(${a[0]} AS JSON)`,
  TO_VARIANT: (a) => `TO_JSON(${a[0]})`,
  TO_OBJECT: (a) => `CAST(${a[0]} AS JSON)`,
  TO_ARRAY: (a) => `TO_JSON(${a[0]})`,
  OBJECT_CONSTRUCT: (a) => `JSON_OBJECT(${a.join(', ')})`,
  ARRAY_CONSTRUCT: (a) => `JSON_ARRAY(${a.join(', ')})`,
  ARRAY_SIZE: (a) => `JSON_ARRAY_LENGTH(${a[0]})`,
  ARRAY_AGG: (a) => `TO_JSON(LIST(${a[0]}))`,
  LISTAGG: (a) => `STRING_AGG(${a[0]}, ${a[1] ?? "''"})`,
  GET_PATH: (a, r) => `JSON_EXTRACT(${a[0]}, ${quoteString(jsonPathOfString(r[1]))})`,
  GET: (a) => `JSON_EXTRACT(${a[0]}, ${a[1]})`,
  TYPEOF: (a) => `UPPER(JSON_TYPE(${a[0]}))`,
  SEQ1: () => `(ROW_NUMBER() OVER () - 1)`,
  SEQ2: () => `(ROW_NUMBER() OVER () - 1)`,
  SEQ4: () => `(ROW_NUMBER() OVER () - 1)`,
  SEQ8: () => `(ROW_NUMBER() OVER () - 1)`,
  UNIFORM: (a) => `CAST(FLOOR(${a[0]} + RANDOM() * ((${a[1]}) - (${a[0]}) + 1)) AS BIGINT)`,
  BOOLOR_AGG: (a) => `BOOL_OR(${a[0]})`,
  BOOLAND_AGG: (a) => `BOOL_AND(${a[0]})`,
  HASH: (a) => `CAST(HASH(${a.join(', ')}) AS HUGEINT)`,
  SHA2: (a) => `SHA256(${a[0]})`,
  GENERATOR: () => {
    throw SfErrors.syntax('GENERATOR must be used as TABLE(GENERATOR(ROWCOUNT => n)).');
  },
  CURRENT_SESSION: () => `'0'`,
  LEN: (a) => `LENGTH(${a[0]})`,
};

function toNumber(cast: string): Emit {
  return (a, r) => {
    // TO_NUMBER(expr [, format] [, precision [, scale]]): a format is a string literal.
    const rest = r.slice(1).filter((x) => !(x.length === 1 && x[0].kind === 'string'));
    const p = rest[0]?.[0]?.text ?? '38';
    const s = rest[1]?.[0]?.text ?? '0';
    return `${cast}(${a[0]} AS DECIMAL(${p},${s}))`;
  };
}

function toTimestamp(type: string): Emit {
  return (a, r) => {
    if (a.length > 1 && r[1][0]?.kind === 'string') return `CAST(STRPTIME(${a[0]}, ${formatModel(r[1])}) AS ${type})`;
    if (a.length > 1) return `CAST(MAKE_TIMESTAMP(CAST((${a[0]}) * POW(10, 6 - (${a[1]})) AS BIGINT)) AS ${type})`;
    if (r[0].length === 1 && r[0][0].kind === 'number') return `CAST(TO_TIMESTAMP(${a[0]}) AT TIME ZONE 'UTC' AS ${type})`;
    return `CAST(${a[0]} AS ${type})`;
  };
}

function jsonPathOfString(raw: Token[]): string {
  if (raw.length !== 1 || raw[0].kind !== 'string') throw SfErrors.unsupported('GET_PATH with a non-literal path');
  const p = stringValue(raw[0]);
  return '$' + (p.startsWith('[') ? p : '.' + p);
}

/** Words after which an identifier is an alias rather than a keyword. */
const CLAUSE_WORDS = new Set([
  'WHERE', 'JOIN', 'ON', 'GROUP', 'ORDER', 'LIMIT', 'LEFT', 'RIGHT', 'INNER', 'FULL', 'CROSS', 'UNION', 'QUALIFY',
  'HAVING', 'NATURAL', 'WINDOW', 'EXCEPT', 'INTERSECT', 'MINUS', 'USING', 'OFFSET', 'FETCH', 'OUTER', 'SAMPLE',
  'TABLESAMPLE', 'LATERAL', 'SET', 'WHEN', 'THEN', 'AS',
]);

/** Index of the token closing the parenthesis opened at `open`. */
export function matchParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (tokens[k].text === '(' && tokens[k].kind === 'op') depth++;
    else if (tokens[k].text === ')' && tokens[k].kind === 'op') {
      depth--;
      if (depth === 0) return k;
    }
  }
  throw SfErrors.syntax(`line 1 at position 0 unexpected '<EOF>'.`);
}

/** Splits tokens at top-level occurrences of a separator (`,` by default). */
export function splitTop(tokens: Token[], isSep: (t: Token) => boolean = (t) => t.kind === 'op' && t.text === ','): Token[][] {
  const parts: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && (t.text === '(' || t.text === '[')) depth++;
    if (t.kind === 'op' && (t.text === ')' || t.text === ']')) depth--;
    if (depth === 0 && isSep(t)) {
      parts.push(cur);
      cur = [];
    } else cur.push(t);
  }
  parts.push(cur);
  return parts;
}

/**
 * Translates Snowflake tokens (whitespace included or not) to DuckDB SQL.
 * Throws SnowflakeError (001003/002040) on constructs it cannot translate.
 */
export function translateTokens(input: Token[], env: TranslateEnv): string {
  return new Translator(significant(input), env).run(0, significant(input).length);
}

class Translator {
  constructor(
    private readonly t: Token[],
    private readonly env: TranslateEnv,
  ) {}

  run(from: number, to: number): string {
    const out: string[] = [];
    let i = from;
    while (i < to) {
      const tok = this.t[i];
      const next = this.t[i + 1];
      if (tok.kind === 'raw' || tok.kind === 'number' || tok.kind === 'stageref') {
        out.push(tok.text);
        i++;
      } else if (tok.kind === 'string') {
        out.push(quoteString(stringValue(tok)));
        i++;
      } else if (tok.kind === 'bind') {
        throw SfErrors.syntax(`Bind variable ${tok.text} not set.`);
      } else if (tok.kind === 'op' && tok.text === '::') {
        const type = parseType(this.t, i + 1);
        if (type.duckdb === TSTZ_DUCKDB) out.push(`__SF_TSTZ(${out.pop() ?? ''})`);
        else out.push(`::${type.duckdb}`);
        i = type.next;
      } else if (tok.kind === 'op' && tok.text === ':' && out.length > 0) {
        i = this.variantPath(out, i + 1, to);
      } else if (tok.kind === 'word' && next?.kind === 'op' && next.text === '(' && i + 1 < to) {
        i = this.call(out, i, to);
      } else if (tok.kind === 'word' && tok.text.toUpperCase() === 'MINUS') {
        out.push('EXCEPT');
        i++;
      } else if (tok.kind === 'word' && (tok.text.toUpperCase() === 'CURRENT_DATABASE' || tok.text.toUpperCase() === 'CURRENT_SCHEMA')) {
        out.push(this.currentName(tok.text.toUpperCase()));
        i++;
      } else if (tok.kind === 'word' || tok.kind === 'qident') {
        i = this.name(out, i, to);
      } else {
        out.push(tok.text);
        i++;
      }
    }
    return out.join(' ');
  }

  private currentName(fn: string): string {
    const v = fn === 'CURRENT_DATABASE' ? this.env.database : this.env.schema;
    return v === null ? 'NULL' : quoteString(v);
  }

  /** An identifier chain `a.b.c`, emitted as one operand (so `:` path access can wrap it). */
  private name(out: string[], i: number, to: number): number {
    const parts: Token[] = [this.t[i]];
    let k = i + 1;
    while (k + 1 < to && this.t[k].text === '.' && this.t[k].kind === 'op' && (this.t[k + 1].kind === 'word' || this.t[k + 1].kind === 'qident' || this.t[k + 1].text === '*')) {
      parts.push(this.t[k + 1]);
      k += 2;
    }
    const values = parts.map((p) => (p.text === '*' ? '*' : identValue(p)));
    const isInfo = (n: number) => values.length === n && values[n - 2] === 'INFORMATION_SCHEMA' && parts[n - 2].kind === 'word';
    if (this.env.infoSchema && (isInfo(3) || isInfo(2))) {
      const db = values.length === 3 ? values[0] : this.env.database;
      if (!db) throw SfErrors.objectDoesNotExist(`INFORMATION_SCHEMA.${values[values.length - 1]}`);
      const sub = this.env.infoSchema(db, values[values.length - 1]);
      if (sub) {
        const after = this.t[k];
        const hasAlias = after && (after.kind === 'qident' || (after.kind === 'word' && !CLAUSE_WORDS.has(after.text.toUpperCase())) || isWord(after, 'AS'));
        out.push(hasAlias ? `(${sub})` : `(${sub}) AS ${quoteIdent(values[values.length - 1])}`);
        return k;
      }
    }
    out.push(parts.map((p) => (p.kind === 'qident' || p.text === '*' ? p.text : p.text.toUpperCase())).join('.'));
    return k;
  }

  /** `base:key.key[0]` → json_extract(base, '$.key.key[0]'); with `::type`, the string value cast. */
  private variantPath(out: string[], i: number, to: number): number {
    const base = out.pop() as string;
    let path = '$';
    let k = i;
    let first = true;
    while (k < to) {
      const tok = this.t[k];
      if (first || (tok.text === '.' && tok.kind === 'op')) {
        const keyTok = first ? tok : this.t[k + 1];
        if (!keyTok || (keyTok.kind !== 'word' && keyTok.kind !== 'qident')) break;
        const key = keyTok.kind === 'qident' ? identValue(keyTok) : keyTok.text;
        path += /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `."${key.replace(/"/g, '\\"')}"`;
        k += first ? 1 : 2;
        first = false;
      } else if (tok.text === '[' && tok.kind === 'op') {
        const idx = this.t[k + 1];
        if (this.t[k + 2]?.text !== ']') throw SfErrors.unsupported('non-literal VARIANT subscript');
        path += idx.kind === 'number' ? `[${idx.text}]` : `."${stringValue(idx)}"`;
        k += 3;
      } else break;
    }
    if (this.t[k]?.text === '::') {
      const type = parseType(this.t, k + 1);
      if (type.duckdb === 'JSON') out.push(`JSON_EXTRACT(${base}, ${quoteString(path)})`);
      else if (type.duckdb === TSTZ_DUCKDB) out.push(`__SF_TSTZ(JSON_EXTRACT_STRING(${base}, ${quoteString(path)}))`);
      else out.push(`CAST(JSON_EXTRACT_STRING(${base}, ${quoteString(path)}) AS ${type.duckdb})`);
      return type.next;
    }
    out.push(`JSON_EXTRACT(${base}, ${quoteString(path)})`);
    return k;
  }

  /** A function call; rewritten per {@link FUNCTIONS} or passed through. */
  private call(out: string[], i: number, to: number): number {
    const name = this.t[i].text.toUpperCase();
    const close = matchParen(this.t, i + 1);
    if (close >= to) throw SfErrors.syntax(`unexpected '<EOF>'.`);
    const inner = this.t.slice(i + 2, close);
    if ((name === 'CURRENT_DATABASE' || name === 'CURRENT_SCHEMA') && inner.length === 0) {
      out.push(this.currentName(name));
      return close + 1;
    }
    if (name === 'CAST' || name === 'TRY_CAST') {
      const asAt = lastTopLevelAs(inner);
      if (asAt < 0) throw SfErrors.syntax(`unexpected ')'.`);
      const expr = this.sub(inner.slice(0, asAt));
      const type = parseType(inner, asAt + 1);
      out.push(type.duckdb === TSTZ_DUCKDB ? `__SF_TSTZ(${expr})` : `${name}(${expr} AS ${type.duckdb})`);
      return close + 1;
    }
    if (name === 'TABLE' && isWord(inner[0], 'GENERATOR')) {
      const genClose = matchParen(inner, 1);
      const args = splitTop(inner.slice(2, genClose));
      const rowcount = args.find((a) => isWord(a[0], 'ROWCOUNT'));
      if (!rowcount || rowcount[1]?.text !== '=>') throw SfErrors.unsupported('GENERATOR without ROWCOUNT');
      out.push(`RANGE(${this.sub(rowcount.slice(2))})`);
      return close + 1;
    }
    if (name === 'TABLE' && inner[0]?.kind === 'word' && /^FLATTEN$/i.test(inner[0].text)) throw SfErrors.unsupported('FLATTEN');
    const rewrite = FUNCTIONS[name];
    if (!rewrite) {
      out.push(`${name}(${inner.length ? this.sub(inner) : ''})`);
      return close + 1;
    }
    const raw = inner.length ? splitTop(inner) : [];
    out.push(rewrite(raw.map((r) => this.sub(r)), raw));
    return close + 1;
  }

  private sub(tokens: Token[]): string {
    return new Translator(tokens, this.env).run(0, tokens.length);
  }
}

function lastTopLevelAs(tokens: Token[]): number {
  let depth = 0;
  let found = -1;
  tokens.forEach((t, k) => {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && isWord(t, 'AS')) found = k;
  });
  return found;
}
