import { describe, expect, it } from 'vitest';
import {
  mapColumn,
  mapColumns,
  planEvolution,
  UnsupportedTypeError,
  loadExpr,
  unloadExpr,
} from '../../src/sql/typemap.js';

const T = 'DB.S.T';
const col = (DATA_TYPE: string, extra: Record<string, unknown> = {}) =>
  mapColumn(T, { COLUMN_NAME: 'C', DATA_TYPE, ...extra });

describe('typemap', () => {
  it('maps NUMBER by precision and scale, never to DOUBLE', () => {
    expect(col('NUMBER', { NUMERIC_PRECISION: '18', NUMERIC_SCALE: '0' }).duckdbType).toBe('BIGINT');
    expect(col('NUMBER', { NUMERIC_PRECISION: '19', NUMERIC_SCALE: '0' }).duckdbType).toBe('DECIMAL(19,0)');
    expect(col('NUMBER', { NUMERIC_PRECISION: '38', NUMERIC_SCALE: '0' }).duckdbType).toBe('DECIMAL(38,0)');
    expect(col('NUMBER', { NUMERIC_PRECISION: '12', NUMERIC_SCALE: '2' }).duckdbType).toBe('DECIMAL(12,2)');
    expect(col('NUMBER', { NUMERIC_PRECISION: '38', NUMERIC_SCALE: '37' }).duckdbType).toBe('DECIMAL(38,37)');
    expect(col('NUMBER').duckdbType).toBe('DECIMAL(38,0)');
    expect(col('NUMBER', { NUMERIC_PRECISION: 5, NUMERIC_SCALE: 0 }).sourceType).toBe('NUMBER(5,0)');
  });
  it('maps the other families', () => {
    const cases: Record<string, string> = {
      FLOAT: 'DOUBLE',
      DOUBLE: 'DOUBLE',
      REAL: 'DOUBLE',
      TEXT: 'VARCHAR',
      VARCHAR: 'VARCHAR',
      CHAR: 'VARCHAR',
      STRING: 'VARCHAR',
      BINARY: 'BLOB',
      VARBINARY: 'BLOB',
      BOOLEAN: 'BOOLEAN',
      DATE: 'DATE',
      TIME: 'TIME',
      TIMESTAMP_NTZ: 'TIMESTAMP',
      TIMESTAMP_LTZ: 'TIMESTAMPTZ',
      TIMESTAMP_TZ: 'TIMESTAMPTZ',
      VARIANT: 'JSON',
      OBJECT: 'JSON',
      ARRAY: 'JSON',
    };
    for (const [sf, duck] of Object.entries(cases)) expect([sf, col(sf).duckdbType]).toEqual([sf, duck]);
  });
  it('refuses GEOGRAPHY, GEOMETRY, VECTOR naming table and column', () => {
    for (const t of ['GEOGRAPHY', 'GEOMETRY', 'VECTOR(FLOAT, 3)', 'MYSTERY']) {
      expect(() => col(t)).toThrow(UnsupportedTypeError);
      expect(() => col(t)).toThrow(/column C of DB\.S\.T has type/);
    }
    try {
      col('GEOGRAPHY');
    } catch (e) {
      expect((e as Error).name).toBe('UnsupportedType');
    }
  });
  it('orders columns by ORDINAL_POSITION', () => {
    const cols = mapColumns(T, [
      { COLUMN_NAME: 'B', DATA_TYPE: 'TEXT', ORDINAL_POSITION: '2' },
      { COLUMN_NAME: 'A', DATA_TYPE: 'TEXT', ORDINAL_POSITION: '1' },
    ]);
    expect(cols.map((c) => c.name)).toEqual(['A', 'B']);
  });
  it('unloads TZ/LTZ as UTC NTZ and semi-structured as JSON text', () => {
    expect(unloadExpr(col('TIMESTAMP_TZ'))).toBe(`CONVERT_TIMEZONE('UTC', "C")::TIMESTAMP_NTZ AS "C"`);
    expect(unloadExpr(col('TIMESTAMP_LTZ'))).toBe(`CONVERT_TIMEZONE('UTC', "C")::TIMESTAMP_NTZ AS "C"`);
    expect(unloadExpr(col('VARIANT'))).toBe(`TO_JSON("C") AS "C"`);
    expect(unloadExpr(col('NUMBER'))).toBe(`"C"`);
  });
  it('loads with explicit casts', () => {
    expect(loadExpr(col('TIMESTAMP_TZ'), 'parquet')).toBe('make_timestamptz(epoch_us(CAST("C" AS TIMESTAMP)))');
    expect(loadExpr(col('BINARY'), 'text')).toBe('unhex("C")');
    expect(loadExpr(col('BINARY'), 'parquet')).toBe('CAST("C" AS BLOB)');
    expect(loadExpr(col('NUMBER', { NUMERIC_PRECISION: 38, NUMERIC_SCALE: 0 }), 'parquet')).toBe(
      'CAST("C" AS DECIMAL(38,0))',
    );
  });
  it('plans schema evolution: add, widen, refuse', () => {
    const planned = mapColumns(T, [
      { COLUMN_NAME: 'ID', DATA_TYPE: 'NUMBER', NUMERIC_PRECISION: 38, NUMERIC_SCALE: 0, ORDINAL_POSITION: 1 },
      { COLUMN_NAME: 'TS', DATA_TYPE: 'TIMESTAMP_TZ', ORDINAL_POSITION: 2 },
      { COLUMN_NAME: 'NEW', DATA_TYPE: 'TEXT', ORDINAL_POSITION: 3 },
      { COLUMN_NAME: 'X', DATA_TYPE: 'TEXT', ORDINAL_POSITION: 4 },
    ]);
    const ev = planEvolution(
      [
        { name: 'ID', type: 'BIGINT' },
        { name: 'TS', type: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'X', type: 'INTEGER' },
        { name: 'OLD', type: 'VARCHAR' },
      ],
      planned,
    );
    expect(ev.add.map((c) => c.name)).toEqual(['NEW']);
    expect(ev.widen.map((c) => c.name)).toEqual(['ID']);
    expect(ev.conflicts).toEqual(['X: target has INTEGER, source TEXT needs VARCHAR']);
  });
});
