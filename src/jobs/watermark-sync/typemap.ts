/**
 * PostgreSQL → Snowflake types of the watermark sync: the source's columns as information_schema
 * describes them, the Snowflake type each maps to, the text form each is read in, and the cast from
 * that text back to the target's type in the MERGE.
 */
import { floeError, NonRetryable } from '../../errors.js';

/** One row of the source column query ({@link sourceColumnsSql}). */
export interface PgColumnRow {
  column_name: string;
  data_type: string;
  udt_name: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
  character_maximum_length: number | null;
  is_nullable: string;
  pg_type: string;
}

/**
 * Columns of a PostgreSQL table from information_schema, with `format_type` (for casts). $1 schema, $2 table.
 */
export const sourceColumnsSql = `SELECT c.column_name, c.data_type, c.udt_name, c.numeric_precision, c.numeric_scale,
  c.character_maximum_length, c.is_nullable, format_type(a.atttypid, a.atttypmod) AS pg_type
FROM information_schema.columns c
JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema
JOIN pg_catalog.pg_class k ON k.relnamespace = n.oid AND k.relname = c.table_name
JOIN pg_catalog.pg_attribute a ON a.attrelid = k.oid AND a.attname = c.column_name
WHERE c.table_schema = $1 AND c.table_name = $2
ORDER BY c.ordinal_position`;

/**
 * Snowflake type for a PostgreSQL column (PeerDB's choices): integers → NUMBER(38,0);
 * numeric(p,s) → NUMBER(p,s) (p ≤ 38; wider → VARCHAR so no digit is lost); unbounded numeric →
 * NUMBER(38,20); real/double → FLOAT; timestamptz → TIMESTAMP_TZ; timestamp → TIMESTAMP_NTZ;
 * json/jsonb/arrays → VARIANT; bytea → BINARY; uuid, text and everything else → VARCHAR.
 */
export function snowflakeTypeFor(c: Pick<PgColumnRow, 'data_type' | 'numeric_precision' | 'numeric_scale'>): string {
  switch (c.data_type) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return 'NUMBER(38,0)';
    case 'numeric': {
      if (c.numeric_precision === null || c.numeric_precision === undefined) return 'NUMBER(38,20)';
      if (c.numeric_precision > 38) return 'VARCHAR';
      return `NUMBER(${c.numeric_precision},${c.numeric_scale ?? 0})`;
    }
    case 'real':
    case 'double precision':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time without time zone':
      return 'TIME';
    case 'timestamp without time zone':
      return 'TIMESTAMP_NTZ';
    case 'timestamp with time zone':
      return 'TIMESTAMP_TZ';
    case 'json':
    case 'jsonb':
    case 'ARRAY':
      return 'VARIANT';
    case 'bytea':
      return 'BINARY';
    default:
      return 'VARCHAR';
  }
}

/**
 * The expression that reads a source column as text Snowflake parses without a format: instants as
 * UTC ISO-8601 with `Z` (timestamptz has no stored offset, so nothing is lost), timestamps and dates
 * ISO-8601, bytea as hex, arrays as JSON, numerics as their exact decimal text. Independent of the
 * session's TimeZone and DateStyle.
 */
export function pgTextExpr(quotedCol: string, dataType: string): string {
  switch (dataType) {
    case 'timestamp with time zone':
      return `to_char(${quotedCol} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    case 'timestamp without time zone':
      return `to_char(${quotedCol}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
    case 'date':
      return `to_char(${quotedCol}, 'YYYY-MM-DD')`;
    case 'bytea':
      return `encode(${quotedCol}, 'hex')`;
    case 'ARRAY':
      return `to_json(${quotedCol})::text`;
    default:
      return `${quotedCol}::text`;
  }
}

/** Whether a watermark of this PostgreSQL type (`format_type` form) is a time (its lag is in seconds), not a number. */
export function isTimeWatermark(pgType: string): boolean {
  return /^(timestamp|date)/.test(pgType);
}

/** Watermark column types floe can page on (information_schema `data_type`). */
export function isSupportedWatermark(dataType: string): boolean {
  return [
    'timestamp with time zone',
    'timestamp without time zone',
    'date',
    'smallint',
    'integer',
    'bigint',
    'numeric',
  ].includes(dataType);
}

/** Cast of a VARCHAR staging value to a Snowflake target type (INFORMATION_SCHEMA form, e.g. NUMBER(38,20)). */
export function castFromText(expr: string, sfType: string): string {
  const t = sfType.toUpperCase();
  if (/^(TEXT|VARCHAR|STRING|CHAR)/.test(t)) return expr;
  if (/^(VARIANT|OBJECT|ARRAY)/.test(t)) return `PARSE_JSON(${expr})`;
  if (/^(BINARY|VARBINARY)/.test(t)) return `TO_BINARY(${expr}, 'HEX')`;
  if (
    /^(NUMBER|DECIMAL|NUMERIC|FLOAT|DOUBLE|REAL|BOOLEAN|DATE|TIME|TIMESTAMP)/.test(t) &&
    /^[A-Z_]+(\(\d+(,\s*\d+)?\))?$/.test(t)
  ) {
    return `${expr}::${t.replace(/\s+/g, '')}`;
  }
  throw floeError(NonRetryable.InvalidRequest, `cannot load into Snowflake type ${sfType}`);
}

/** A target column's full type from an INFORMATION_SCHEMA row (NUMBER keeps precision and scale). */
export function sfTypeOf(r: { DATA_TYPE: unknown; NUMERIC_PRECISION: unknown; NUMERIC_SCALE: unknown }): string {
  const t = String(r.DATA_TYPE).toUpperCase();
  if (t === 'NUMBER' && r.NUMERIC_PRECISION !== null && r.NUMERIC_PRECISION !== undefined)
    return `NUMBER(${String(r.NUMERIC_PRECISION)},${String(r.NUMERIC_SCALE ?? 0)})`;
  return t;
}
