/**
 * DuckDB macros the translator targets, created as TEMP macros on every connection the emulator
 * opens (temp macros are found whatever the connection's current catalog is).
 *
 * ## TIMESTAMP_TZ helpers: type dispatch inside a macro
 *
 * TIMESTAMP_TZ is stored as `STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT)` (types.ts). DuckDB
 * has no cast between that struct and TIMESTAMP/TIMESTAMPTZ, and macros cannot be overloaded by
 * type, so each helper dispatches on `typeof(x)`:
 *
 * ```sql
 * CASE WHEN typeof(x) = 'STRUCT(utc TIMESTAMP WITH TIME ZONE, offset_minutes SMALLINT)' THEN TRY_CAST(x AS <struct>).utc
 *      WHEN typeof(x) = 'VARCHAR' THEN CAST(<text normalised> AS TIMESTAMPTZ)
 *      ELSE CAST(x AS TIMESTAMPTZ) END
 * ```
 *
 * Every branch binds whatever the type of `x` (`TRY_CAST` between unrelated types binds and only
 * fails at run time; `CAST(x AS VARCHAR)` binds for any type), and `typeof(x)` is a constant, so
 * DuckDB's optimiser folds the CASE to the one live branch: `__SF_INSTANT(tz_col)` runs as a plain
 * `tz_col.utc` projection (no per-row dispatch, verified with EXPLAIN). The live branch is a hard
 * CAST, so bad input still fails as Snowflake fails ("Timestamp 'x' is not recognized").
 *
 * | macro | Snowflake meaning |
 * |---|---|
 * | `__SF_INSTANT(x)` | `x::TIMESTAMP_LTZ`: the instant (TZ: its UTC instant; NTZ and text without offset: in the session time zone, UTC) |
 * | `__SF_NTZ(x)` | `x::TIMESTAMP_NTZ`: TZ keeps its wall-clock time and drops the offset; LTZ: wall clock in the session time zone; text: its offset is ignored |
 * | `__SF_TSTZ(x)` | `x::TIMESTAMP_TZ`: a TZ value as is; text keeps its offset (`+05:45`, `+0545`, `-08`, `Z`); NTZ/LTZ/DATE take the session offset (+00:00) |
 * | `__SF_DATE(x)` | `x::DATE`: TZ: the date of its wall-clock time; text may carry a time (truncated) |
 * | `__SF_VARCHAR(x)` | `x::VARCHAR`: TZ as `YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM` (Snowflake's default TIMESTAMP_TZ output); others as DuckDB casts |
 * | `__SF_WALL(x)`, `__SF_OFFSET(x)`, `__SF_TZH(m)` | for TO_VARCHAR(x, format): wall-clock TIMESTAMP of a TIME/DATE/timestamp; offset minutes (TZ: its own, else 0); `±HH` |
 * | `__SF_TSTZ_AT(x, tz)` | `CONVERT_TIMEZONE(tz, x)`: the instant of `x` shown at `tz`'s offset (IANA names; ICU is built into this DuckDB) |
 * | `__SF_TSTZ_WALL(x, tz)` | `__SF_WALL(__SF_TSTZ_AT(x, tz))` for TO_VARCHAR(CONVERT_TIMEZONE(tz, x), format): the same TIMESTAMP, with `x` dispatched 3 times rather than 24 (each helper repeats its argument in every branch, and DuckDB binds every branch: ~2 ms of binding) |
 * | `__SF_TEXT_TS(s)` | Snowflake timestamp text → text DuckDB parses (`'… 10:00:00 +05:45'` → `'… 10:00:00+05:45'`) |
 */

/** DuckDB's spelling of the TIMESTAMP_TZ struct in `typeof()` and `duckdb_columns().data_type`. */
export const TSTZ_TYPEOF = 'STRUCT(utc TIMESTAMP WITH TIME ZONE, offset_minutes SMALLINT)';

/** True when a DuckDB type name (as DESCRIBE shows it) is the TIMESTAMP_TZ struct. */
export function isTimestampTzStruct(duckdbType: string): boolean {
  return duckdbType.toUpperCase() === TSTZ_TYPEOF.toUpperCase();
}
const T = 'STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT)';
const IS_TZ = (x: string) => `typeof(${x}) = '${TSTZ_TYPEOF}'`;
const IS_TEXT = (x: string) => `typeof(${x}) IN ('VARCHAR', 'JSON')`;
/** Text of a VARCHAR or of a JSON string (VARIANT holding a timestamp string). */
const TEXT = (x: string) => `trim(CAST(${x} AS VARCHAR), ' "')`;

