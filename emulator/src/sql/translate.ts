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
 * - Casts to TIMESTAMP_NTZ/LTZ/TZ and DATE go through the type-dispatching macros of macros.ts
 *   (`__SF_NTZ`, `__SF_INSTANT`, `__SF_TSTZ`, `__SF_DATE`), which accept the TIMESTAMP_TZ struct.
 * - Comparisons (`= <> != < <= > >= BETWEEN`) with a TIMESTAMP_TZ operand on either side compare
 *   instants, as Snowflake does: both operands are wrapped in `__SF_INSTANT`. An operand is
 *   TIMESTAMP_TZ when it is a `::TIMESTAMP_TZ`/`CAST(.. AS TIMESTAMP_TZ)`, `TO_TIMESTAMP_TZ(..)`,
 *   2-argument `CONVERT_TIMEZONE(..)`, or a column named in {@link TranslateEnv.tzColumns}
 *   (by name: an alias of a TZ column under another name is not recognised). Operands are the
 *   primary next to the operator (a name, literal, call, cast or parenthesised group).
 * - Text operands of the arithmetic operators `+ - * / %` become numbers, as Snowflake coerces them
 *   (Snowflake doc: "Data type conversion"): a string literal is read as the number it spells (`'12' + 1`
 *   is 13; a binding sent as TEXT arrives as such a literal), a text column ({@link TranslateEnv.columnKinds})
 *   as FLOAT. A text column compared with a number literal or a number column is read as FLOAT too. Text that
 *   is not a number fails the statement. Text arguments of functions (SUM, ABS, ...) are not converted.
 */
import { SfErrors, SnowflakeError } from '../errors.js';
import { checkQuery, type RelationRef } from './sandbox.js';
import { parseType, TSTZ_DUCKDB } from './types.js';
import { datePart, datePartSql, EPOCH_PARTS, formatDatetime, formatModel } from './datetime.js';
import {
  identValue,
  isWord,
  quoteIdent,
  quoteSnowflakeIdent,
  quoteString,
  significant,
  stringValue,
  type Token,
} from './tokenizer.js';

/** What the translator needs from the session. */
export interface TranslateEnv {
  database: string | null;
  schema: string | null;
  /** Replacement subquery for `<db>.INFORMATION_SCHEMA.<view>` (prepared by the engine), or undefined. */
  infoSchema?: (database: string, view: string) => string | undefined;
  /**
   * Names of the TIMESTAMP_TZ columns of the tables the statement names (the engine looks them up).
   * A column reference whose last part is one of them counts as a TIMESTAMP_TZ operand in comparisons.
   */
  tzColumns?: ReadonlySet<string>;
  /** Text and number columns of the tables the statement names, by name: text is read as a number next to numbers. */
  columnKinds?: ReadonlyMap<string, ColumnKind>;
  /** The signed-in user (CURRENT_USER()); absent outside a session. */
  user?: string | null;
  /** LAST_QUERY_ID(n): the session's n-th query id (result-scan.ts), or null; absent outside a session. */
  lastQueryId?: (n: number) => string | null;
  /** TABLE(RESULT_SCAN(id)): DuckDB SQL of the relation holding that query's result; throws SnowflakeError. */
  resultScan?: (queryId: string) => string;
  /** TABLE(INFER_SCHEMA(args)): DuckDB SQL of the relation the engine prepared for these argument tokens (infer-schema.ts). */
  inferSchema?: (args: Token[]) => string | undefined;
  /**
   * Receives the table/view names the query reads (sandbox.ts): the caller must check that each
   * is a Snowflake table or view before running the SQL. Without it, a query naming a table is refused.
   */
  relations?: RelationRef[];
}

type Emit = (args: string[], raw: Token[][]) => string;

/** What the translator knows of a column's type: text (VARCHAR) or a number. */
export type ColumnKind = 'text' | 'number';

const castTo =
  (type: string): Emit =>
  (a) =>
    `CAST(${a[0]} AS ${type})`;

