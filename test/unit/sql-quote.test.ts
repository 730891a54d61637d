import { describe, expect, it } from 'vitest';
import {
  quoteSnowflakeIdent,
  quoteSnowflakeName,
  quoteDuckDbName,
  quotePgName,
  snowflakeLiteral,
  duckDbLiteral,
  snowflakeStagePath,
  InvalidIdentifierError,
} from '../../src/sql/quote.js';
import { id, upd } from '../helpers/table-sync-columns.js';
import {
  compareValueText,
  formatEpochMicros,
  parseTimestampText,
  snowflakeValueLiteral,
  streamCellText,
  streamValueToText,
  subtractLag,
} from '../../src/sql/values.js';

describe('quote', () => {
  it('quotes per dialect and doubles quotes', () => {
    expect(quoteSnowflakeIdent('a"b')).toBe('"a""b"');
    expect(quoteSnowflakeName('db', 'S', 'T')).toBe('"db"."S"."T"');
    expect(quoteDuckDbName('S', 'x y')).toBe('"S"."x y"');
    expect(quotePgName('public', 'Tab')).toBe('"public"."Tab"');
    expect(snowflakeLiteral("it's \\")).toBe("'it''s \\\\'");
    expect(duckDbLiteral("/tmp/a'b")).toBe("'/tmp/a''b'");
    expect(() => quoteSnowflakeIdent('')).toThrow(InvalidIdentifierError);
    expect(snowflakeStagePath(['DB', 'S', 'FLOE_STAGE'], 'job-1')).toBe('@"DB"."S"."FLOE_STAGE"/job-1/');
    expect(() => snowflakeStagePath(['DB', 'S', 'X'], "a'; DROP")).toThrow(InvalidIdentifierError);
  });
});

describe('values', () => {
  it('timestamps round-trip as UTC microseconds, extreme dates included', () => {
    expect(formatEpochMicros(parseTimestampText('0001-01-01 00:00:00'))).toBe('0001-01-01 00:00:00.000000');
    expect(formatEpochMicros(parseTimestampText('9999-12-31 23:59:59.999999999'))).toBe('9999-12-31 23:59:59.999999');
    expect(formatEpochMicros(-1n)).toBe('1969-12-31 23:59:59.999999');
  });
  it('lag arithmetic per family', () => {
    expect(subtractLag(upd, '2024-01-01 00:00:10.000000', 60)).toBe('2023-12-31 23:59:10.000000');
    expect(subtractLag(id, '10000000000000000000000000000000000001', 2)).toBe('9999999999999999999999999999999999999');
    expect(subtractLag({ ...id, family: 'NUMBER' }, '10.50', 1)).toBe('9.50');
    expect(subtractLag(upd, '2024-01-01 00:00:10.000000', 0)).toBe('2024-01-01 00:00:10.000000');
    expect(
      compareValueText(id, '10000000000000000000000000000000000001', '10000000000000000000000000000000000000'),
    ).toBe(1);
  });
  it('literals are validated', () => {
    expect(snowflakeValueLiteral(id, '42')).toBe('42');
    expect(() => snowflakeValueLiteral(id, '1; DROP TABLE x')).toThrow(/not a number/);
  });
  it('driver values to canonical text (cursors, high-water marks)', () => {
    const date = { ...id, family: 'DATE' as const };
    expect(streamValueToText(upd, '2024-01-01 04:15:00.123456789')).toBe('2024-01-01 04:15:00.123456');
    expect(streamValueToText(upd, '0001-01-01 00:00:00.000000000')).toBe('0001-01-01 00:00:00.000000');
    expect(streamValueToText(date, '0001-01-01')).toBe('0001-01-01');
    expect(() => streamValueToText(date, '1/1/2024')).toThrow(/unexpected driver value/);
    expect(() => streamValueToText(upd, new Date(0))).toThrow(/unexpected driver value/);
    expect(streamValueToText(id, '10000000000000000000000000000000000001')).toBe(
      '10000000000000000000000000000000000001',
    );
    expect(streamValueToText(id, null)).toBeNull();
    expect(streamValueToText({ ...id, family: 'TIME' }, '23:59:59.123456789')).toBe('23:59:59.123456');
    expect(streamValueToText({ ...id, family: 'BOOLEAN' }, true)).toBe('true');
  });
  it('landing text of cells that are not strings', () => {
    expect(streamCellText(id, null)).toBeNull();
    expect(streamCellText(id, 42)).toBe('42');
    expect(streamCellText({ ...id, family: 'VARIANT' }, { a: [1] })).toBe('{"a":[1]}');
    expect(streamCellText({ ...id, family: 'BINARY' }, Uint8Array.of(0xde, 0xad))).toBe('DEAD');
    expect(streamCellText({ ...id, family: 'BOOLEAN' }, false)).toBe('false');
    expect(() => streamCellText({ ...id, family: 'DATE' }, new Date(0))).toThrow(/unexpected driver value/);
  });
});

import { classifyError, toFailure, NON_RETRYABLE_ERROR_TYPES } from '../../src/errors.js';
describe('error taxonomy', () => {
  const sf = (code: string, sqlState: string) => Object.assign(new Error('x'), { code, sqlState });
  it('maps Snowflake, DuckDB and floe errors in one place', () => {
    expect(classifyError(sf('002003', '02000'))).toBe('TableNotFound');
    expect(classifyError(sf('002049', '42601'))).toBe('InvalidRequest');
    expect(classifyError(sf('100038', '22018'))).toBe('DataConversion');
    expect(classifyError(sf('000603', 'XX000'))).toBe('Transient');
    expect(classifyError(new Error('Conversion Error: Could not convert'))).toBe('DataConversion');
    expect(classifyError(Object.assign(new Error('boom'), { code: 'ECONNRESET' }))).toBe('Transient');
    expect(classifyError(Object.assign(new Error('geo'), { name: 'UnsupportedType' }))).toBe('UnsupportedType');
    const f = toFailure(sf('002003', '02000'));
    expect(f.type).toBe('TableNotFound');
    expect(f.nonRetryable).toBe(true);
    expect(toFailure(sf('000603', 'XX000')).nonRetryable).toBe(false);
    expect(NON_RETRYABLE_ERROR_TYPES).toEqual(
      expect.arrayContaining(['TableNotFound', 'UnsupportedType', 'InvalidRequest', 'SchemaMismatch']),
    );
  });

  it('masks passwords of connection strings in the failure and its whole cause chain', () => {
    const inner = new Error(
      'IO Error: Unable to connect to Postgres at "host=db user=lake password=pw-dsn dbname=lake"',
    );
    const outer = new Error('attach failed for postgres://lake:pw-url@db:5432/lake', { cause: inner });
    const f = toFailure(outer, 'cache refresh');
    const text = [
      f.message,
      f.stack,
      (f.cause as Error).message,
      (f.cause as Error).stack,
      inner.message,
      inner.stack,
    ].join('\n');
    expect(text).not.toContain('pw-dsn');
    expect(text).not.toContain('pw-url');
    expect(f.message).toBe('cache refresh: attach failed for postgres://lake:***@db:5432/lake');
    expect(inner.message).toContain('user=lake password=*** dbname=lake');
  });
});
