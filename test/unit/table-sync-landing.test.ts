/**
 * How the stream method loads a batch into real DuckDB (`loadBatch`): each column's texts joined into
 * one parameter and split by DuckDB, or, when that cannot be exact, DuckDB's appender. Every case reads
 * the rows back and compares them with the texts given, NULL apart from the empty string.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mapColumns, typedSelect } from '../../src/sql/typemap.js';
import {
  attachLanding,
  loadBatch,
  type Landing,
  type LandingColumns,
} from '../../src/activities/table-sync/landing.js';

const cols = mapColumns('DB.S.T', [
  { COLUMN_NAME: 'ID', DATA_TYPE: 'NUMBER', NUMERIC_PRECISION: 38, NUMERIC_SCALE: 0, ORDINAL_POSITION: 1 },
  { COLUMN_NAME: 'A', DATA_TYPE: 'TEXT', ORDINAL_POSITION: 2 },
  { COLUMN_NAME: 'b"q', DATA_TYPE: 'TEXT', ORDINAL_POSITION: 3 },
]);
const UNIT_SEPARATOR = '\u001f';
const RECORD_SEPARATOR = '\u001e';

let instance: DuckDBInstance;
let conn: DuckDBConnection;
let landing: Landing;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  landing = await attachLanding(conn, cols);
  await conn.run('CREATE TABLE target (id DECIMAL(38,0), a VARCHAR, b VARCHAR)');
});
afterAll(async () => {
  await landing.detach();
  conn.closeSync();
  instance.closeSync();
});

/** Column-major texts of `rows` (each row `[a, b]`), with ids 1.. in front. */
const columnsOf = (rows: (string | null)[][], firstId = 1): LandingColumns => [
  rows.map((_, i) => String(firstId + i)),
  rows.map((r) => r[0]),
  rows.map((r) => r[1]),
];
const read = async (relation: string) =>
  (await conn.runAndReadAll(`SELECT * EXCLUDE (id) FROM ${relation} ORDER BY CAST(id AS INTEGER)`)).getRows();
const intoTarget = (relation: string) =>
  `INSERT INTO target SELECT CAST("ID" AS DECIMAL(38,0)), "A", "b""q" FROM ${relation}`;

/** Load `rows` into the typed target (as a full refresh does) and read them back; the target is emptied first. */
async function roundTrip(rows: (string | null)[][]) {
  await conn.run('DELETE FROM target');
  const way = await loadBatch(conn, landing, cols, columnsOf(rows), intoTarget);
  expect(await read(landing.relation)).toEqual([]);
  return { way, back: await read('target') };
}

describe('loadBatch', () => {
  it('splits a batch exactly: NULL stays apart from the empty string, in any mix', async () => {
    const rows = [
      ['', null],
      [null, null],
      ['x', null],
      ['', null],
    ];
    expect(await roundTrip(rows)).toEqual({ way: 'split', back: rows });
  });

  it('a batch of one row, an all-NULL column and an all-empty one', async () => {
    for (const rows of [[['', null]], [[null, '']], [['only', 'one']]])
      expect(await roundTrip(rows)).toEqual({ way: 'split', back: rows });
    const many = Array.from({ length: 1000 }, () => [null, '']);
    expect(await roundTrip(many)).toEqual({ way: 'split', back: many });
  });

  it('unicode, control characters, NUL, the record separator and a huge text come back as they were', async () => {
    const huge = 'é😀'.repeat(1_000_000);
    const rows = [
      ['naïve 😀 ∑ 中文', 'tab\tnew\nline\r"quote"\\'],
      ['\u0000nul', RECORD_SEPARATOR],
      [huge, 'a,b;c'],
    ];
    expect(await roundTrip(rows)).toEqual({ way: 'split', back: rows });
  });

  it('a text holding the separator: the batch goes through the appender, exact', async () => {
    const rows = [
      [`a${UNIT_SEPARATOR}b`, 'x'],
      [UNIT_SEPARATOR, null],
      ['', `${UNIT_SEPARATOR}${UNIT_SEPARATOR}`],
    ];
    expect(await roundTrip(rows)).toEqual({ way: 'appender', back: rows });
  });

  it('NULLs in a column that also holds the empty string and the record separator: the appender, exact', async () => {
    const rows = [
      [null, 'x'],
      ['', 'y'],
      [RECORD_SEPARATOR, null],
    ];
    expect(await roundTrip(rows)).toEqual({ way: 'appender', back: rows });
  });

  it('without an INSERT, batches accumulate in the landing table, a fallen-back one too', async () => {
    await conn.run(`DELETE FROM ${landing.relation}`);
    const first = [
      ['1', null],
      ['', '2'],
    ];
    const second = [[`3${UNIT_SEPARATOR}`, null]];
    const third = [[null, '']];
    expect(await loadBatch(conn, landing, cols, columnsOf(first, 1))).toBe('split');
    expect(await loadBatch(conn, landing, cols, columnsOf(second, 3))).toBe('appender');
    expect(await loadBatch(conn, landing, cols, columnsOf(third, 4))).toBe('split');
    expect(await read(landing.relation)).toEqual([...first, ...second, ...third]);
    await conn.run(`DELETE FROM ${landing.relation}`);
  });

  it('an INSERT that fails leaves nothing behind and throws DuckDB’s error', async () => {
    await conn.run('DELETE FROM target');
    const columns: LandingColumns = [
      ['1', 'not a number'],
      ['x', 'y'],
      [null, null],
    ];
    await expect(loadBatch(conn, landing, cols, columns, intoTarget)).rejects.toThrow(/not a number/);
    expect(await read('target')).toEqual([]);
    expect(await read(landing.relation)).toEqual([]);
  });
});

