/** Row types of the small results stage commands return (LIST, REMOVE, COPY, CREATE STAGE status). */
import type { RowTypeColumn } from './contract.js';

/** A text column as Snowflake types command results (VARCHAR(16777216)). */
export function textColumn(name: string, nullable = false): RowTypeColumn {
  return { name, type: 'text', precision: null, scale: null, length: 16777216, byteLength: 16777216, nullable };
}

/** A NUMBER(19,0) column (counts and sizes). */
export function fixedColumn(name: string, nullable = false): RowTypeColumn {
  return { name, type: 'fixed', precision: 19, scale: 0, length: null, byteLength: null, nullable };
}