export const MACRO_SQL = [
  // The divisor of every `/` (translate.ts): Snowflake fails a division by zero, DuckDB returns NULL.
  `CREATE OR REPLACE TEMP MACRO __SF_DIVISOR(x) AS CASE WHEN x = 0 THEN error('Division by zero') ELSE x END`,
  `CREATE OR REPLACE TEMP MACRO __SF_TEXT_TS(s) AS regexp_replace(trim(s), '\\s+([+-][0-9]{1,2}(:?[0-9]{2})?|Z)$', '\\1')`,
  // Offset minutes written in a timestamp text: ±HH:MM, ±HHMM, ±HH (after a time), Z or none → 0.
  `CREATE OR REPLACE TEMP MACRO __SF_TEXT_OFFSET(s) AS CAST(CASE
     WHEN regexp_matches(s, '[+-][0-9]{2}:?[0-9]{2}$')
       THEN (CASE WHEN regexp_extract(s, '([+-])[0-9]{2}:?[0-9]{2}$', 1) = '-' THEN -1 ELSE 1 END)
            * (CAST(regexp_extract(s, '([0-9]{2}):?([0-9]{2})$', 1) AS INTEGER) * 60
               + CAST(regexp_extract(s, '([0-9]{2}):?([0-9]{2})$', 2) AS INTEGER))
     WHEN regexp_matches(s, ':[0-9]{2}(\\.[0-9]*)?\\s*[+-][0-9]{2}$')
       THEN CAST(regexp_extract(s, '([+-][0-9]{2})$', 1) AS INTEGER) * 60
     ELSE 0 END AS SMALLINT)`,
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ_S(s) AS CASE WHEN s IS NULL THEN NULL
     ELSE {'utc': CAST(__SF_TEXT_TS(s) AS TIMESTAMPTZ), 'offset_minutes': __SF_TEXT_OFFSET(trim(s))} END`,
  `CREATE OR REPLACE TEMP MACRO __SF_INSTANT(x) AS CASE
     WHEN ${IS_TZ('x')} THEN TRY_CAST(x AS ${T}).utc
     WHEN ${IS_TEXT('x')} THEN CAST(__SF_TEXT_TS(${TEXT('x')}) AS TIMESTAMPTZ)
     ELSE CAST(x AS TIMESTAMPTZ) END`,
  `CREATE OR REPLACE TEMP MACRO __SF_NTZ(x) AS CASE
     WHEN ${IS_TZ('x')} THEN CAST(TRY_CAST(x AS ${T}).utc AS TIMESTAMP) + to_minutes(CAST(TRY_CAST(x AS ${T}).offset_minutes AS BIGINT))
     WHEN ${IS_TEXT('x')} THEN CAST(__SF_TEXT_TS(${TEXT('x')}) AS TIMESTAMP)
     ELSE CAST(x AS TIMESTAMP) END`,
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ(x) AS CASE
     WHEN ${IS_TZ('x')} THEN TRY_CAST(x AS ${T})
     WHEN ${IS_TEXT('x')} THEN __SF_TSTZ_S(${TEXT('x')})
     WHEN x IS NULL THEN NULL
     ELSE {'utc': CAST(x AS TIMESTAMPTZ), 'offset_minutes': CAST(0 AS SMALLINT)} END`,
  `CREATE OR REPLACE TEMP MACRO __SF_DATE(x) AS CASE
     WHEN ${IS_TZ('x')} OR ${IS_TEXT('x')} THEN CAST(__SF_NTZ(x) AS DATE)
     ELSE CAST(x AS DATE) END`,
  `CREATE OR REPLACE TEMP MACRO __SF_WALL(x) AS CASE
     WHEN typeof(x) = 'TIME' THEN DATE '1970-01-01' + TRY_CAST(x AS TIME)
     ELSE __SF_NTZ(x) END`,
  `CREATE OR REPLACE TEMP MACRO __SF_OFFSET(x) AS CASE WHEN ${IS_TZ('x')} THEN CAST(TRY_CAST(x AS ${T}).offset_minutes AS INTEGER) ELSE 0 END`,
  `CREATE OR REPLACE TEMP MACRO __SF_TZH(m) AS (CASE WHEN m < 0 THEN '-' ELSE '+' END) || lpad(CAST(abs(m) // 60 AS VARCHAR), 2, '0')`,
  `CREATE OR REPLACE TEMP MACRO __SF_VARCHAR(x) AS CASE
     WHEN ${IS_TZ('x')} THEN strftime(__SF_NTZ(x), '%Y-%m-%d %H:%M:%S.%g ') || __SF_TZH(__SF_OFFSET(x)) || lpad(CAST(abs(__SF_OFFSET(x)) % 60 AS VARCHAR), 2, '0')
     ELSE CAST(x AS VARCHAR) END`,
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ_AT(x, tz) AS CASE WHEN x IS NULL OR tz IS NULL THEN NULL
     ELSE {'utc': __SF_INSTANT(x),
           'offset_minutes': CAST(date_diff('minute', __SF_INSTANT(x) AT TIME ZONE 'UTC', __SF_INSTANT(x) AT TIME ZONE tz) AS SMALLINT)} END`,
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ_WALL(x, tz) AS CASE WHEN x IS NULL OR tz IS NULL THEN NULL
     ELSE CAST(__SF_INSTANT(x) AS TIMESTAMP)
          + to_minutes(date_diff('minute', __SF_INSTANT(x) AT TIME ZONE 'UTC', __SF_INSTANT(x) AT TIME ZONE tz)) END`,
];
