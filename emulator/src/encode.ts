/**
 * DuckDB result columns → Snowflake rowtype, and DuckDB values → the JSON cell strings the
 * snowflake-sdk parses:
 *
 * - FIXED: full-precision decimal string (`"10000000000000000000000000000000000001"`, `"-1.50"`);
 *   HUGEINT/BIGINT/INTEGER results (COUNT(*), integer literals) are FIXED(38,0).
 * - REAL: decimal string (`"NaN"`, `"inf"`, `"-inf"` for the specials, as Snowflake sends them).
 * - BOOLEAN `"1"`/`"0"`; DATE days since 1970-01-01; TIME `seconds.fraction9` since midnight.
 * - TIMESTAMP_NTZ/LTZ `epochSeconds.fraction9` (sign applies to the whole value, e.g. `-1.500000000`).
 * - TIMESTAMP_TZ `epochSeconds.fraction9 tzIndex`, tzIndex = offset minutes + 1440 (rowtype version 1).
 * - BINARY upper-case hex; VARIANT JSON text.
 *
 * TIMESTAMP_TZ is stored as `STRUCT(utc TIMESTAMPTZ, offset_minutes SMALLINT)`; DuckDB does not keep
 * type aliases on stored STRUCTs, so the encoder recognises it by its two field names.
 */
import {
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
  DuckDBDecimalValue,
  DuckDBTimestampValue,
  DuckDBTimestampTZValue,
  DuckDBDateValue,
  DuckDBTimeValue,
  DuckDBBlobValue,
  DuckDBStructValue,
  DuckDBListValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBDecimalType,
  DuckDBStructType,
  DuckDBMapValue,
  DuckDBArrayValue,
  DuckDBUUIDValue,
  DuckDBIntervalValue,
} from '@duckdb/node-api';
import type { RowTypeColumn } from './contract.js';
import { SfErrors } from './errors.js';
import { MAX_BINARY, MAX_VARCHAR } from './sql/types.js';

/** Encodes one DuckDB value to its Snowflake JSON cell. */
export type CellEncoder = (v: DuckDBValue) => string | null;

/** True when a DuckDB type is the emulator's TIMESTAMP_TZ struct. */
export function isTstzType(t: DuckDBType): boolean {
  return t.typeId === DuckDBTypeId.STRUCT && (t as DuckDBStructType).entryNames.join(',') === 'utc,offset_minutes';
}

const base = (name: string, type: RowTypeColumn['type']): RowTypeColumn => ({
  name,
  type,
  precision: null,
  scale: null,
  length: null,
  byteLength: null,
  nullable: true,
});

/** Snowflake rowtype column for a DuckDB result column. Throws 002040 for types Snowflake lacks. */
export function rowTypeOf(name: string, t: DuckDBType): RowTypeColumn {
  const c = base(name, 'text');
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { ...c, type: 'boolean' };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return {
        ...c,
        type: 'fixed',
        precision: t.typeId === DuckDBTypeId.BIGINT || t.typeId === DuckDBTypeId.UBIGINT ? 19 : 38,
        scale: 0,
      };
    case DuckDBTypeId.DECIMAL: {
      const d = t as DuckDBDecimalType;
      return { ...c, type: 'fixed', precision: d.width, scale: d.scale };
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { ...c, type: 'real' };
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      if (t.alias === 'JSON') return { ...c, type: 'variant' };
      return { ...c, type: 'text', length: MAX_VARCHAR, byteLength: MAX_VARCHAR };
    case DuckDBTypeId.BLOB:
      return { ...c, type: 'binary', length: MAX_BINARY, byteLength: MAX_BINARY };
    case DuckDBTypeId.DATE:
      return { ...c, type: 'date' };
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return { ...c, type: 'time', scale: 9 };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { ...c, type: 'timestamp_ntz', scale: 9 };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { ...c, type: 'timestamp_ltz', scale: 9 };
    case DuckDBTypeId.STRUCT:
      return isTstzType(t) ? { ...c, type: 'timestamp_tz', scale: 9 } : { ...c, type: 'object' };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { ...c, type: 'array' };
    case DuckDBTypeId.MAP:
      return { ...c, type: 'object' };
    case DuckDBTypeId.SQLNULL:
      return { ...c, type: 'text', length: MAX_VARCHAR, byteLength: MAX_VARCHAR };
    case DuckDBTypeId.INTERVAL:
      throw SfErrors.unsupported('INTERVAL values in results');
    default:
      throw SfErrors.unsupported(`result type ${t.toString()}`);
  }
}

const NS_PER_S = 1_000_000_000n;

