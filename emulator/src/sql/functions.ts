/**
 * Snowflake functions and casts the translator (src/sql/translate.ts) rewrites for DuckDB: the
 * {@link FUNCTIONS} table and {@link castSql}, the casts to timestamp types, DATE, VARCHAR and wide
 * DECIMALs that go through floe's macros or a faster path.
 */
import { SfErrors } from '../errors.js';
import { TSTZ_DUCKDB } from './types.js';
import { datePart, datePartSql, formatDatetime, formatModel, wallClock } from './datetime.js';
import { quoteString, stringValue, type Token } from './tokenizer.js';

/**
 * A function rewrite: DuckDB SQL from the translated arguments (`args`), their Snowflake tokens (`raw`) and
 * the translator (`sub`: Snowflake tokens → DuckDB SQL), for a rewrite that reads into an argument.
 */
export type Emit = (args: string[], raw: Token[][], sub: (tokens: Token[]) => string) => string;

const castTo =
  (type: string): Emit =>
  (a) =>
    `CAST(${a[0]} AS ${type})`;

/**
 * Function rewrites. Arguments arrive translated (`args`) and as Snowflake tokens (`raw`).
 * Functions not listed pass through to DuckDB under their (upper-cased) name when they are
 * Snowflake built-ins DuckDB implements as is (sandbox.ts); any other call is refused before translation.
 */
export const FUNCTIONS: Record<string, Emit> = {
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
  TO_VARCHAR: (a, r, sub) =>
    a.length > 1 ? formatDatetime(a[0], r[1], wallClock(a[0], r[0], sub)) : `__SF_VARCHAR(${a[0]})`,
  TO_CHAR: (a, r, sub) =>
    a.length > 1 ? formatDatetime(a[0], r[1], wallClock(a[0], r[0], sub)) : `__SF_VARCHAR(${a[0]})`,
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
export function castSql(expr: string, duckdbType: string): string | null {
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

function jsonPathOfString(raw: Token[]): string {
  if (raw.length !== 1 || raw[0].kind !== 'string') throw SfErrors.unsupported('GET_PATH with a non-literal path');
  const p = stringValue(raw[0]);
  return '$' + (p.startsWith('[') ? p : '.' + p);
}
