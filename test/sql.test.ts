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
} from '../src/sql/quote.js';
import { mapColumns } from '../src/sql/typemap.js';
import * as S from '../src/sql/tableSync.js';
import * as Stage from '../src/connectors/snowflake-stage.js';
import {
  compareValueText,
  formatEpochMicros,
  parseTimestampText,
  snowflakeValueLiteral,
  streamValueToText,
  subtractLag,
} from '../src/sql/values.js';

const t = { database: 'DB', schema: 'S', table: 'T' };
const cols = mapColumns('DB.S.T', [
  { COLUMN_NAME: 'ID', DATA_TYPE: 'NUMBER', NUMERIC_PRECISION: 38, NUMERIC_SCALE: 0, ORDINAL_POSITION: 1 },
  { COLUMN_NAME: 'UPDATED', DATA_TYPE: 'TIMESTAMP_TZ', ORDINAL_POSITION: 2 },
  { COLUMN_NAME: 'v"q', DATA_TYPE: 'VARIANT', ORDINAL_POSITION: 3 },
]);
const [id, upd] = cols;

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

describe('table sync SQL', () => {
  it('Snowflake metadata', () => {
    expect(S.columnsQuery({ ...t, schema: "S'x" })).toBe(
      `SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION, IS_NULLABLE, ORDINAL_POSITION FROM "DB".INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'S''x' AND TABLE_NAME = 'T' ORDER BY ORDINAL_POSITION`,
    );
    expect(S.tableStatsQuery(t)).toBe(
      `SELECT ROW_COUNT, BYTES, LAST_ALTERED FROM "DB".INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'S' AND TABLE_NAME = 'T'`,
    );
    expect(S.countQuery(t)).toBe('SELECT COUNT(*) AS N FROM "DB"."S"."T"');
  });
  it('unload, list, get, remove', () => {
    const p = snowflakeStagePath(['W', 'PUBLIC', 'FLOE_STAGE'], 'j1');
    const where = S.whereClause({ watermark: upd, lower: '2024-01-01 00:00:00.000000', inclusive: true });
    expect(Stage.unloadSql(p, S.unloadSelect(t, cols, where), 64 << 20)).toBe(
      `COPY INTO @"W"."PUBLIC"."FLOE_STAGE"/j1/ FROM (SELECT "ID", CONVERT_TIMEZONE('UTC', "UPDATED")::TIMESTAMP_NTZ AS "UPDATED", TO_JSON("v""q") AS "v""q" FROM "DB"."S"."T" WHERE "UPDATED" >= '2024-01-01 00:00:00.000000 +00:00'::TIMESTAMP_TZ) FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE OVERWRITE = TRUE MAX_FILE_SIZE = 67108864`,
    );
    expect(Stage.createStageSql(['W', 'PUBLIC', 'FLOE_STAGE'])).toBe(
      'CREATE STAGE IF NOT EXISTS "W"."PUBLIC"."FLOE_STAGE"',
    );
    expect(Stage.listSql(p)).toBe('LIST @"W"."PUBLIC"."FLOE_STAGE"/j1/');
    expect(Stage.getSql(p, '/tmp/x', 8)).toBe(`GET @"W"."PUBLIC"."FLOE_STAGE"/j1/ 'file:///tmp/x/' PARALLEL = 8`);
    expect(Stage.removeSql(p)).toBe('REMOVE @"W"."PUBLIC"."FLOE_STAGE"/j1/');
  });
  it('stream pages on (watermark, key)', () => {
    const where = S.whereClause(
      { watermark: upd, lower: '2024-01-01 00:00:00.000000', inclusive: true },
      {
        watermark: upd,
        key: id,
        afterWatermark: '2024-01-02 00:00:00.5',
        afterKey: '10000000000000000000000000000000000001',
      },
    );
    expect(S.streamSelect(t, cols.slice(0, 2), { where, orderBy: [upd, id], limit: 5000 })).toBe(
      `SELECT "ID", "UPDATED" FROM "DB"."S"."T" WHERE "UPDATED" >= '2024-01-01 00:00:00.000000 +00:00'::TIMESTAMP_TZ AND ("UPDATED" > '2024-01-02 00:00:00.500000 +00:00'::TIMESTAMP_TZ OR ("UPDATED" = '2024-01-02 00:00:00.500000 +00:00'::TIMESTAMP_TZ AND "ID" > 10000000000000000000000000000000000001)) ORDER BY "UPDATED", "ID" LIMIT 5000`,
    );
    expect(S.whereClause({ watermark: id, lower: '5', inclusive: false })).toBe('"ID" > 5');
  });
  it("a full-refresh stream reads the whole table's COUNT(*) in the statement that reads its rows", () => {
    const where = S.whereClause(null, { watermark: id, key: null, afterWatermark: '7', afterKey: null });
    expect(S.streamSelect(t, cols.slice(0, 1), { where, orderBy: [id], limit: 5, countSource: true })).toBe(
      'SELECT * FROM (SELECT "ID", COUNT(*) OVER () AS "_FLOE_SOURCE_ROWS" FROM "DB"."S"."T") WHERE "ID" > 7 ORDER BY "ID" LIMIT 5',
    );
  });
  it('DuckDB DDL, load, merge, state', () => {
    expect(S.createTableSql(['S', 'T'], cols)).toBe(
      'CREATE TABLE "S"."T" ("ID" DECIMAL(38,0), "UPDATED" TIMESTAMPTZ, "v""q" JSON)',
    );
    expect(S.addColumnSql(['S', 'T'], id)).toBe('ALTER TABLE "S"."T" ADD COLUMN "ID" DECIMAL(38,0)');
    expect(S.widenColumnSql(['S', 'T'], id)).toBe('ALTER TABLE "S"."T" ALTER COLUMN "ID" SET DATA TYPE DECIMAL(38,0)');
    const sel = S.typedSelect(cols, 'parquet', S.readParquetSource(['/d/a.parquet', '/d/b.parquet']));
    expect(sel).toBe(
      `SELECT CAST("ID" AS DECIMAL(38,0)) AS "ID", make_timestamptz(epoch_us(CAST("UPDATED" AS TIMESTAMP))) AS "UPDATED", CAST("v""q" AS JSON) AS "v""q" FROM read_parquet(['/d/a.parquet', '/d/b.parquet'])`,
    );
    expect(S.insertSelectSql(['S', '_floe_staging_T'], cols, 'SELECT 1')).toBe(
      'INSERT INTO "S"."_floe_staging_T" ("ID", "UPDATED", "v""q") SELECT 1',
    );
    expect(S.dedupSelect('SELECT 1', [id], upd)).toBe(
      'SELECT * FROM (SELECT 1) QUALIFY row_number() OVER (PARTITION BY "ID" ORDER BY "UPDATED" DESC) = 1',
    );
    expect(S.mergeSql(['S', 'T'], cols, [id], 'SELECT 1')).toBe(
      'MERGE INTO "S"."T" AS t USING (SELECT 1) AS s ON t."ID" = s."ID" WHEN MATCHED THEN UPDATE SET "UPDATED" = s."UPDATED", "v""q" = s."v""q" WHEN NOT MATCHED THEN INSERT ("ID", "UPDATED", "v""q") VALUES (s."ID", s."UPDATED", s."v""q")',
    );
    expect(S.canonicalTextExpr(upd, 'max("UPDATED")')).toBe(
      `strftime(make_timestamp(epoch_us(max("UPDATED"))), '%Y-%m-%d %H:%M:%S.%f')`,
    );
    expect(S.defaultTarget(t)).toEqual({ schema: 'DB__S', table: 'T' });
    expect(S.stagingParts(S.defaultTarget(t))).toEqual(['DB__S', '_floe_staging_T']);
    expect(S.matchedKeysSql(['S', 'T'], [id], 'temp.main."b"')).toBe(
      'SELECT count(*) FROM temp.main."b" AS s WHERE EXISTS (SELECT 1 FROM "S"."T" AS t WHERE t."ID" = s."ID")',
    );
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
  it('driver values to landing text', () => {
    const ts = Object.assign(new Date(0), { getEpochSeconds: () => 1704082500, getNanoSeconds: () => 123456789 });
    expect(streamValueToText(upd, ts)).toBe('2024-01-01 04:15:00.123456');
    expect(streamValueToText(id, '10000000000000000000000000000000000001')).toBe(
      '10000000000000000000000000000000000001',
    );
    expect(streamValueToText(id, null)).toBeNull();
    expect(streamValueToText({ ...id, family: 'TIME' }, '23:59:59.123456789')).toBe('23:59:59.123456');
    expect(S.streamExpr({ ...id, name: 'TM', family: 'TIME' })).toBe(`TO_VARCHAR("TM", 'HH24:MI:SS.FF9') AS "TM"`);
  });
});

import { classifyError, toFailure, NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';
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
