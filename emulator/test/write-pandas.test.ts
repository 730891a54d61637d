/**
 * The Snowflake Connector for Python's `write_pandas` (4.x with pandas and pyarrow, from PyPI into
 * `.floe/pyclients/snowflake-connector-python-4` by scripts/bootstrap.mjs) against the emulator: a DataFrame of
 * INT, FLOAT, decimal, unicode VARCHAR, BOOLEAN, DATE and TIMESTAMP columns with NULLs into a new table
 * (`auto_create_table=True`: temporary stage and file format, PUT of Parquet, INFER_SCHEMA, COPY with a
 * transformation from the quoted stage), read back exactly; an append; `overwrite=True` with
 * `auto_create_table=True` (a new table renamed over the old one) and without (TRUNCATE, then COPY).
 * The client runs as its own process (clients/write_pandas.py) and reports what it saw as JSON.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { floeHome } from '../src/paths.js';
import { runClientProgram, suiteEmulator } from './helpers.js';

const emu = suiteEmulator();
const python = path.join(floeHome, 'pyclients', 'snowflake-connector-python-4', 'bin', 'python');
const script = path.join(import.meta.dirname, 'clients', 'write_pandas.py');

describe('write_pandas (snowflake-connector-python 4.x)', () => {
  it('creates a table for a DataFrame, reads it back exactly, appends, and overwrites', async () => {
    const seen = await runClientProgram(emu(), python, [script], 'WRITE_PANDAS');
    expect(seen.version).toMatch(/^4\./);
    expect(seen.created).toEqual({
      result: [true, 1, 3],
      columns: [
        ['ID', 'NUMBER'],
        ['SCORE', 'FLOAT'],
        ['PRICE', 'NUMBER'],
        ['NAME', 'TEXT'],
        ['ACTIVE', 'BOOLEAN'],
        ['DAY', 'DATE'],
        ['AT', 'TIMESTAMP_NTZ'],
      ],
      rows: [
        ['1', '1.5', '12.34', 'héllo', 'True', '2024-02-29', '2024-01-02 03:04:05.123456'],
        ['2', '-0.25', '-0.01', '日本語 ✓', 'False', '1999-12-31', '1970-01-01 00:00:00'],
        ['3', null, null, null, null, null, null],
      ],
    });
    expect(seen.appended).toBe(4);
    expect(seen.overwritten).toEqual({
      result: [true, 2],
      columns: ['ID', 'NAME'],
      rows: [
        ['10', 'zehn'],
        ['11', 'elf'],
      ],
    });
    expect(seen.overwritten_in_place).toEqual([['12', 'zwölf']]);
  });
});