describe('typed load of the texts Snowflake formats for the stream (streamExpr)', () => {
  const temporal = mapColumns('DB.S.TT', [
    { COLUMN_NAME: 'D', DATA_TYPE: 'DATE', ORDINAL_POSITION: 1 },
    { COLUMN_NAME: 'TM', DATA_TYPE: 'TIME', ORDINAL_POSITION: 2 },
    { COLUMN_NAME: 'NTZ', DATA_TYPE: 'TIMESTAMP_NTZ', ORDINAL_POSITION: 3 },
    { COLUMN_NAME: 'TZ', DATA_TYPE: 'TIMESTAMP_TZ', ORDINAL_POSITION: 4 },
  ]);

  it('keeps microseconds and drops the nanoseconds beyond them (never rounds into the next second or day)', async () => {
    const typed = await attachLanding(conn, temporal);
    try {
      await conn.run(
        `CREATE OR REPLACE TABLE temporal (${temporal.map((c) => `"${c.name}" ${c.duckdbType}`).join(', ')})`,
      );
      const columns: LandingColumns = [
        ['0001-01-01', '1969-12-31', '9999-12-31', null],
        ['23:59:59.999999999', '00:00:00.000000000', '12:00:00.123456789', null],
        ['9999-12-31 23:59:59.999999999', '1969-12-31 23:59:59.999999500', '0001-01-01 00:00:00.000000001', null],
        ['2024-01-01 04:15:00.123456789', '1970-01-01 00:00:00.000000000', '1969-12-31 23:59:59.999999999', null],
      ];
      const way = await loadBatch(
        conn,
        typed,
        temporal,
        columns,
        (relation) => `INSERT INTO temporal ${typedSelect(temporal, 'text', relation)}`,
      );
      expect(way).toBe('split');
      const back = await conn.runAndReadAll(
        `SELECT CAST("D" AS VARCHAR), CAST("TM" AS VARCHAR), CAST("NTZ" AS VARCHAR), CAST(epoch_us("TZ") AS VARCHAR) FROM temporal`,
      );
      expect(back.getRows()).toEqual([
        [
          '0001-01-01',
          '23:59:59.999999',
          '9999-12-31 23:59:59.999999',
          String(Date.UTC(2024, 0, 1, 4, 15) * 1000 + 123456),
        ],
        ['1969-12-31', '00:00:00', '1969-12-31 23:59:59.999999', '0'],
        ['9999-12-31', '12:00:00.123456', '0001-01-01 00:00:00', '-1'],
        [null, null, null, null],
      ]);
    } finally {
      await typed.detach();
    }
  });
});
