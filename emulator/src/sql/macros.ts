/**
 * DuckDB macros the translator targets, created as TEMP macros on every connection the emulator
 * opens (temp macros are found whatever the connection's current catalog is).
 */

/**
 * `__SF_TSTZ(x)`: any value (text with or without `±HH:MM`/`Z`, TIMESTAMP, TIMESTAMPTZ, or an
 * existing TIMESTAMP_TZ struct) → the TIMESTAMP_TZ struct `{utc, offset_minutes}`. Text without an
 * offset and NTZ/LTZ values take the session time zone (UTC), as Snowflake does with TIMEZONE=UTC.
 * `__SF_TSTZ_AT(ts, tz)`: an instant shown in time zone `tz` (CONVERT_TIMEZONE with 2 arguments).
 */
export const MACRO_SQL = [
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ_S(s) AS CASE
     WHEN s IS NULL THEN NULL
     WHEN s LIKE '{%' THEN {'utc': CAST(regexp_extract(s, '''utc'': ([^,]+),', 1) AS TIMESTAMPTZ),
                            'offset_minutes': CAST(regexp_extract(s, '''offset_minutes'': (-?[0-9]+)', 1) AS SMALLINT)}
     ELSE {'utc': CAST(regexp_replace(s, '\\s+([+-][0-9]{2}(:?[0-9]{2})?)$', '\\1') AS TIMESTAMPTZ),
           'offset_minutes': CAST(CASE WHEN regexp_matches(s, '[+-][0-9]{2}:?[0-9]{2}$')
             THEN (CASE WHEN regexp_extract(s, '([+-])[0-9]{2}:?[0-9]{2}$', 1) = '-' THEN -1 ELSE 1 END)
                  * (CAST(regexp_extract(s, '([0-9]{2}):?([0-9]{2})$', 1) AS INTEGER) * 60
                     + CAST(regexp_extract(s, '([0-9]{2}):?([0-9]{2})$', 2) AS INTEGER))
             ELSE 0 END AS SMALLINT)}
   END`,
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ(x) AS __SF_TSTZ_S(trim(CAST(x AS VARCHAR)))`,
  `CREATE OR REPLACE TEMP MACRO __SF_TSTZ_AT(ts, tz) AS {'utc': ts,
     'offset_minutes': CAST(date_diff('minute', ts AT TIME ZONE 'UTC', ts AT TIME ZONE tz) AS SMALLINT)}`,
];