/**
 * Function rewrites. Arguments arrive translated (`args`) and as Snowflake tokens (`raw`).
 * Functions not listed pass through to DuckDB under their (upper-cased) name when they are
 * Snowflake built-ins DuckDB implements as is (sandbox.ts); any other call is refused before translation.
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
  TO_VARCHAR: (a, r) => (a.length > 1 ? formatDatetime(a[0], r[1]) : `__SF_VARCHAR(${a[0]})`),
  TO_CHAR: (a, r) => (a.length > 1 ? formatDatetime(a[0], r[1]) : `__SF_VARCHAR(${a[0]})`),
  TO_NUMBER: toNumber('CAST'),
  TO_DECIMAL: toNumber('CAST'),
  TO_NUMERIC: toNumber('CAST'),
  TRY_TO_NUMBER: toNumber('TRY_CAST'),
  TRY_TO_DECIMAL: toNumber('TRY_CAST'),
  TO_DOUBLE: castTo('DOUBLE'),
  TO_BOOLEAN: castTo('BOOLEAN'),
  TO_BINARY: (a) => `UNHEX(${a[0]})`,
  TO_DATE: (a, r) => (a.length > 1 ? `CAST(STRPTIME(${a[0]}, ${formatModel(r[1])}) AS DATE)` : `__SF_DATE(${a[0]})`),
  TRY_TO_DATE: (a) => `TRY_CAST(${a[0]} AS DATE)`,
  TO_TIME: castTo('TIME'),
  TO_TIMESTAMP: toTimestamp('TIMESTAMP'),
  TO_TIMESTAMP_NTZ: toTimestamp('TIMESTAMP'),
  TRY_TO_TIMESTAMP: (a) => `TRY_CAST(${a[0]} AS TIMESTAMP)`,
  TO_TIMESTAMP_LTZ: toTimestamp('TIMESTAMPTZ'),
  TO_TIMESTAMP_TZ: toTimestamp(TSTZ_DUCKDB),
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
  DATE_PART: (a, r) => datePartSql(r[0], a[1]),
  LAST_DAY: (a) => `LAST_DAY(${a[0]})`,
  // 3 arguments: NTZ wall clock at source_tz → NTZ wall clock at target_tz. 2 arguments: TIMESTAMP_TZ at target_tz.
  CONVERT_TIMEZONE: (a) =>
    a.length === 3
      ? `((__SF_NTZ(${a[2]}) AT TIME ZONE ${a[0]}) AT TIME ZONE ${a[1]})`
      : `__SF_TSTZ_AT(${a[1]}, ${a[0]})`,
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
  RESULT_SCAN: () => {
    throw SfErrors.syntax('RESULT_SCAN must be used as TABLE(RESULT_SCAN(query_id)).');
  },
  // Outside a session there is no query before this one (the translator asks the session otherwise).
  LAST_QUERY_ID: () => 'NULL',
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
    const cast = (x: string) => castSql(x, type) ?? `CAST(${x} AS ${type})`;
    if (a.length > 1 && r[1][0]?.kind === 'string') return cast(`STRPTIME(${a[0]}, ${formatModel(r[1])})`);
    if (a.length > 1) return cast(`MAKE_TIMESTAMP(CAST((${a[0]}) * POW(10, 6 - (${a[1]})) AS BIGINT))`);
    if (r[0].length === 1 && r[0][0].kind === 'number') return cast(`(TO_TIMESTAMP(${a[0]}) AT TIME ZONE 'UTC')`);
    return cast(a[0]);
  };
}

/**
 * A cast whose target is a timestamp type or DATE, through the macros that also accept the
 * TIMESTAMP_TZ struct (macros.ts); a column's cast to a DECIMAL wider than 18 digits through the 18-digit
 * one first ({@link wideDecimalCast}); null for other targets (a plain CAST does).
 */
function castSql(expr: string, duckdbType: string): string | null {
  const wide = wideDecimalCast(expr, duckdbType);
  if (wide) return wide;
  switch (duckdbType) {
    case TSTZ_DUCKDB:
      return `__SF_TSTZ(${expr})`;
    case 'TIMESTAMPTZ':
      return `__SF_INSTANT(${expr})`;
    case 'TIMESTAMP':
      return `__SF_NTZ(${expr})`;
    case 'DATE':
      return `__SF_DATE(${expr})`;
    case 'VARCHAR':
      return `__SF_VARCHAR(${expr})`;
    default:
      return null;
  }
}