/** Exact `seconds.fraction9` from a nanosecond count (sign applies to the whole value). */
function epochString(nanos: bigint): string {
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  return `${neg ? '-' : ''}${abs / NS_PER_S}.${(abs % NS_PER_S).toString().padStart(9, '0')}`;
}

function decimalString(v: bigint, scale: number): string {
  if (scale === 0) return v.toString();
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function timestampNanos(v: DuckDBValue): bigint {
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return v.micros * 1000n;
  if (v instanceof DuckDBTimestampNanosecondsValue) return v.nanos;
  if (v instanceof DuckDBTimestampMillisecondsValue) return v.millis * 1_000_000n;
  if (v instanceof DuckDBTimestampSecondsValue) return v.seconds * NS_PER_S;
  throw SfErrors.conversion(`Timestamp '${String(v)}' is not recognized`);
}

/** A value as JSON (VARIANT/OBJECT/ARRAY cells built from DuckDB nested values). */
function toJson(v: DuckDBValue): unknown {
  if (v === null) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v !== 'object') return v;
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJson);
  if (v instanceof DuckDBStructValue)
    return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, toJson(x)]));
  if (v instanceof DuckDBMapValue) return Object.fromEntries(v.entries.map((e) => [String(e.key), toJson(e.value)]));
  if (v instanceof DuckDBDecimalValue) return Number(v.toString());
  if (v instanceof DuckDBBlobValue) return hex(v.bytes);
  return v.toString();
}

/** The encoder for a column of DuckDB type `t`. */
export function encoderFor(t: DuckDBType): CellEncoder {
  const nullable =
    (f: (v: DuckDBValue) => string): CellEncoder =>
    (v) =>
      v === null ? null : f(v);
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return nullable((v) => (v ? '1' : '0'));
    case DuckDBTypeId.DECIMAL: {
      const scale = (t as DuckDBDecimalType).scale;
      return nullable((v) => decimalString((v as DuckDBDecimalValue).value, scale));
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return nullable((v) => {
        const n = v as number;
        if (Number.isNaN(n)) return 'NaN';
        if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
        return String(n);
      });
    case DuckDBTypeId.DATE:
      return nullable((v) => String((v as DuckDBDateValue).days));
    case DuckDBTypeId.TIME:
      return nullable((v) => epochString((v as DuckDBTimeValue).micros * 1000n));
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
      return nullable((v) => epochString(timestampNanos(v)));
    case DuckDBTypeId.BLOB:
      return nullable((v) => hex((v as DuckDBBlobValue).bytes));
    case DuckDBTypeId.STRUCT:
      if (isTstzType(t)) {
        return (v) => {
          if (v === null) return null;
          const e = (v as DuckDBStructValue).entries;
          if (e.utc === null) return null;
          return `${epochString(timestampNanos(e.utc))} ${Number(e.offset_minutes ?? 0) + 1440}`;
        };
      }
      return nullable((v) => JSON.stringify(toJson(v)));
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.MAP:
      return nullable((v) => JSON.stringify(toJson(v)));
    case DuckDBTypeId.UUID:
      return nullable((v) => (v as DuckDBUUIDValue).toString());
    case DuckDBTypeId.INTERVAL:
      return nullable((v) => (v as DuckDBIntervalValue).toString());
    default:
      return nullable((v) => (typeof v === 'string' ? v : String(v)));
  }
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);

/**
 * A DuckDB SQL expression giving the same JSON cell text as {@link encoderFor} for a column `expr` of
 * type `t` (VARCHAR, NULL stays NULL), or null for the types only encoderFor handles. Covered: text
 * (VARCHAR, JSON as its text), integers and DECIMAL (DuckDB's text is the exact decimal with all `scale`
 * digits), BOOLEAN (`1`/`0`) and DATE (days since 1970-01-01; ±infinity as DuckDB's ±2,147,483,647).
 */
export function sqlCellExpr(t: DuckDBType, expr: string): string | null {
  if (t.typeId === DuckDBTypeId.VARCHAR || t.typeId === DuckDBTypeId.DECIMAL || INTEGER_TYPES.has(t.typeId))
    return `CAST(${expr} AS VARCHAR)`;
  if (t.typeId === DuckDBTypeId.BOOLEAN) return `CASE WHEN ${expr} THEN '1' WHEN NOT ${expr} THEN '0' END`;
  if (t.typeId === DuckDBTypeId.DATE)
    return `CAST(CASE WHEN isfinite(${expr}) THEN ${expr} - DATE '1970-01-01' WHEN ${expr} > DATE '1970-01-01' THEN 2147483647 ELSE -2147483647 END AS VARCHAR)`;
  return null;
}
