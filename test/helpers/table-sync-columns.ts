/**
 * Column plans the SQL tests share: `DB.S.T` with a NUMBER(38,0) key `ID`, a TIMESTAMP_TZ watermark
 * `UPDATED` and a VARIANT with a quote in its name, mapped by the real type map.
 */
import { mapColumns } from '../../src/sql/typemap.js';

export const t = { database: 'DB', schema: 'S', table: 'T' };
export const cols = mapColumns('DB.S.T', [
  { COLUMN_NAME: 'ID', DATA_TYPE: 'NUMBER', NUMERIC_PRECISION: 38, NUMERIC_SCALE: 0, ORDINAL_POSITION: 1 },
  { COLUMN_NAME: 'UPDATED', DATA_TYPE: 'TIMESTAMP_TZ', ORDINAL_POSITION: 2 },
  { COLUMN_NAME: 'v"q', DATA_TYPE: 'VARIANT', ORDINAL_POSITION: 3 },
]);
export const [id, upd] = cols;