/**
 * `CAST(col AS DECIMAL(p,s))` with p > 18 as `CAST(COALESCE(TRY_CAST(col AS DECIMAL(18,s)), CAST(col AS
 * DECIMAL(p,s))) AS DECIMAL(p,s))`: the same value (a value that fits 18 digits converts alike; others, and
 * errors, take the full cast), but DuckDB parses text into a 128-bit DECIMAL about 300 times slower than
 * into a 64-bit one (VARCHAR → NUMBER(38,0) of 300,000 values: ~3 s against ~10 ms), and loads from
 * staging tables (MERGE, INSERT … SELECT) cast every text cell so. Only for a plain column reference,
 * which may be read twice; null otherwise.
 */
function wideDecimalCast(expr: string, duckdbType: string): string | null {
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckdbType);
  if (!m || Number(m[1]) <= 18 || Number(m[2]) > 18 || !/^("[^"]*"|\w+)(\.("[^"]*"|\w+))*$/.test(expr)) return null;
  return `CAST(COALESCE(TRY_CAST(${expr} AS DECIMAL(18,${m[2]})), CAST(${expr} AS ${duckdbType})) AS ${duckdbType})`;
}

const COMPARISONS = new Set(['=', '==', '<>', '!=', '<', '<=', '>', '>=']);
/** Output elements that end (or start) an operand: anything else next to an operator is not a primary we can wrap. */
const NOT_OPERAND =
  /^(,|\(|\)|[-+*/%|<>=!]+|AND|OR|NOT|WHERE|ON|WHEN|THEN|ELSE|AND|HAVING|SELECT|BY|IS|IN|BETWEEN|LIKE)$/i;

/** Index range [start, end] of the operand ending at `end` (a primary, or a parenthesised group). */
function operandBefore(out: string[], end: number): number | null {
  if (end < 0) return null;
  if (out[end] === ')') {
    let depth = 0;
    for (let k = end; k >= 0; k--) {
      if (out[k] === ')') depth++;
      else if (out[k] === '(') depth--;
      if (depth === 0) return k > 0 && /^[A-Za-z_]/.test(out[k - 1]) && !NOT_OPERAND.test(out[k - 1]) ? null : k;
    }
    return null;
  }
  return NOT_OPERAND.test(out[end]) ? null : end;
}

function operandAfter(out: string[], start: number): number | null {
  if (start >= out.length) return null;
  if (out[start] === '(') {
    let depth = 0;
    for (let k = start; k < out.length; k++) {
      if (out[k] === '(') depth++;
      else if (out[k] === ')') depth--;
      if (depth === 0) return k;
    }
    return null;
  }
  return NOT_OPERAND.test(out[start]) ? null : start;
}

/**
 * Rewrites comparisons with a TIMESTAMP_TZ operand to compare instants (`__SF_INSTANT` on both
 * sides): Snowflake compares TIMESTAMP_TZ with TZ/LTZ/NTZ values and literals by instant, while
 * DuckDB would compare the struct field by field (or refuse to compare it with a timestamp).
 */
function compareInstants(out: string[], tz: boolean[], kinds: (ColumnKind | null)[]): void {
  const wrap = (a: number, b: number) => {
    out[a] = `__SF_INSTANT(${out.slice(a, b + 1).join(' ')})`;
    for (let k = a + 1; k <= b; k++) out[k] = '';
  };
  const isTz = (a: number, b: number) => tz.slice(a, b + 1).some(Boolean);
  // `UPDATE .. SET col = v, ..` / `THEN UPDATE SET ..`: an `=` right after SET or a SET-list comma is an assignment.
  let inSet = false;
  let depth = 0;
  for (let k = 1; k < out.length - 1; k++) {
    const op = out[k].toUpperCase();
    if (out[k] === '(') depth++;
    else if (out[k] === ')') depth--;
    if (op === 'SET' && depth === 0) inSet = true;
    else if (depth === 0 && (op === 'FROM' || op === 'WHERE' || op === 'WHEN')) inSet = false;
    if (COMPARISONS.has(op)) {
      const a = operandBefore(out, k - 1);
      const b = operandAfter(out, k + 1);
      if (a === null || b === null) continue;
      if (op === '=' && inSet && depth === 0 && (out[a - 1] === ',' || out[a - 1]?.toUpperCase() === 'SET')) continue;
      if (a === k - 1 && b === k + 1) compareTextWithNumber(out, kinds, a, b);
      if (!(isTz(a, k - 1) || isTz(k + 1, b))) continue;
      wrap(k + 1, b);
      wrap(a, k - 1);
    } else if (op === 'BETWEEN') {
      const a = operandBefore(out, k - 1);
      const lo = operandAfter(out, k + 1);
      if (a === null || lo === null || out[lo + 1]?.toUpperCase() !== 'AND') continue;
      const hi = operandAfter(out, lo + 2);
      if (hi === null) continue;
      if (a === k - 1 && lo === k + 1) compareTextWithNumber(out, kinds, a, lo);
      if (a === k - 1 && hi === lo + 2) compareTextWithNumber(out, kinds, a, hi);
      if (!(isTz(a, k - 1) || isTz(k + 1, lo) || isTz(lo + 2, hi))) continue;
      wrap(lo + 2, hi);
      wrap(k + 1, lo);
      wrap(a, k - 1);
    }
  }
  for (let k = out.length - 1; k >= 0; k--) if (out[k] === '') out.splice(k, 1);
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
/** A whole string literal as the translator emits it. */
const STRING_LITERAL = /^'((?:[^']|'')*)'$/s;
/** Words that make the string literal after them a typed literal (`DATE '2024-01-01'`), not text. */
const TYPED_LITERAL = /^(DATE|TIME|TIMESTAMP\w*|INTERVAL)$/i;
/** Text that spells a fixed-point number (anything else, exponents included, is cast to DOUBLE). */
const DECIMAL_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)$/;

