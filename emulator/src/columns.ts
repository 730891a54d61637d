/**
 * Row types and statement types of the small results the emulator computes itself (SHOW, DESC, DML
 * counts, LIST, COPY, status rows), shaped as Snowflake returns them.
 */
import type { RowTypeColumn, StatementOutcome } from './contract.js';
import { MAX_VARCHAR } from './sql/types.js';

/** Snowflake statement type ids (the driver derives DML row counts from them). */
export const StatementType = {
  SELECT: 0x1000,
  INSERT: 0x3100,
  UPDATE: 0x3200,
  DELETE: 0x3300,
  MERGE: 0x3400,
  SESSION: 0x4000,
  TRANSACTION: 0x5000,
  DDL: 0x6000,
} as const;

/** True for INSERT/UPDATE/DELETE/MERGE type ids (0x3000 range): their first cell is a row count. */
export function isDml(statementTypeId: number | undefined): boolean {
  return statementTypeId !== undefined && statementTypeId >= 0x3000 && statementTypeId < 0x4000;
}

/** A text column as Snowflake types command results (VARCHAR(16777216)). */
export function textColumn(name: string, nullable = false): RowTypeColumn {
  return { name, type: 'text', precision: null, scale: null, length: MAX_VARCHAR, byteLength: MAX_VARCHAR, nullable };
}

/** A NUMBER(19,0) column (counts and sizes). */
export function fixedColumn(name: string, nullable = false): RowTypeColumn {
  return { name, type: 'fixed', precision: 19, scale: 0, length: null, byteLength: null, nullable };
}

/** A TIMESTAMP_LTZ(3) column (`created_on` of SHOW results). */
export function ltzColumn(name: string): RowTypeColumn {
  return { name, type: 'timestamp_ltz', precision: 0, scale: 3, length: null, byteLength: null, nullable: true };
}

/** Epoch-seconds cell of an ISO instant, with the 3 fractional digits {@link ltzColumn} declares. */
export function ltzCell(iso: string): string {
  return (Date.parse(iso) / 1000).toFixed(3);
}

/** A one-row `status` result, as Snowflake answers DDL and commands. */
export function status(message: string, statementTypeId: number = StatementType.DDL): StatementOutcome {
  return { kind: 'rows', columns: [textColumn('status')], rows: [[message]], statementTypeId };
}

/** A one-row DML count result (`number of rows inserted`, ...): the first count given, the others 0. */
export function dmlCounts(statementTypeId: number, columns: string[], counts: number[]): StatementOutcome {
  return {
    kind: 'rows',
    columns: columns.map((c) => fixedColumn(c)),
    rows: [columns.map((_, k) => String(counts[k] ?? 0))],
    statementTypeId,
  };
}
