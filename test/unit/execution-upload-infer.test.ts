/** Execution upload: column inference, column and table names, and the rows a load sends. */
import { describe, expect, it } from 'vitest';
import {
  ColumnStats,
  columnNames,
  loadTable,
  loadText,
  targetTableName,
  type JsonKind,
} from '../../src/jobs/execution-upload/infer.js';

const typeOf = (values: [JsonKind, string][]) => {
  const s = new ColumnStats();
  for (const [k, j] of values) s.observe(k, j);
  return s.type();
};

describe('column inference', () => {
  it('maps JSON values to Snowflake types', () => {
    expect(typeOf([])).toBe('VARCHAR');
    expect(typeOf([['null', 'null']])).toBe('VARCHAR');
    expect(
      typeOf([
        ['boolean', 'true'],
        ['null', 'null'],
        ['boolean', 'false'],
      ]),
    ).toBe('BOOLEAN');
    expect(
      typeOf([
        ['number', '1'],
        ['number', '-20'],
      ]),
    ).toBe('NUMBER(38,0)');
    expect(
      typeOf([
        ['number', '1.5'],
        ['number', '2.125'],
      ]),
    ).toBe('NUMBER(38,3)');
    expect(typeOf([['number', '1'.repeat(38)]])).toBe('NUMBER(38,0)');
    expect(
      typeOf([
        ['number', '0.5'],
        ['number', '-007.10'],
      ]),
    ).toBe('NUMBER(38,2)');
    expect(typeOf([['number', '0' + '1'.repeat(37) + '.0']])).toBe('NUMBER(38,1)');
    expect(typeOf([['number', '1e5']])).toBe('FLOAT');
    expect(typeOf([['number', '1.']])).toBe('FLOAT');
    expect(typeOf([['string', '2024-01-15x']])).toBe('VARCHAR');
    expect(typeOf([['string', '2024/01/15']])).toBe('VARCHAR');
    expect(typeOf([['number', '1'.repeat(36) + '.123']])).toBe('FLOAT');
    expect(typeOf([['string', '2024-02-29']])).toBe('DATE');
    expect(typeOf([['string', '2023-02-29']])).toBe('VARCHAR');
    expect(
      typeOf([
        ['string', '2000-02-29'],
        ['string', '1999-12-31'],
      ]),
    ).toBe('DATE');
    expect(typeOf([['string', '1900-02-29']])).toBe('VARCHAR');
    expect(typeOf([['string', '2024-04-31']])).toBe('VARCHAR');
    expect(typeOf([['string', '2024-13-01']])).toBe('VARCHAR');
    expect(
      typeOf([
        ['string', '2024-01-15T10:00:00+05:45'],
        ['string', '2024-01-15 10:00:00Z'],
      ]),
    ).toBe('TIMESTAMP_TZ');
    expect(typeOf([['string', '2024-01-15T10:00:00.123456789']])).toBe('TIMESTAMP_NTZ');
    expect(
      typeOf([
        ['string', '2024-01-15T10:00:00'],
        ['string', '2024-01-15T10:00:00Z'],
      ]),
    ).toBe('VARCHAR');
    expect(
      typeOf([
        ['string', 'x'],
        ['number', '1'],
      ]),
    ).toBe('VARCHAR');
    expect(
      typeOf([
        ['object', '{"a": 1}'],
        ['string', 'x'],
      ]),
    ).toBe('VARIANT');
    expect(typeOf([['array', '[1]']])).toBe('VARIANT');
  });

  it('loads exact text per type', () => {
    expect(loadText('null', 'null', 'VARCHAR')).toBeNull();
    expect(loadText('string', 'a "b"', 'VARCHAR')).toBe('a "b"');
    expect(loadText('string', 'a "b"\n', 'VARIANT')).toBe('"a \\"b\\"\\n"');
    expect(loadText('number', '12345678901234567890123', 'NUMBER(38,0)')).toBe('12345678901234567890123');
    expect(loadText('boolean', 'true', 'BOOLEAN')).toBe('true');
  });

  it('names columns: plain keys upper-cased, others kept, collisions numbered', () => {
    expect(columnNames(['id', 'Name', 'a b', 'ID', '', 'ok$'])).toEqual(['ID', 'NAME', 'a b', 'ID_2', 'COLUMN', 'OK$']);
  });

  it('names target tables WORKFLOW_EXECUTION_<date>_<id>', () => {
    const d = new Date('2024-01-15T23:59:59Z');
    expect(targetTableName('exec_12345678', d)).toBe('WORKFLOW_EXECUTION_20240115_EXEC_12345678');
    expect(targetTableName('a-b', d)).toMatch(/^WORKFLOW_EXECUTION_20240115_A_B_[0-9A-F]{8}$/);
    expect(targetTableName('a-b', d)).not.toBe(targetTableName('a.b', d));
  });

  it('shapes cells into typed columns and text rows, absent keys as null', () => {
    const t = loadTable(['id', 'name', 'meta'], {
      texts: [['1', 'a'], ['2.5', null, '{"k": 1}'], [null, null], [], ['3', '"q"']],
      kinds: [['number', 'string'], ['number', 'null', 'object'], ['null', 'null'], [], ['number', 'string']],
    });
    expect(t.columns).toEqual([
      { key: 'id', name: 'ID', sfType: 'NUMBER(38,1)' },
      { key: 'name', name: 'NAME', sfType: 'VARCHAR' },
      { key: 'meta', name: 'META', sfType: 'VARIANT' },
    ]);
    expect(t.rows).toEqual([
      ['1', 'a', null],
      ['2.5', null, '{"k": 1}'],
      [null, null, null],
      [null, null, null],
      ['3', '"q"', null],
    ]);
  });
});