/**
 * Makes the text operands of arithmetic operators numbers (see the module comment): a string literal
 * becomes the numeric literal it spells (DuckDB types `12` INTEGER and `1.5` DECIMAL(2,1), as Snowflake
 * types the number), a text column (flagged in `text`) a DOUBLE. A literal that spells no number is cast,
 * so the statement fails on it as Snowflake's does. Only a single-element operand is converted.
 */
function coerceArithmetic(out: string[], kinds: (ColumnKind | null)[]): void {
  for (let k = 1; k < out.length - 1; k++) {
    if (!ARITHMETIC.has(out[k]) || operandBefore(out, k - 1) !== k - 1 || operandAfter(out, k + 1) !== k + 1) continue;
    coerceOperand(out, kinds, k - 1);
    coerceOperand(out, kinds, k + 1);
  }
}

/** `out[k]` as a number when it is a (not typed) string literal or a text column ({@link coerceArithmetic}). */
function coerceOperand(out: string[], kinds: (ColumnKind | null)[], k: number): void {
  const literal = STRING_LITERAL.exec(out[k]);
  if (literal && !TYPED_LITERAL.test(out[k - 1] ?? '')) {
    const value = literal[1].replace(/''/g, "'").trim();
    out[k] = DECIMAL_TEXT.test(value) ? value.replace(/^\+/, '') : `CAST(${quoteString(value)} AS DOUBLE)`;
  } else if (kinds[k] === 'text') out[k] = `CAST(${out[k]} AS DOUBLE)`;
}

/** A text column compared with a number literal or a number column (single-element operands `a`, `b`) is read as FLOAT. */
function compareTextWithNumber(out: string[], kinds: (ColumnKind | null)[], a: number, b: number): void {
  const isNumber = (k: number) => kinds[k] === 'number' || /^[-+]?(\d|\.\d)/.test(out[k]);
  for (const [text, other] of [
    [a, b],
    [b, a],
  ])
    if (kinds[text] === 'text' && isNumber(other)) {
      out[text] = `CAST(${out[text]} AS DOUBLE)`;
      kinds[text] = 'number';
    }
}

function jsonPathOfString(raw: Token[]): string {
  if (raw.length !== 1 || raw[0].kind !== 'string') throw SfErrors.unsupported('GET_PATH with a non-literal path');
  const p = stringValue(raw[0]);
  return '$' + (p.startsWith('[') ? p : '.' + p);
}

/** Words after which an identifier is an alias rather than a keyword. */
const CLAUSE_WORDS = new Set([
  'WHERE',
  'JOIN',
  'ON',
  'GROUP',
  'ORDER',
  'LIMIT',
  'LEFT',
  'RIGHT',
  'INNER',
  'FULL',
  'CROSS',
  'UNION',
  'QUALIFY',
  'HAVING',
  'NATURAL',
  'WINDOW',
  'EXCEPT',
  'INTERSECT',
  'MINUS',
  'USING',
  'OFFSET',
  'FETCH',
  'OUTER',
  'SAMPLE',
  'TABLESAMPLE',
  'LATERAL',
  'SET',
  'WHEN',
  'THEN',
  'AS',
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
export function splitTop(
  tokens: Token[],
  isSep: (t: Token) => boolean = (t) => t.kind === 'op' && t.text === ',',
): Token[][] {
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
 * Translates Snowflake tokens (whitespace included or not) to DuckDB SQL, after checking that the
 * query uses Snowflake constructs only ({@link checkQuery}); the names it reads go to
 * `env.relations`. Throws SnowflakeError (001003/002040/002140) on constructs it refuses or cannot translate.
 */
export function translateTokens(input: Token[], env: TranslateEnv): string {
  const sig = significant(input);
  const relations = checkQuery(sig, (name) => Object.hasOwn(FUNCTIONS, name));
  if (env.relations) env.relations.push(...relations);
  else if (relations.length > 0) throw SfErrors.unsupported('a table reference in this position');
  const tokens = qualifyRelations(sig, relations, env);
  return new Translator(tokens, env).run(0, tokens.length);
}

/**
 * Writes each table/view name the query reads as `"DB"."SCHEMA"."NAME"`, resolved against the
 * session as Snowflake resolves it (names stay as written when the session lacks a current
 * database or schema: the engine then refuses them). DuckDB binds a view's body again on every
 * read; should a table it names be gone, a bare name would become a replacement scan of a file
 * of that name, a qualified one becomes a relative path `DB.SCHEMA.<name>` outside the sandbox.
 */
function qualifyRelations(sig: Token[], relations: RelationRef[], env: TranslateEnv): Token[] {
  const out = [...sig];
  for (const r of [...relations].reverse()) {
    const database = r.parts.length === 3 ? r.parts[0] : env.database;
    const schema = r.parts.length >= 2 ? r.parts[r.parts.length - 2] : env.schema;
    if (database === null || schema === null) continue;
    const dot: Token = { kind: 'op', text: '.' };
    const name = [database, schema, r.parts[r.parts.length - 1]].flatMap((p, k): Token[] => [
      ...(k ? [dot] : []),
      { kind: 'qident', text: quoteSnowflakeIdent(p) },
    ]);
    out.splice(r.start, r.end - r.start + 1, ...name);
  }
  return out;
}

/**
 * Whether the divisor that starts at `out[from]` is complete: at least one operand past any unary sign,
 * parentheses and brackets closed, and the next token not a postfix that binds tighter than `/`
 * (`::` cast, `:` path, `[` index).
 */
function divisorEnds(out: string[], from: number, next: Token | undefined): boolean {
  let depth = 0;
  let operand = false;
  for (let k = from; k < out.length; k++) {
    const e = out[k];
    if (e === '(' || e === '[') depth++;
    else if (e === ')' || e === ']') depth--;
    if (depth === 0 && e !== '-' && e !== '+' && e !== '(' && e !== '[') operand = true;
  }
  if (!operand || depth !== 0) return false;
  return !(next?.kind === 'op' && (next.text === '::' || next.text === ':' || next.text === '['));
}

/** Sizes a per-element flag array to `length` elements (new ones `none`) and sets the last one. */
function flagLast<T>(flags: T[], length: number, last: T, none: T): void {
  flags.length = Math.min(flags.length, length);
  while (flags.length < length) flags.push(none);
  if (length > 0) flags[length - 1] = last;
}

class Translator {
  constructor(
    private readonly t: Token[],
    private readonly env: TranslateEnv,
  ) {}

  /** Set by a step that emitted a TIMESTAMP_TZ operand (read by {@link run}). */
  private lastTz = false;
  /** Set by a step that emitted a text or number column (read by {@link run}). */
  private lastKind: ColumnKind | null = null;

  run(from: number, to: number): string {
    const out: string[] = [];
    /** Per `out` element: is it a TIMESTAMP_TZ operand (see {@link compareInstants}), a text column (see {@link coerceArithmetic}). */
    const tz: boolean[] = [];
    const kinds: (ColumnKind | null)[] = [];
    /** Where the divisor of the last `/` starts in `out`, until it is complete (see {@link divisorEnds}). */
    let divisor: number | null = null;
    let i = from;
    while (i < to) {
      this.lastTz = false;
      this.lastKind = null;
      const isDivide = this.t[i].kind === 'op' && this.t[i].text === '/';
      i = this.step(out, i, to);
      flagLast(tz, out.length, this.lastTz, false);
      flagLast(kinds, out.length, this.lastKind, null);
      if (divisor !== null && divisorEnds(out, divisor, i < to ? this.t[i] : undefined)) {
        // Snowflake fails a division by zero (100051) where DuckDB returns NULL.
        if (out.length - divisor === 1) coerceOperand(out, kinds, divisor);
        out.push(`__SF_DIVISOR(${out.splice(divisor).join(' ')})`);
        tz.length = out.length;
        kinds.length = out.length;
        divisor = null;
      }
      if (isDivide) divisor = out.length;
    }
    coerceArithmetic(out, kinds);
    compareInstants(out, tz, kinds);
    return out.join(' ');
  }

  /** Translates the construct at `t[i]` (pushing to, or rewriting the last element of, `out`); returns the next index. */
  private step(out: string[], i: number, to: number): number {
    const tok = this.t[i];
    const next = this.t[i + 1];
    if (tok.kind === 'raw' || tok.kind === 'number' || tok.kind === 'stageref') {
      out.push(tok.text);
      return i + 1;
    }
    if (tok.kind === 'string') {
      out.push(quoteString(stringValue(tok)));
      return i + 1;
    }
    if (tok.kind === 'bind') throw SfErrors.syntax(`Bind variable ${tok.text} not set.`);
    if (tok.kind === 'op' && tok.text === '::') {
      const type = parseType(this.t, i + 1);
      const operand = out.pop() ?? '';
      out.push(castSql(operand, type.duckdb) ?? `${operand}::${type.duckdb}`);
      this.lastTz = type.duckdb === TSTZ_DUCKDB;
      return type.next;
    }
    if (tok.kind === 'op' && tok.text === ':' && out.length > 0) return this.variantPath(out, i + 1, to);
    if (tok.kind === 'word' && next?.kind === 'op' && next.text === '(' && i + 1 < to) return this.call(out, i, to);
    if (tok.kind === 'word' && (tok.text === 'X' || tok.text === 'x') && next?.kind === 'string') {
      // X'0A1B': a BINARY literal in hex.
      out.push(`unhex(${quoteString(stringValue(next))})`);
      return i + 2;
    }
    if (tok.kind === 'word' && tok.text.toUpperCase() === 'MINUS') {
      out.push('EXCEPT');
      return i + 1;
    }
    if (
      tok.kind === 'word' &&
      (tok.text.toUpperCase() === 'CURRENT_DATABASE' || tok.text.toUpperCase() === 'CURRENT_SCHEMA')
    ) {
      out.push(this.currentName(tok.text.toUpperCase()));
      return i + 1;
    }
    if (tok.kind === 'word' || tok.kind === 'qident') return this.name(out, i, to);
    out.push(tok.text);
    return i + 1;
  }

  private currentName(fn: string): string {
    const v = fn === 'CURRENT_DATABASE' ? this.env.database : this.env.schema;
    return v === null ? 'NULL' : quoteString(v);
  }

  /** An identifier chain `a.b.c`, emitted as one operand (so `:` path access can wrap it). */
  private name(out: string[], i: number, to: number): number {
    const parts: Token[] = [this.t[i]];
    let k = i + 1;
    while (
      k + 1 < to &&
      this.t[k].text === '.' &&
      this.t[k].kind === 'op' &&
      (this.t[k + 1].kind === 'word' || this.t[k + 1].kind === 'qident' || this.t[k + 1].text === '*')
    ) {
      parts.push(this.t[k + 1]);
      k += 2;
    }
    const values = parts.map((p) => (p.text === '*' ? '*' : identValue(p)));
    const isInfo = (n: number) =>
      values.length === n && values[n - 2] === 'INFORMATION_SCHEMA' && parts[n - 2].kind === 'word';
    if (this.env.infoSchema && (isInfo(3) || isInfo(2))) {
      const db = values.length === 3 ? values[0] : this.env.database;
      if (!db) throw SfErrors.objectDoesNotExist(`INFORMATION_SCHEMA.${values[values.length - 1]}`);
      const sub = this.env.infoSchema(db, values[values.length - 1]);
      if (sub) {
        const after = this.t[k];
        const hasAlias =
          after &&
          (after.kind === 'qident' ||
            (after.kind === 'word' && !CLAUSE_WORDS.has(after.text.toUpperCase())) ||
            isWord(after, 'AS'));
        out.push(hasAlias ? `(${sub})` : `(${sub}) AS ${quoteIdent(values[values.length - 1])}`);
        return k;
      }
    }
    out.push(
      parts
        .map((p, n) => (p.text === '*' ? '*' : p.kind === 'qident' ? quoteIdent(values[n]) : p.text.toUpperCase()))
        .join('.'),
    );
    const column = this.t[k]?.text !== '(';
    this.lastTz = column && this.env.tzColumns?.has(values[values.length - 1]) === true;
    this.lastKind = column ? (this.env.columnKinds?.get(values[values.length - 1]) ?? null) : null;
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
      const text = `JSON_EXTRACT_STRING(${base}, ${quoteString(path)})`;
      if (type.duckdb === 'JSON') out.push(`JSON_EXTRACT(${base}, ${quoteString(path)})`);
      else out.push(castSql(text, type.duckdb) ?? `CAST(${text} AS ${type.duckdb})`);
      this.lastTz = type.duckdb === TSTZ_DUCKDB;
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
    if (name === 'CURRENT_USER' && inner.length === 0 && this.env.user) {
      out.push(quoteString(this.env.user));
      return close + 1;
    }
    if (name === 'CAST' || name === 'TRY_CAST') {
      const asAt = lastTopLevelAs(inner);
      if (asAt < 0) throw SfErrors.syntax(`unexpected ')'.`);
      const expr = this.sub(inner.slice(0, asAt));
      const type = parseType(inner, asAt + 1);
      out.push(
        (name === 'CAST' ? castSql(expr, type.duckdb) : null) ??
          (type.duckdb === TSTZ_DUCKDB ? `__SF_TSTZ(${expr})` : `${name}(${expr} AS ${type.duckdb})`),
      );
      this.lastTz = type.duckdb === TSTZ_DUCKDB;
      return close + 1;
    }
    if (name === 'EXTRACT' && isWord(inner[1], 'FROM') && EPOCH_PARTS[inner[0].text.toUpperCase()]) {
      out.push(datePartSql(inner.slice(0, 1), this.sub(inner.slice(2))));
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
    if (name === 'LAST_QUERY_ID' && this.env.lastQueryId) {
      const id = this.env.lastQueryId(inner.length ? Number(inner.map((t) => t.text).join('')) : -1);
      out.push(id === null ? 'NULL' : quoteString(id));
      return close + 1;
    }
    if (name === 'TABLE' && isWord(inner[0], 'RESULT_SCAN') && this.env.resultScan) {
      out.push(this.env.resultScan(this.resultScanId(inner.slice(2, matchParen(inner, 1)))));
      return close + 1;
    }
    const inferred = isWord(inner[0], 'INFER_SCHEMA') && this.env.inferSchema?.(inner.slice(2, matchParen(inner, 1)));
    if (name === 'TABLE' && inferred) {
      out.push(inferred);
      return close + 1;
    }
    if (name === 'TABLE' && inner[0]?.kind === 'word' && /^FLATTEN$/i.test(inner[0].text))
      throw SfErrors.unsupported('FLATTEN');
    const rewrite = FUNCTIONS[name];
    if (!rewrite) {
      out.push(`${name}(${inner.length ? this.sub(inner) : ''})`);
      return close + 1;
    }
    const raw = inner.length ? splitTop(inner) : [];
    out.push(
      rewrite(
        raw.map((r) => this.sub(r)),
        raw,
      ),
    );
    this.lastTz = name === 'TO_TIMESTAMP_TZ' || (name === 'CONVERT_TIMEZONE' && raw.length === 2);
    return close + 1;
  }

  /** The query id RESULT_SCAN's argument names: a string literal or LAST_QUERY_ID([n]). */
  private resultScanId(arg: Token[]): string {
    if (arg.length === 1 && arg[0].kind === 'string') return stringValue(arg[0]);
    if (isWord(arg[0], 'LAST_QUERY_ID') && arg[1]?.text === '(') {
      const id = /^'(.*)'$/s.exec(this.sub(arg));
      if (id) return id[1];
      throw new SnowflakeError('000709', '02000', 'RESULT_SCAN: the session has no previous query');
    }
    throw SfErrors.unsupported('RESULT_SCAN of an expression other than a query id or LAST_QUERY_ID()');
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
